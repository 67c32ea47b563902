"""Logit distillation: the loss against independent computations, the vocabulary check, and train@N with
method kd on the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import SHARED_SYSTEM_PROMPT

from distilloop import UserError
from distilloop.config import Params, RuntimeParams, TrainParams
from distilloop.training.kd import check_same_vocabulary, kd_loss
from stages import train as stage

VOCAB = 11


def batch(seed: int = 0):
    """Random logits for a batch of 2 x 6 tokens; labels mask the first 3 (prompt) and the last 1 (padding)
    of row 0 and the first 2 of row 1."""
    generator = torch.Generator().manual_seed(seed)
    student = torch.randn(2, 6, VOCAB, generator=generator) * 3
    teacher = torch.randn(2, 6, VOCAB, generator=generator) * 3
    labels = torch.randint(0, VOCAB, (2, 6), generator=generator)
    labels[0, :3] = -100
    labels[0, 5] = -100
    labels[1, :2] = -100
    return student, teacher, labels


def reference_terms(student, teacher, labels, temperature):
    """CE and KL summed over completion tokens, written out position by position."""
    ce, kl, count = 0.0, 0.0, 0
    for row in range(labels.shape[0]):
        for position in range(labels.shape[1] - 1):
            target = labels[row, position + 1].item()
            if target == -100:
                continue
            count += 1
            ce += -torch.log_softmax(student[row, position], -1)[target].item()
            p_teacher = torch.softmax(teacher[row, position] / temperature, -1)
            log_p_student = torch.log_softmax(student[row, position] / temperature, -1)
            kl += (p_teacher * (p_teacher.log() - log_p_student)).sum().item()
    return ce, kl, count


def test_identical_logits_give_zero_kl():
    student, _, labels = batch()
    result = kd_loss(student, student.clone(), labels, alpha=1.0, temperature=2.0)
    assert result.loss.item() == pytest.approx(0.0, abs=1e-6)
    assert result.kl.item() == pytest.approx(0.0, abs=1e-6)
    assert result.ce.item() > 0.5


@pytest.mark.parametrize("temperature", [1.0, 2.0, 4.0])
def test_alpha_moves_between_pure_ce_and_pure_kl(temperature):
    student, teacher, labels = batch(seed=int(temperature))
    ce, kl, count = reference_terms(student, teacher, labels, temperature)
    assert count == 6
    pure_ce = kd_loss(student, teacher, labels, alpha=0.0, temperature=temperature).loss.item()
    pure_kl = kd_loss(student, teacher, labels, alpha=1.0, temperature=temperature).loss.item()
    assert pure_ce == pytest.approx(ce / count, rel=1e-5)
    assert pure_ce == pytest.approx(
        F.cross_entropy(student[:, :-1].reshape(-1, VOCAB), labels[:, 1:].reshape(-1)).item(), rel=1e-5
    )
    assert pure_kl == pytest.approx(temperature**2 * kl / count, rel=1e-5)
    for alpha in (0.25, 0.5, 0.9):
        mixed = kd_loss(student, teacher, labels, alpha=alpha, temperature=temperature).loss.item()
        assert mixed == pytest.approx((1 - alpha) * pure_ce + alpha * pure_kl, rel=1e-5)


def test_masked_positions_carry_no_loss_and_no_gradient():
    student, teacher, labels = batch()
    student.requires_grad_(True)
    result = kd_loss(student, teacher, labels, alpha=0.5, temperature=2.0)
    result.loss.backward()
    # the logits at position t predict label t + 1: rows 0 positions 0,1 and 4,5; row 1 positions 0 and 5
    for row, position in [(0, 0), (0, 1), (0, 4), (0, 5), (1, 0), (1, 5)]:
        assert torch.all(student.grad[row, position] == 0), (row, position)
    assert student.grad[0, 2].abs().sum() > 0 and student.grad[1, 1].abs().sum() > 0


def test_num_items_sets_the_denominator():
    student, teacher, labels = batch()
    own = kd_loss(student, teacher, labels, alpha=0.5, temperature=2.0).loss.item()
    accumulated = kd_loss(student, teacher, labels, alpha=0.5, temperature=2.0, num_items=12).loss.item()
    assert accumulated == pytest.approx(own * 6 / 12, rel=1e-6)


def test_a_teacher_with_another_vocabulary_is_refused(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    student_tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    check_same_vocabulary(tiny_model_dir, student_tokenizer)  # the same tokenizer passes
    teacher_tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    teacher_tokenizer.add_tokens(["<teacher_only_token>"])
    teacher_tokenizer.save_pretrained(tmp_path)
    with pytest.raises(UserError) as error:
        check_same_vocabulary(tmp_path, student_tokenizer)
    message = str(error.value)
    assert "\n" not in message
    assert f"({len(student_tokenizer) + 1} tokens)" in message and f"({len(student_tokenizer)} tokens)" in message


def kd_params(teacher: Path, alpha: float, dtype: str = "float32") -> Params:
    return Params(
        train=TrainParams(
            method="kd",
            kd={"teacher": str(teacher), "alpha": alpha, "temperature": 2.0},
            epochs=1,
            batch_size=4,
            learning_rate=5e-3,
            eval_steps=2,
            dtype=dtype,
            early_stopping_patience=0,
        ),
        runtime=RuntimeParams(threads=1),
    )


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_kd_stage_with_the_base_as_teacher_starts_at_zero_kl(train_project, tiny_model_dir, dtype):
    # the epoch-0 adapter has B = 0, so the student is exactly the teacher: KL 0 at the first step. Under
    # bf16 autocast too: the teacher runs under the student's autocast, and the prompts share an opening
    # (the system prompt) that runs once, past the forward accelerate autocasts
    params = kd_params(tiny_model_dir, alpha=1.0, dtype=dtype)
    params.student.system_prompt = SHARED_SYSTEM_PROMPT
    metrics = stage.run(params, epoch=1)
    curves = Path("runs/epoch-1/live/plots/metrics")
    kl = [float(row.split("\t")[1]) for row in (curves / "kl.tsv").read_text().splitlines()[1:]]
    ce = [float(row.split("\t")[1]) for row in (curves / "ce.tsv").read_text().splitlines()[1:]]
    assert kl[0] == pytest.approx(0.0, abs=1e-6) and ce[0] > 5
    assert metrics["method"] == "kd" and metrics["steps"] == 4
    assert json.loads(Path("runs/epoch-1/adapter/training.json").read_text())["method"] == "kd"


def test_kd_stage_learns_towards_another_teacher(train_project, tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(7)  # a teacher with other weights but the student's tokenizer
    teacher = AutoModelForCausalLM.from_config(AutoModelForCausalLM.from_pretrained(tiny_model_dir).config)
    teacher.save_pretrained(tmp_path / "teacher")
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path / "teacher")

    stage.run(kd_params(tmp_path / "teacher", alpha=1.0), epoch=1)
    rows = Path("runs/epoch-1/live/plots/metrics/kl.tsv").read_text().splitlines()[1:]
    kl = [float(row.split("\t")[1]) for row in rows]
    assert all(value > 0 for value in kl) and kl[-1] < kl[0]


def test_kd_with_a_mismatched_teacher_fails_before_training(train_project, tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    teacher_tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    teacher_tokenizer.add_tokens(["<teacher_only_token>"])
    teacher_tokenizer.save_pretrained(tmp_path / "teacher")
    with pytest.raises(UserError, match=r"train.kd.teacher: the teacher's vocabulary \(49153 tokens\) differs"):
        stage.run(kd_params(tmp_path / "teacher", alpha=0.5), epoch=1)
    assert not Path("runs/epoch-1/adapter").exists()
