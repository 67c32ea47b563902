"""Supervised fine-tuning for train@N: the model with adapter N-1, the completion-only SFT trainer
with the stage's precision, batching, checkpointing and early stopping, and its callbacks (a progress bar,
dvclive curves). training.trainers.make_trainer picks one per train.method; bench.training measures it.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from dvclive import Live
from dvclive.plots import Metric
from dvclive.utils import standardize_metric_name
from peft import PeftModel
from rich.progress import TextColumn
from torch.utils.data import Sampler
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from transformers.integrations import DVCLiveCallback
from trl import SFTTrainer

from distilloop import UserError
from distilloop.config import TrainParams
from distilloop.console import progress
from distilloop.hardware import physical_memory, release_freed_memory, resolve_device, resolve_dtype

# --- model and precision --------------------------------------------------------------------------


def require_model_dirs(base_dir: Path, adapter_dir: Path) -> None:
    if not (base_dir / "config.json").exists():
        raise UserError(f"{base_dir}: no base model (run `distilloop base` first)")
    if not (adapter_dir / "adapter_config.json").exists():
        raise UserError(f"{adapter_dir}: no adapter to continue (run the previous epoch first)")


def load_model(
    base_dir: Path,
    adapter_dir: Path,
    bf16: bool = False,
    device: torch.device | None = None,
    precision: str | None = None,
    quantization: str = "none",
):
    """The base model with adapter N-1 loaded trainable: training continues it rather than starting over.
    On the CPU (and wherever training runs in fp32) loaded in fp32: the optimiser updates fp32 LoRA weights
    and the residual stream stays fp32; with `bf16` (autocast) the frozen linear weights are stored in bf16
    (frozen_linears_to_bf16). On an accelerator under bf16/fp16 `precision` the base loads in that dtype
    (half the memory of fp32, an 8B student in 16 GB) and peft keeps the adapter's weights in fp32. With
    `quantization` '4bit' (QLoRA, CUDA only) the frozen weights load in bitsandbytes NF4."""
    require_model_dirs(base_dir, adapter_dir)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    device = device if device is not None else torch.device("cpu")
    if quantization == "4bit":
        base = load_4bit(base_dir, device)
    elif device.type != "cpu" and precision in HALF_DTYPES:
        base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=HALF_DTYPES[precision])
    else:
        base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, adapter_dir, is_trainable=True)
    if bf16 and device.type == "cpu":
        frozen_linears_to_bf16(model)
    return model, tokenizer


HALF_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def load_4bit(base_dir: Path, device: torch.device):
    """The base model for QLoRA: linear weights in bitsandbytes NF4 with double quantisation, computing in
    bf16, on `device` (a CUDA device: the caller refuses anything else, training_setup)."""
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise UserError("train.quantization: 4bit needs bitsandbytes (pip install bitsandbytes)") from None
    from peft import prepare_model_for_kbit_training
    from transformers import BitsAndBytesConfig

    config = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )
    base = AutoModelForCausalLM.from_pretrained(
        base_dir, quantization_config=config, dtype=torch.bfloat16, device_map={"": device.index or 0}
    )
    # gradient checkpointing is the trainer's to switch on (train.gradient_checkpointing)
    return prepare_model_for_kbit_training(base, use_gradient_checkpointing=False)


def training_setup(config: TrainParams) -> tuple[torch.device, str | None]:
    """(device, precision) of a training run: train.device resolved (hardware.resolve_device), and
    'bf16' / 'fp16' autocast or None for fp32. On the CPU the precision is use_bf16's decision (native bf16
    and a matmul probe that shows it faster); on CUDA train.dtype 'auto' is bf16 at compute capability >= 8,
    fp16 below (hardware.resolve_dtype). 4-bit quantisation is refused anywhere but CUDA, in one line."""
    device = resolve_device(config.device, "train.device")
    if config.quantization == "4bit" and device.type != "cuda":
        raise UserError(f"train.quantization: 4bit (bitsandbytes QLoRA) needs a CUDA device; this run's is {device}")
    if device.type == "cuda" and device.index is not None:
        torch.cuda.set_device(device)  # accelerate places a single process on the current CUDA device
    if config.quantization == "4bit":
        return device, "bf16"  # NF4 weights compute in bf16
    if device.type == "cpu":
        if config.dtype == "float16":
            raise UserError("train.dtype: float16 autocast needs a GPU; on the CPU use auto, bfloat16 or float32")
        return device, "bf16" if use_bf16(config.dtype) else None
    dtype = resolve_dtype(config.dtype, device)
    return device, {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype)


def frozen_linears_to_bf16(model) -> int:
    """Store every frozen nn.Linear (the base layers under the LoRA adapters) in bf16; returns how many.
    Autocast casts each of them to bf16 at every use anyway (it caches the casts of trainable tensors
    only), so the step computes exactly the same numbers, without an fp32 -> bf16 copy of the weights per
    forward and backward and with half their memory. An output embedding tied to the input embedding
    stays fp32: the embedding lookup is not autocast, and a bf16 one would put the residual stream in bf16."""
    embedding = model.get_input_embeddings().weight
    count = 0
    for module in model.modules():
        if (
            isinstance(module, torch.nn.Linear)
            and not module.weight.requires_grad
            and module.weight is not embedding
            and module.weight.dtype == torch.float32
        ):
            module.to(torch.bfloat16)
            count += 1
    return count


def use_bf16(dtype: str) -> bool:
    """bf16 autocast or fp32. 'auto' takes bf16 only where the CPU has native bf16 and a matmul of
    training size really runs faster in it: on some AVX512-BF16 machines (this project's 2-core VM among
    them) oneDNN's bf16 GEMM reaches half the fp32 rate, and autocast would slow training down."""
    if resolve_dtype(dtype) != torch.bfloat16:
        return False
    return dtype == "bfloat16" or bf16_matmul_speedup() > 1.1


