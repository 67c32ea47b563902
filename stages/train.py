"""train@N: continue the LoRA adapter of epoch N-1 on train set N, with SFT, DPO or logit KD.

Reads models/base/, runs/epoch-(N-1)/adapter/, runs/epoch-N/train.jsonl (pairs.jsonl for dpo) and
data/export/val.jsonl. Writes runs/epoch-N/adapter/ (the best adapter by val loss), runs/epoch-N/live/
(dvclive curves: loss, eval loss, learning rate, grad norm per optimiser step) and
metrics/epochs/N-train.json. runs/epoch-N/checkpoints/ is declared `persist` in dvc.yaml: a run killed
midway resumes from its last complete checkpoint (step count, optimiser, scheduler and RNG state), as
long as the checkpoint was made from the same inputs and params; the checkpoints are cleared when
training completes, leaving run.json (the fingerprint of the inputs) behind.

Nothing to learn is not an error: an empty train set, or the very train set adapter N-1 was already
trained on, copies adapter N-1 through and records "skipped" with the reason in the metrics.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from stages import UserError
from stages.console import console, progress, summary_table
from stages.params import Params, TrainParams
from stages.records import MODELS_DIR, Reject, epoch_dir, epoch_metrics, export_split, iter_jsonl, read_json, write_json

TRAINED_ON = "training.json"  # written into every adapter: what it was trained on, for the unchanged-data check
RUN_FILE = "run.json"  # in checkpoints/: the fingerprint that makes a checkpoint resumable
FIELDS = {"sft": ("prompt", "completion"), "kd": ("prompt", "completion"), "dpo": ("prompt", "chosen", "rejected")}


# --- where things are -----------------------------------------------------------------------------


@dataclass
class TrainPaths:
    base: Path
    previous_adapter: Path
    data: Path
    val: Path
    adapter: Path
    checkpoints: Path
    live: Path
    metrics: Path

    @classmethod
    def for_epoch(cls, epoch: int, method: str, data: Path | None = None, out_dir: Path | None = None):
        run_dir = Path(out_dir) if out_dir else epoch_dir(epoch)
        default_data = epoch_dir(epoch) / ("pairs.jsonl" if method == "dpo" else "train.jsonl")
        return cls(
            base=MODELS_DIR / "base", previous_adapter=epoch_dir(epoch - 1) / "adapter", data=Path(data or default_data),
            val=export_split("val"), adapter=run_dir / "adapter", checkpoints=run_dir / "checkpoints",
            live=run_dir / "live", metrics=run_dir / "train-metrics.json" if out_dir else epoch_metrics(epoch, "-train"),
        )


# --- reading examples -----------------------------------------------------------------------------


def as_text(value) -> str:
    """json_record references and completions may be objects: the student is trained to write their JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def conversation(prompt: str, system_prompt: str | None = None) -> list[dict]:
    """The prompt as chat messages; the tokenizer's chat template renders them exactly as at generation."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": "user", "content": prompt}]


def read_examples(path: Path, method: str, system_prompt: str | None = None) -> list[dict]:
    """Train records (or DPO pairs) -> TRL conversational examples. A malformed line or a record without
    the fields the method needs stops the stage with one line naming the file and line: these files are
    written by the pipeline, so a bad one is a bug upstream, not data to skip."""
    if not path.exists():
        raise UserError(f"{path}: file not found (run the merge stage first, or pass --in)")
    examples = []
    for number, item in iter_jsonl(path):
        if isinstance(item, Reject):
            raise UserError(f"{path}:{number}: {item.reason}")
        for field in FIELDS[method]:
            value = item.get(field)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise UserError(f"{path}:{number}: missing field {field!r} (needed by train.method {method})")
        example = {"prompt": conversation(as_text(item["prompt"]), system_prompt)}
        for field in FIELDS[method][1:]:
            example[field] = [{"role": "assistant", "content": as_text(item[field])}]
        examples.append(example)
    return examples


def read_eval_examples(path: Path, system_prompt: str | None = None) -> tuple[list[dict], int]:
    """Val records with a reference -> eval examples (prompt, completion = reference). Returns the examples
    and the number of val records skipped for having no reference."""
    if not path.exists():
        return [], 0
    examples, without_reference = [], 0
    for number, item in iter_jsonl(path):
        if isinstance(item, Reject):
            raise UserError(f"{path}:{number}: {item.reason}")
        if item.get("reference") in (None, "") or not item.get("prompt"):
            without_reference += 1
            continue
        examples.append({"prompt": conversation(as_text(item["prompt"]), system_prompt),
                         "completion": [{"role": "assistant", "content": as_text(item["reference"])}]})
    return examples, without_reference


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


# --- adapters and checkpoints ---------------------------------------------------------------------


def replace_dir(new: Path, target: Path) -> None:
    """Put directory `new` at `target` with renames only, so a killed stage never leaves half an adapter."""
    old = target.parent / f".{target.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def staging_dir(target: Path) -> Path:
    staging = target.parent / f".{target.name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    return staging


def copy_adapter(source: Path, target: Path, trained_on: dict | None = None) -> None:
    staging = staging_dir(target)
    shutil.copytree(source, staging)
    if trained_on is not None:
        write_json(staging / TRAINED_ON, trained_on)
    replace_dir(staging, target)


def save_adapter(model, target: Path, trained_on: dict) -> None:
    staging = staging_dir(target)
    model.save_pretrained(staging, selected_adapters=["default"])  # DPO also holds a frozen "ref" copy
    write_json(staging / TRAINED_ON, trained_on)
    replace_dir(staging, target)


def last_checkpoint(checkpoints: Path) -> Path | None:
    """The newest complete checkpoint. The Trainer writes trainer_state.json last, so a checkpoint without
    a readable one was cut short by a kill: it is removed, and the one before it is used."""
    candidates = sorted(checkpoints.glob("checkpoint-*"), key=lambda path: int(path.name.split("-")[-1]), reverse=True)
    for candidate in candidates:
        try:
            json.loads((candidate / "trainer_state.json").read_text(encoding="utf-8"))
            if (candidate / "optimizer.pt").exists() and (candidate / "adapter_model.safetensors").exists():
                return candidate
        except (OSError, json.JSONDecodeError):
            pass
        shutil.rmtree(candidate, ignore_errors=True)
    return None


def prepare_checkpoints(checkpoints: Path, fingerprint: str) -> tuple[Path | None, dict]:
    """Resume point and run record. Checkpoints made from other inputs or params are discarded."""
    run_file = checkpoints / RUN_FILE
    record = json.loads(run_file.read_text(encoding="utf-8")) if run_file.exists() else {}
    if record.get("fingerprint") == fingerprint:
        resume = last_checkpoint(checkpoints)
        if resume is not None:
            return resume, record
    if checkpoints.exists():
        shutil.rmtree(checkpoints)
    checkpoints.mkdir(parents=True)
    record = {"fingerprint": fingerprint}
    write_json(run_file, record)
    return None, record


# --- the trainer ----------------------------------------------------------------------------------


def load_model(paths: TrainPaths):
    """The base model with adapter N-1 loaded trainable: training continues it rather than starting over."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (paths.base / "config.json").exists():
        raise UserError(f"{paths.base}: no base model (run `distilloop base` first)")
    if not (paths.previous_adapter / "adapter_config.json").exists():
        raise UserError(f"{paths.previous_adapter}: no adapter to continue (run the previous epoch first)")
    tokenizer = AutoTokenizer.from_pretrained(paths.base)
    # fp32 weights even for bf16: autocast computes in bf16, the optimiser updates fp32 LoRA weights
    base = AutoModelForCausalLM.from_pretrained(paths.base, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, paths.previous_adapter, is_trainable=True)
    return model, tokenizer


