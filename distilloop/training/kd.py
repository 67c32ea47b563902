"""Logit knowledge distillation: the loss, the teacher check, and an SFT trainer that adds the teacher.

loss = (1 - alpha) * CE(student, labels) + alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)),
both terms over completion tokens only (labels != -100). The T^2 keeps the KL gradient on the same scale
as the CE gradient whatever the temperature (Hinton et al., 2015).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoTokenizer

from distilloop import UserError
from distilloop.training.sft import IGNORE_INDEX, CompletionSFTTrainer


class KDLoss(NamedTuple):
    loss: torch.Tensor  # what is back-propagated
    ce: torch.Tensor  # per-token cross-entropy (detached, for the logs)
    kl: torch.Tensor  # per-token KL at temperature T, without the T^2 factor (detached)


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    alpha: float,
    temperature: float,
    num_items: int | torch.Tensor | None = None,
) -> KDLoss:
    """The distillation loss of a batch. Logits are [batch, seq, vocab], labels [batch, seq] with -100 on
    tokens that carry no loss (prompt, padding). The logits at position t predict the label at t + 1.
    `num_items` is the number of loss tokens the sum is divided by (the whole accumulated batch's when
    gradients are accumulated); by default those of this batch."""
    target = labels[:, 1:]
    mask = target != IGNORE_INDEX
    return token_kd_loss(
        student_logits[:, :-1][mask], teacher_logits[:, :-1][mask], target[mask], alpha, temperature, num_items
    )


def token_kd_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    target: torch.Tensor,
    alpha: float,
    temperature: float,
    num_items: int | torch.Tensor | None = None,
) -> KDLoss:
    """kd_loss over loss tokens already picked out: logits [tokens, vocab], target [tokens]."""
    student, teacher = student.float(), teacher.float()
    count = torch.tensor(target.numel())
    denominator = torch.as_tensor(num_items if num_items is not None else count, dtype=torch.float32).clamp(min=1)
    ce_sum = F.cross_entropy(student, target, reduction="sum")
    kl_sum = F.kl_div(
        F.log_softmax(student / temperature, dim=-1),
        F.log_softmax(teacher / temperature, dim=-1),
        log_target=True,
        reduction="sum",
    )
    loss = ((1 - alpha) * ce_sum + alpha * temperature**2 * kl_sum) / denominator
    per_token = count.clamp(min=1)
    return KDLoss(loss, (ce_sum / per_token).detach(), (kl_sum / per_token).detach())


def check_same_vocabulary(teacher_dir: str | Path, student_tokenizer) -> None:
    """Logit KD compares distributions token by token: both models must index the same vocabulary."""
    try:
        teacher_tokenizer = AutoTokenizer.from_pretrained(teacher_dir)
    except (OSError, ValueError) as exc:
        raise UserError(
            f"train.kd.teacher: cannot load a tokenizer from {teacher_dir}: {str(exc).splitlines()[0]}"
        ) from None
    teacher_vocab, student_vocab = teacher_tokenizer.get_vocab(), student_tokenizer.get_vocab()
    if teacher_vocab != student_vocab:
        raise UserError(
            f"train.kd.teacher: the teacher's vocabulary ({len(teacher_vocab)} tokens) differs from the "
            f"student's ({len(student_vocab)} tokens); logit distillation needs the same tokenizer"
        )


def load_teacher(teacher_dir: str | Path, student_tokenizer, dtype: torch.dtype = torch.float32):
    """The frozen teacher model in `dtype`, after checking it shares the student's vocabulary. The trainer
    moves it to the training device (train.device)."""
    teacher_dir = Path(teacher_dir)
    if not teacher_dir.is_dir():
        raise UserError(f"train.kd.teacher: {teacher_dir} is not a local model directory")
    check_same_vocabulary(teacher_dir, student_tokenizer)
    teacher = AutoModelForCausalLM.from_pretrained(teacher_dir, dtype=dtype)
    teacher.eval().requires_grad_(False)
    return teacher


class KDTrainer(CompletionSFTTrainer):
    """SFT on prompt-completion data with the teacher's logits as soft targets. The teacher runs under
    no_grad (inside the trainer's autocast), on the same tokens as the student; both LM heads run at the
    completion positions only."""

    def __init__(self, *args, teacher, alpha: float, temperature: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.teacher = teacher.to(self.args.device)
        self.kd_alpha, self.kd_temperature = alpha, temperature
        self.vocab_size = len(self.processing_class)  # models may pad their embeddings past the tokenizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if return_outputs:
            raise NotImplementedError("KDTrainer computes logits at loss positions only; it has no full outputs")
        mode = "train" if model.training else "eval"
        model_inputs = {key: value for key, value in inputs.items() if key != "labels"}
        target = inputs["labels"][:, 1:]
        mask = target != IGNORE_INDEX
        student = self.completion_logits(model, model_inputs, mask)[:, : self.vocab_size]
        with torch.no_grad():
            teacher = self.completion_logits(self.teacher, model_inputs, mask)[:, : self.vocab_size]
        result = token_kd_loss(student, teacher, target[mask], self.kd_alpha, self.kd_temperature, num_items_in_batch)
        self._metrics[mode]["ce"].append(result.ce.item())
        self._metrics[mode]["kl"].append(result.kl.item())
        return self.scaled_for_processes(result.loss, num_items_in_batch)