MATMUL_SHAPE = (2048, 576, 1536)  # [2048 x 576] @ [576 x 1536]: a SmolLM2-135M MLP at batch 4 x 512


def matmul_seconds(dtype, repeats: int = 4) -> float:
    """Best wall time of the MATMUL_SHAPE matmul in `dtype` on this CPU."""
    rows, inner, columns = MATMUL_SHAPE
    a, b = torch.randn(rows, inner, dtype=dtype), torch.randn(inner, columns, dtype=dtype)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return min(times[1:])  # the first call pays for oneDNN's kernel generation


@functools.lru_cache(maxsize=1)
def bf16_matmul_speedup() -> float:
    """fp32 time / bf16 time of the MATMUL_SHAPE matmul."""
    return matmul_seconds(torch.float32) / matmul_seconds(torch.bfloat16)


# --- the trainer ----------------------------------------------------------------------------------


EVAL_BATCH_FACTOR = 4  # evaluation batch = this x the training batch per process


def trainer_arguments(
    config: TrainParams, output_dir: Path, has_eval: bool, precision: bool | str | None, processes: int = 1
) -> dict:
    """TrainingArguments shared by the SFT, KD and DPO trainers. train.batch_size is the global batch:
    `processes` workers take an equal share of it. `precision`: 'bf16', 'fp16' or None (fp32); True means
    'bf16'. The device is train.device's (training_setup)."""
    precision = "bf16" if precision is True else precision or None
    device = resolve_device(config.device, "train.device")
    if config.batch_size % processes:
        raise UserError(
            f"train.batch_size {config.batch_size} must be a multiple of the {processes} training processes"
        )
    per_process = config.batch_size // processes
    return dict(
        output_dir=str(output_dir),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=per_process,
        # no gradients to keep: larger eval batches (sorted by length, make_trainer) cut the ~25 s an
        # evaluation of the 59 val profiles took at the training batch size on 2 cores
        per_device_eval_batch_size=per_process * EVAL_BATCH_FACTOR,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.dpo.learning_rate if config.method == "dpo" else config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        max_length=config.max_seq_len,
        logging_steps=1,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.eval_steps,
        save_total_limit=2 if has_eval else 1,
        load_best_model_at_end=has_eval,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        restore_callback_states_from_checkpoint=True,  # the early-stopping counter survives a resume
        include_num_input_tokens_seen="non_padding",
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=device.type == "cpu",
        # off by default: a small model fits and recomputation costs ~20%; for large students a param
        activation_checkpointing=config.gradient_checkpointing,
        activation_checkpointing_kwargs={"use_reentrant": False} if config.gradient_checkpointing else None,
        seed=config.seed,
        data_seed=config.seed,
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        report_to="none",
        disable_tqdm=True,
    )