def trainer_arguments(config: TrainParams, paths: TrainPaths, has_eval: bool, bf16: bool) -> dict:
    """TrainingArguments shared by the SFT, KD and DPO trainers."""
    return dict(
        output_dir=str(paths.checkpoints), num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size, per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.dpo.learning_rate if config.method == "dpo" else config.learning_rate,
        lr_scheduler_type=config.lr_scheduler, warmup_steps=config.warmup, weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm, max_length=config.max_seq_len,
        logging_steps=1, eval_strategy="steps" if has_eval else "no", eval_steps=config.eval_steps,
        save_strategy="steps", save_steps=config.eval_steps, save_total_limit=2 if has_eval else 1,
        load_best_model_at_end=has_eval, metric_for_best_model="eval_loss", greater_is_better=False,
        restore_callback_states_from_checkpoint=True,  # the early-stopping counter survives a resume
        include_num_input_tokens_seen="non_padding",
        bf16=bf16, use_cpu=True, activation_checkpointing=False,  # a small model fits; recomputation costs ~20%
        seed=config.seed, data_seed=config.seed, dataloader_num_workers=0, dataloader_pin_memory=False,
        report_to="none", disable_tqdm=True,
    )


def make_trainer(config: TrainParams, model, tokenizer, train_examples, eval_examples, paths, bf16, callbacks):
    from datasets import Dataset
    from transformers import EarlyStoppingCallback
    from transformers.trainer_callback import PrinterCallback

    has_eval = bool(eval_examples) and config.method != "dpo"
    arguments = trainer_arguments(config, paths, has_eval, bf16)
    train_dataset = Dataset.from_list(train_examples)
    eval_dataset = Dataset.from_list(eval_examples) if has_eval else None
    if has_eval and config.early_stopping_patience:
        callbacks = [*callbacks, EarlyStoppingCallback(config.early_stopping_patience, config.early_stopping_threshold)]
    common = dict(model=model, train_dataset=train_dataset, eval_dataset=eval_dataset, processing_class=tokenizer,
                  callbacks=callbacks)
    if config.method == "dpo":
        from trl import DPOConfig, DPOTrainer

        trainer = DPOTrainer(args=DPOConfig(**arguments, beta=config.dpo.beta, loss_type=[config.dpo.loss_type]), **common)
    else:
        from trl import SFTConfig

        sft_config = SFTConfig(**arguments, completion_only_loss=True)
        if config.method == "kd":
            from stages.kd import KDTrainer, load_teacher

            teacher = load_teacher(config.kd.teacher, tokenizer)
            trainer_class = grouped_by_length(KDTrainer) if config.group_by_length else KDTrainer
            trainer = trainer_class(args=sft_config, teacher=teacher, alpha=config.kd.alpha,
                                    temperature=config.kd.temperature, **common)
        else:
            from trl import SFTTrainer

            trainer_class = grouped_by_length(SFTTrainer) if config.group_by_length else SFTTrainer
            trainer = trainer_class(args=sft_config, **common)
    trainer.remove_callback(PrinterCallback)  # our progress bar and summary replace the printed log dicts
    return trainer


