"""The trainer for train.method: completion-only SFT (sft.py), logit distillation (kd.py) or DPO (TRL).

Kept apart from sft.py and kd.py so that neither imports the other's user: kd builds on sft, this picks.
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
from transformers import EarlyStoppingCallback
from transformers.trainer_callback import PrinterCallback
from trl import DPOConfig, DPOTrainer, SFTConfig

from distilloop.config import TrainParams
from distilloop.training.interruption import interruption_callbacks
from distilloop.training.kd import KDTrainer, load_teacher
from distilloop.training.sft import CompletionSFTTrainer, ReleaseFreedMemory, grouped_by_length, trainer_arguments


def example_length(example: dict) -> int:
    """Characters of an example's text fields (messages included): a proxy for its token count."""
    return len(json.dumps(example, ensure_ascii=False))


def teacher_dtype(arguments: dict):
    """The KD teacher's weights: fp32 on the CPU (as the student's residual stream); on an accelerator the
    run's half dtype when it trains under bf16/fp16 autocast (a large teacher in half the memory)."""
    import torch

    if arguments["use_cpu"]:
        return torch.float32
    return torch.bfloat16 if arguments["bf16"] else torch.float16 if arguments["fp16"] else torch.float32


def make_trainer(
    config: TrainParams,
    model,
    tokenizer,
    train_examples: list[dict],
    eval_examples: list[dict],
    output_dir: Path,
    bf16: bool | str | None,
    callbacks: list,
    processes: int = 1,
):
    """The trainer for train.method: CompletionSFTTrainer (loss on the completion only), KDTrainer or DPOTrainer,
    checkpointing into `output_dir`; with eval examples (not for DPO), evaluation every eval_steps,
    early stopping and the best checkpoint restored at the end."""
    has_eval = bool(eval_examples) and config.method != "dpo"
    arguments = trainer_arguments(config, output_dir, has_eval, bf16, processes)
    if arguments["use_cpu"]:  # malloc trimming is a CPU-path choice: GPU memory is torch's to manage
        callbacks = [*callbacks, ReleaseFreedMemory()]
    callbacks = [*callbacks, *interruption_callbacks(processes)]  # spot: time + SIGTERM
    if has_eval and config.early_stopping_patience:
        callbacks = [*callbacks, EarlyStoppingCallback(config.early_stopping_patience, config.early_stopping_threshold)]
    common = dict(
        model=model,
        train_dataset=datasets.Dataset.from_list(train_examples),
        processing_class=tokenizer,
        # by length: less padding in the (larger) evaluation batches; the order does not change what is measured
        eval_dataset=datasets.Dataset.from_list(sorted(eval_examples, key=example_length)) if has_eval else None,
        callbacks=callbacks,
    )
    if config.method == "dpo":
        trainer = DPOTrainer(
            args=DPOConfig(**arguments, beta=config.dpo.beta, loss_type=[config.dpo.loss_type]), **common
        )
    elif config.method == "kd":
        trainer_class = grouped_by_length(KDTrainer) if config.group_by_length else KDTrainer
        trainer = trainer_class(
            args=SFTConfig(**arguments, completion_only_loss=True),
            teacher=load_teacher(config.kd.teacher, tokenizer, teacher_dtype(arguments)),
            alpha=config.kd.alpha,
            temperature=config.kd.temperature,
            **common,
        )
    else:
        trainer_class = grouped_by_length(CompletionSFTTrainer) if config.group_by_length else CompletionSFTTrainer
        trainer = trainer_class(args=SFTConfig(**arguments, completion_only_loss=True), **common)
    trainer.remove_callback(PrinterCallback)  # our progress bar and summary replace the printed log dicts
    return trainer