IGNORE_INDEX = -100


def unwrapped(model):
    """The model inside the DDP / FSDP wrapper accelerate puts around it in distributed training."""
    while hasattr(model, "module"):
        model = model.module
    return model


def completion_logits(model, inputs: dict, mask: torch.Tensor) -> torch.Tensor:
    """Logits [tokens, vocab] at the positions whose next token carries loss (`mask` = shifted labels !=
    -100), and nowhere else: over a 49k vocabulary the LM head and its softmax cost more than the rest of
    a 135M model, so prompt and padding positions must not pay for them. The model runs through its own
    forward (under DDP that is what synchronises the gradients); a pre-hook hands the LM head only the
    hidden states at the loss positions."""
    inner = unwrapped(model)
    causal_lm = inner.get_base_model() if hasattr(inner, "get_base_model") else inner  # PEFT wraps the student
    head = causal_lm.get_output_embeddings()
    shared = shared_opening_length(inputs, mask) if model is inner and runs_opening_once(causal_lm) else 0
    if shared:
        return shared_opening_logits(causal_lm, head, inputs, mask, shared)
    hook = head.register_forward_pre_hook(lambda module, args: (args[0][:, :-1][mask],))
    try:
        return model(**inputs, use_cache=False).logits
    finally:
        hook.remove()


MIN_SHARED_OPENING = 16  # tokens; below it the second forward call costs more than it saves


def runs_opening_once(causal_lm) -> bool:
    """Whether a batch's common opening may run once (shared_opening_logits): a CPU-path choice, neither
    with active dropout nor under gradient checkpointing (whose recomputed layers take no key/value cache)."""
    return causal_lm.device.type == "cpu" and not checkpointing(causal_lm) and not has_dropout(causal_lm)


def checkpointing(causal_lm) -> bool:
    """Whether the model recomputes activations in the backward pass (train.gradient_checkpointing)."""
    return bool(getattr(causal_lm, "is_activation_checkpointing", False))


def has_dropout(model) -> bool:
    """Active dropout draws a mask per row: an opening run once would share one mask between rows."""
    return any(isinstance(m, torch.nn.Dropout) and m.p > 0 and m.training for m in model.modules())


def shared_opening_length(inputs: dict, mask: torch.Tensor) -> int:
    """How many leading tokens every row of the batch has in common (chat template, system prompt, the
    task's instructions: 104 of a profile example's ~280 tokens), up to the first position that carries
    loss; 0 when that is too short to be worth a second forward call or the batch is not plain
    right-padded rows."""
    ids, attention = inputs.get("input_ids"), inputs.get("attention_mask")
    if (
        ids is None
        or attention is None
        or ids.shape[0] < 2
        or set(inputs) - {"input_ids", "attention_mask", "position_ids"}
    ):
        return 0
    common = ((ids == ids[:1]) & attention.bool()).all(0)
    length = int(common.int().cumprod(0).sum())
    loss_positions = mask.any(0).nonzero()
    length = min(length, int(loss_positions[0]) if len(loss_positions) else ids.shape[1] - 1)
    return length if length >= MIN_SHARED_OPENING else 0