def grouped_by_length(trainer_class):
    """`trainer_class` drawing batches of similar length (less padding, more tokens/s). Transformers'
    length-grouped sampler draws from the global RNG, which a resumed run cannot replay; this one is
    seeded with seed + epoch, so a resumed run sees the batches an uninterrupted run would have seen."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    class EpochSeededLengthSampler(LengthGroupedSampler):
        def __init__(self, batch_size: int, lengths: list[int], seed: int):
            super().__init__(batch_size, lengths=lengths)
            self.seed = seed
            self.set_epoch(0)

        def set_epoch(self, epoch: int) -> None:  # called by accelerate's data loader before every epoch
            self.generator = torch.Generator().manual_seed(self.seed + epoch)

    class Grouped(trainer_class):
        def _get_train_sampler(self, train_dataset=None):
            dataset = train_dataset if train_dataset is not None else self.train_dataset
            lengths = [len(ids) for ids in dataset["input_ids"]]
            batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
            return EpochSeededLengthSampler(batch, lengths, self.args.data_seed or self.args.seed)

    Grouped.__name__ = f"LengthGrouped{trainer_class.__name__}"
    return Grouped


# --- callbacks: progress bar and dvclive curves ---------------------------------------------------


def progress_callback():
    """A rich progress bar over optimiser steps with the latest loss."""
    from rich.progress import TextColumn
    from transformers import TrainerCallback

    class ProgressBar(TrainerCallback):
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

    return ProgressBar()


def live_callback(live_dir: Path, resume_step: int | None):
    """dvclive curves indexed by the optimiser step (not by dvclive's own call counter), so train and eval
    points line up and a resumed run continues the curves: rows the killed run logged after its last
    checkpoint are dropped first. dvcyaml=None and save_dvc_exp=False: dvclive must neither rewrite
    dvc.yaml nor create experiments on its own; the plots are declared in dvc.yaml."""
    from dvclive import Live
    from dvclive.plots import Metric
    from dvclive.utils import standardize_metric_name
    from transformers.integrations import DVCLiveCallback

    if resume_step is not None:
        for table in (live_dir / "plots" / "metrics").rglob("*.tsv"):
            lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
            header, rows = lines[:1], lines[1:]
            step_column = header[0].rstrip("\n").split("\t").index("step") if header else 0
            kept = [row for row in rows if int(row.split("\t")[step_column]) <= resume_step]
            table.write_text("".join(header + kept), encoding="utf-8")

    class StepAlignedDVCLive(DVCLiveCallback):
        def on_log(self, args, state, control, model=None, logs=None, **kwargs):
            if not self._initialized:
                self.setup(args, state, model)
            self.live.step = state.global_step
            for key, value in (logs or {}).items():
                if Metric.could_log(value):
                    self.live.log_metric(standardize_metric_name(key, "dvclive.huggingface"), value)
            self.live.make_summary()

    return StepAlignedDVCLive(live=Live(dir=str(live_dir), resume=resume_step is not None, dvcyaml=None,
                                        save_dvc_exp=False))


# --- the stage ------------------------------------------------------------------------------------


def skip(paths: TrainPaths, config: TrainParams, epoch: int, reason: str, counts: dict) -> dict:
    """Nothing to learn: adapter N is adapter N-1, and the metrics say why."""
    if not (paths.previous_adapter / "adapter_config.json").exists():
        raise UserError(f"{paths.previous_adapter}: no adapter to continue (run the previous epoch first)")
    copy_adapter(paths.previous_adapter, paths.adapter)
    metrics = {"epoch": epoch, "method": config.method, "skipped": reason, "steps": 0, "epochs_run": 0.0,
               "train_loss": None, "eval_loss": None, "best_eval_loss": None, "initial_eval_loss": None,
               "stopped_early": False, "tokens": 0, "seconds": 0.0, "tokens_per_second": 0.0, **counts}
    write_json(paths.metrics, metrics)
    console.print(f"train@{epoch}: skipped ({reason}); {paths.adapter} = {paths.previous_adapter}")
    return metrics


def run(params: Params, epoch: int, data: Path | None = None, out_dir: Path | None = None,
        extra_callbacks: tuple = ()) -> dict:
    config = params.train
    paths = TrainPaths.for_epoch(epoch, config.method, data, out_dir)
    system_prompt = getattr(params.student, "system_prompt", None)  # generation and training see one template
    examples = read_examples(paths.data, config.method, system_prompt)
    eval_examples, without_reference = read_eval_examples(paths.val, system_prompt)
    if config.method == "dpo":
        eval_examples = []  # val records have a reference but no rejected answer: no DPO eval pairs
    counts = {"train_examples": len(examples), "eval_examples": len(eval_examples),
              "val_without_reference": without_reference}

    data_digest = digest([config.method, examples])
    previous = paths.previous_adapter / TRAINED_ON
    if not examples:
        return skip(paths, config, epoch, f"empty train set {paths.data}", counts)
    if previous.exists() and read_json(previous).get("data_sha256") == data_digest:
        return skip(paths, config, epoch, f"adapter {paths.previous_adapter} was already trained on this data", counts)

    import torch

    from stages.hardware import resolve_dtype, set_threads

    _quiet_libraries()
    threads = set_threads(config.threads)
    bf16 = resolve_dtype(config.dtype) == torch.bfloat16
    model, tokenizer = load_model(paths)
    fingerprint = digest({
        "data": data_digest, "eval": digest(eval_examples), "params": config.model_dump(exclude={"threads"}),
        "adapter": file_digest(paths.previous_adapter / "adapter_model.safetensors"),
        "base": file_digest(paths.base / "config.json"),
    })
    resume, record = prepare_checkpoints(paths.checkpoints, fingerprint)
    resume_step = json.loads((resume / "trainer_state.json").read_text())["global_step"] if resume else None

    callbacks = [progress_callback(), live_callback(paths.live, resume_step), *extra_callbacks]
    trainer = make_trainer(config, model, tokenizer, examples, eval_examples, paths, bf16, callbacks)
    if trainer.eval_dataset is not None and resume is None:
        record["initial_eval_loss"] = trainer.evaluate()["eval_loss"]  # adapter N-1 on val: step 0 of the curve
        write_json(paths.checkpoints / RUN_FILE, record)
    if resume is not None:
        console.print(f"train@{epoch}: resuming from {resume} (step {resume_step})")

    tokens_before = 0
    if resume is not None:
        tokens_before = json.loads((resume / "trainer_state.json").read_text()).get("num_input_tokens_seen", 0)
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.perf_counter() - started
    state = trainer.state

    # trainer.model is the best checkpoint by val loss (load_best_model_at_end); adapter N-1 itself
    # counts as step 0, so training that only made val worse hands adapter N-1 on unchanged
    initial = record.get("initial_eval_loss")
    best = state.best_metric
    trained_on = {"data_sha256": data_digest, "method": config.method, "epoch": epoch}
    kept_previous = initial is not None and best is not None and best >= initial
    if kept_previous:
        copy_adapter(paths.previous_adapter, paths.adapter, trained_on)
    else:
        save_adapter(trainer.model, paths.adapter, trained_on)
    for leftover in paths.checkpoints.iterdir():  # done: only run.json stays (DVC keeps the directory)
        if leftover.is_dir():
            shutil.rmtree(leftover)
        elif leftover.name != RUN_FILE:
            leftover.unlink()

    losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
    evals = [entry["eval_loss"] for entry in state.log_history if "eval_loss" in entry]
    tokens = int(state.num_input_tokens_seen) - int(tokens_before)
    metrics = {
        "epoch": epoch, "method": config.method, "skipped": None, "steps": state.global_step,
        "max_steps": state.max_steps, "epochs_run": round(float(state.epoch or 0), 4),
        "train_loss": _mean(losses), "final_train_loss": losses[-1] if losses else None,
        "eval_loss": evals[-1] if evals else None, "best_eval_loss": best if evals else None,
        "initial_eval_loss": initial, "best_step": 0 if kept_previous else state.best_global_step,
        "kept_previous_adapter": kept_previous, "stopped_early": bool(evals) and state.global_step < state.max_steps,
        "resumed_from_step": resume_step, "tokens": tokens, "seconds": round(seconds, 3),
        "tokens_per_second": round(tokens / seconds, 1) if seconds > 0 else 0.0,
        "dtype": "bfloat16 autocast" if bf16 else "float32", "threads": threads, **counts,
    }
    write_json(paths.metrics, metrics)
    _summary(metrics, paths)
    return metrics


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _quiet_libraries() -> None:
    """The stage has its own progress bar and summary; library bars and info logs would bury them."""
    import warnings

    import datasets
    import transformers

    for library in ("transformers", "trl", "peft"):  # deprecation notices about their own internals
        warnings.filterwarnings("ignore", category=FutureWarning, module=library)
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_warning()


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) and not math.isnan(value) else str(value)


def _summary(metrics: dict, paths: TrainPaths) -> None:
    rows = [(key, _fmt(metrics[key])) for key in (
        "method", "train_examples", "eval_examples", "steps", "epochs_run", "train_loss", "initial_eval_loss",
        "best_eval_loss", "best_step", "stopped_early", "resumed_from_step", "tokens_per_second", "dtype")]
    console.print(summary_table(f"train@{metrics['epoch']} -> {paths.adapter}", ("", "value"), rows))