def shared_opening_logits(causal_lm, head, inputs: dict, mask: torch.Tensor, shared: int) -> torch.Tensor:
    """completion_logits with the batch's common opening run once, not once per row: its keys and values
    (computed with gradients) are expanded over the rows, and the rest of every row attends to them. The
    same function of the weights as the plain forward, so the same loss and gradients up to float
    rounding; expand's backward sums the rows' gradients into the one opening."""
    from transformers import DynamicCache

    ids, attention = inputs["input_ids"], inputs["attention_mask"]
    rows, length = ids.shape
    backbone = causal_lm.get_decoder()
    cache = DynamicCache(config=causal_lm.config)
    backbone(input_ids=ids[:1, :shared], past_key_values=cache, use_cache=True)
    for layer in cache.layers:
        layer.keys, layer.values = layer.keys.expand(rows, -1, -1, -1), layer.values.expand(rows, -1, -1, -1)
    positions = torch.arange(shared, length, device=ids.device).expand(rows, -1)
    hidden = backbone(
        input_ids=ids[:, shared:],
        attention_mask=attention,
        position_ids=positions,
        past_key_values=cache,
        use_cache=True,
    ).last_hidden_state
    return head(hidden[:, :-1][mask[:, shared:]])


class CompletionSFTTrainer(SFTTrainer):
    """TRL's SFTTrainer with the cross-entropy computed from completion_logits. TRL's own fused LM head
    picks out the loss positions only on Triton devices; on a CPU it scores every position in chunks,
    which profiled at 40% of a SmolLM2-135M step. Same loss: the mean over the batch's completion tokens
    (over the accumulated batch's when gradients are accumulated)."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if return_outputs:
            raise NotImplementedError("the loss is computed at completion positions only: no full logits")
        mode = "train" if model.training else "eval"
        target = inputs["labels"][:, 1:]
        mask = target != IGNORE_INDEX
        logits = self.completion_logits(model, {k: v for k, v in inputs.items() if k != "labels"}, mask)
        target = target[mask]
        count = mask.sum()
        denominator = torch.as_tensor(num_items_in_batch if num_items_in_batch is not None else count)
        loss = F.cross_entropy(logits.float(), target, reduction="sum") / denominator.clamp(min=1)
        loss = self.scaled_for_processes(loss, num_items_in_batch)
        with torch.no_grad():
            accuracy = (logits.argmax(-1) == target).sum() / count.clamp(min=1)
        self._metrics[mode]["mean_token_accuracy"].append(accuracy.item())
        if mode == "train":
            self._total_train_tokens += int(inputs["attention_mask"].sum())
            self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
        return loss

    def completion_logits(self, model, inputs: dict, mask: torch.Tensor) -> torch.Tensor:
        """completion_logits under the trainer's autocast. accelerate autocasts only the forward of the model
        it prepared (bf16 training): the batch opening run once calls the decoder past that forward (fp32
        inputs would meet the bf16 frozen weights), and a KD teacher was never prepared (it would run in
        fp32, unlike the student it is compared with)."""
        with self.accelerator.autocast():
            return completion_logits(model, inputs, mask)

    def scaled_for_processes(self, loss: torch.Tensor, num_items_in_batch) -> torch.Tensor:
        """Under DDP num_items_in_batch counts every process's tokens and the gradients are averaged over
        the processes: times the process count, the step's gradient is that of the global batch's mean
        (what transformers' own compute_loss does, which this class replaces)."""
        if num_items_in_batch is not None and self.args.average_tokens_across_devices:
            return loss * self.accelerator.num_processes
        return loss


class EpochSeededLengthSampler(Sampler):
    """Batches of similar length: shuffle, sort each group of 16 batches by length, cut it into batches,
    shuffle the batches. The generator is seeded with seed + epoch (transformers' length-grouped sampler
    draws from the global RNG, which a resumed run cannot replay), so a resumed run sees the batches an
    uninterrupted one would have seen."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int, batches_per_group: int = 16):
        self.lengths, self.batch_size, self.seed, self.epoch = lengths, batch_size, seed, 0
        self.group = batch_size * batches_per_group

    def set_epoch(self, epoch: int) -> None:  # accelerate's data loader calls it before every epoch
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator).tolist()
        batches = []
        for start in range(0, len(order), self.group):
            group = sorted(order[start : start + self.group], key=self.lengths.__getitem__, reverse=True)
            batches += [group[i : i + self.batch_size] for i in range(0, len(group), self.batch_size)]
        shuffled = torch.randperm(len(batches), generator=generator).tolist()
        return iter([index for position in shuffled for index in batches[position]])


def grouped_by_length(trainer_class):
    """`trainer_class` drawing its batches from EpochSeededLengthSampler: less padding, more tokens/s."""

    class Grouped(trainer_class):
        def _get_train_sampler(self, train_dataset=None):
            dataset = train_dataset if train_dataset is not None else self.train_dataset
            # batches of the global size: the distributed data loader hands each process a consecutive share
            # of every one, so each step trains on the batch a single process would have drawn
            return EpochSeededLengthSampler(
                [len(ids) for ids in dataset["input_ids"]],
                self.args.train_batch_size * self.args.world_size,
                self.args.data_seed or self.args.seed,
            )

    Grouped.__name__ = f"LengthGrouped{trainer_class.__name__}"
    return Grouped


# --- callbacks: progress bar and dvclive curves ---------------------------------------------------


class ProgressBar(TrainerCallback):
    """A rich progress bar over optimiser steps with the latest loss."""

    def on_train_begin(self, args, state, control, **kwargs):
        self.bar = progress(TextColumn("loss {task.fields[loss]}"))
        self.bar.start()
        self.task = self.bar.add_task("train", total=state.max_steps, completed=state.global_step, loss="-")

    def on_log(self, args, state, control, logs=None, **kwargs):
        if hasattr(self, "bar") and logs and "loss" in logs:
            self.bar.update(self.task, loss=f"{logs['loss']:.4f}")

    def on_step_end(self, args, state, control, **kwargs):
        self.bar.update(self.task, completed=state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self.bar.stop()


class ReleaseFreedMemory(TrainerCallback):
    """After every optimiser step and evaluation, freed memory goes back to the kernel once the heap holds
    more than a quarter of the machine's (release_freed_memory): without it bf16 training of long rows grows
    until the kernel kills it. Below that it stays, to be reused without page faults (keep_freed_memory)."""

    def __init__(self):
        self.over_bytes = physical_memory() // 4

    def on_step_end(self, args, state, control, **kwargs):
        release_freed_memory(self.over_bytes)

    def on_evaluate(self, args, state, control, **kwargs):
        release_freed_memory(self.over_bytes)


class StepAlignedDVCLive(DVCLiveCallback):
    """dvclive curves indexed by the optimiser step rather than by dvclive's own call counter, so train
    and eval points line up and a resumed run continues the curves."""

    def on_log(self, args, state, control, model=None, logs=None, **kwargs):
        if not state.is_world_process_zero:
            return
        if not self._initialized:
            self.setup(args, state, model)
        self.live.step = state.global_step
        for key, value in (logs or {}).items():
            if Metric.could_log(value):
                self.live.log_metric(standardize_metric_name(key, "dvclive.huggingface"), value)
        self.live.make_summary()


def live_callback(live_dir: Path, resume_step: int | None) -> StepAlignedDVCLive:
    """The dvclive callback of a run. A resumed run first drops the rows the killed run logged after its
    last checkpoint. dvcyaml=None and save_dvc_exp=False: dvclive must neither rewrite dvc.yaml nor
    create experiments on its own; the plots are declared in dvc.yaml."""
    if resume_step is not None:
        for table in (live_dir / "plots" / "metrics").rglob("*.tsv"):
            lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
            if not lines:
                continue
            header, rows = lines[0], lines[1:]
            step_column = header.rstrip("\n").split("\t").index("step")
            kept = [row for row in rows if int(row.split("\t")[step_column]) <= resume_step]
            table.write_text(header + "".join(kept), encoding="utf-8")
    return StepAlignedDVCLive(
        live=Live(dir=str(live_dir), resume=resume_step is not None, dvcyaml=None, save_dvc_exp=False)
    )
