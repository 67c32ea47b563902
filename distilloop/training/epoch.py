"""One epoch's training, train@N's work (stages/train.py reads the examples and writes the metrics): the
paths of an epoch, the pass-through when there is nothing to learn, the launch under `accelerate`
(runtime.distributed), and `fit`: load base + adapter N-1, resume from the last checkpoint made from the
same inputs, train with early stopping on val, and keep the best adapter (adapter N-1 itself is step 0).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from distilloop import UserError
from distilloop.config import Params, TrainParams
from distilloop.console import console, quiet_libraries
from distilloop.io import read_json, write_json
from distilloop.paths import MODELS_DIR, epoch_dir, epoch_metrics, export_split
from distilloop.training import distributed
from distilloop.training.adapters import (
    RUN_FILE,
    copy_adapter,
    digest,
    file_digest,
    last_checkpoint,
    prepare_checkpoints,
    save_adapter,
)


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
        default_data = epoch_dir(epoch) / ("pairs.jsonl" if method == "dpo" else "lesson.jsonl")
        return cls(
            base=MODELS_DIR / "base",
            previous_adapter=epoch_dir(epoch - 1) / "adapter",
            data=Path(data or default_data),
            val=export_split("val"),
            adapter=run_dir / "adapter",
            checkpoints=run_dir / "checkpoints",
            live=run_dir / "live",
            metrics=run_dir / "train-metrics.json" if out_dir else epoch_metrics(epoch, "-train"),
        )


def skip(paths: TrainPaths, config: TrainParams, epoch: int, reason: str, counts: dict) -> dict:
    """Nothing to learn: adapter N is adapter N-1, and the metrics say why."""
    if not (paths.previous_adapter / "adapter_config.json").exists():
        raise UserError(f"{paths.previous_adapter}: no adapter to continue (run the previous epoch first)")
    copy_adapter(paths.previous_adapter, paths.adapter)
    for declared in (paths.checkpoints, paths.live):  # DVC outputs: present, and empty since nothing trained
        shutil.rmtree(declared, ignore_errors=True)
        declared.mkdir(parents=True)
    metrics = {
        "epoch": epoch,
        "method": config.method,
        "skipped": reason,
        "steps": 0,
        "epochs_run": 0.0,
        "train_loss": None,
        "eval_loss": None,
        "best_eval_loss": None,
        "initial_eval_loss": None,
        "stopped_early": False,
        "tokens": 0,
        "seconds": 0.0,
        "tokens_per_second": 0.0,
        **counts,
    }
    write_json(paths.metrics, metrics)
    console.print(f"train@{epoch}: skipped ({reason}); {paths.adapter} = {paths.previous_adapter}")
    return metrics


def fit(
    params: Params,
    epoch: int,
    paths: TrainPaths,
    examples: list,
    eval_examples: list,
    counts: dict,
    data_digest: str,
    extra_callbacks: tuple = (),
) -> dict:
    """Train adapter N and return its metrics ({} in a worker that is not the main process)."""
    config = params.train
    from distilloop.hardware import prepare_cpu
    from distilloop.training.sft import ProgressBar, live_callback, load_model, training_setup
    from distilloop.training.trainers import make_trainer

    quiet_libraries()
    ranks = distributed.Ranks()  # one process unless launched as a worker
    device, precision = training_setup(config)  # train.device and its precision; one error line if absent
    threads = prepare_cpu(params.runtime.threads, distributed.local_processes()) if device.type == "cpu" else 0
    bf16 = precision == "bf16"
    # frozen weights in bf16 (on an accelerator: loaded in the half dtype) in one process only: FSDP
    # flattens parameters and wants one dtype in each
    single = ranks.count == 1
    model, tokenizer = load_model(
        paths.base, paths.previous_adapter, bf16 and single, device, precision if single else None, config.quantization
    )
    fingerprint = digest(
        {
            "data": data_digest,
            "eval": digest(eval_examples),
            # neither device nor gradient_checkpointing changes the result; 4-bit does
            "params": config.model_dump(
                exclude={"device", "gradient_checkpointing"}
                | ({"quantization"} if config.quantization == "none" else set())
            ),
            "adapter": file_digest(paths.previous_adapter / "adapter_model.safetensors"),
            "base": file_digest(paths.base / "config.json"),
        }
    )
    if ranks.is_main:
        resume, record = prepare_checkpoints(paths.checkpoints, fingerprint)
    ranks.wait()
    if not ranks.is_main:  # the main process has cleared stale and broken checkpoints by now
        record = read_json(paths.checkpoints / RUN_FILE)
        resume = last_checkpoint(paths.checkpoints)
    resume_state = json.loads((resume / "trainer_state.json").read_text()) if resume else {}
    resume_step = resume_state.get("global_step")

    callbacks = [ProgressBar(), live_callback(paths.live, resume_step)] if ranks.is_main else []
    trainer = make_trainer(
        config,
        model,
        tokenizer,
        examples,
        eval_examples,
        paths.checkpoints,
        precision,
        [*callbacks, *extra_callbacks],
        ranks.count,
    )
    if trainer.eval_dataset is not None and resume is None:
        record["initial_eval_loss"] = trainer.evaluate()["eval_loss"]  # adapter N-1 on val: step 0 of the curve
        if ranks.is_main:
            write_json(paths.checkpoints / RUN_FILE, record)
    if resume is not None and ranks.is_main:
        console.print(f"train@{epoch}: resuming from {resume} (step {resume_step})")

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
    if not ranks.is_main:
        return {}  # the main process writes the adapter and the metrics
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
    tokens = int(state.num_input_tokens_seen) - int(resume_state.get("num_input_tokens_seen", 0))  # this run's
    metrics = {
        "epoch": epoch,
        "method": config.method,
        "skipped": None,
        "steps": state.global_step,
        "max_steps": state.max_steps,
        "epochs_run": round(float(state.epoch or 0), 4),
        "train_loss": _mean(losses),
        "final_train_loss": losses[-1] if losses else None,
        "eval_loss": evals[-1] if evals else None,
        "best_eval_loss": best if evals else None,
        "initial_eval_loss": initial,
        "best_step": 0 if kept_previous else state.best_global_step,
        "kept_previous_adapter": kept_previous,
        "stopped_early": bool(evals) and state.global_step < state.max_steps,
        "resumed_from_step": resume_step,
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "tokens_per_second": round(tokens / seconds, 1) if seconds > 0 else 0.0,
        "dtype": {"bf16": "bfloat16 autocast", "fp16": "float16 autocast"}.get(precision, "float32")
        + (" (4-bit NF4 base)" if config.quantization == "4bit" else ""),
        "device": str(device),
        "threads": threads,
        **counts,
    }
    return metrics


def launch_workers(params: Params, epoch: int, data: Path | None, out_dir: Path | None, paths: TrainPaths) -> dict:
    """Train under `accelerate launch` (runtime.distributed) and return what the main worker wrote. The
    workers read the very params this process validated, from a temporary copy."""
    arguments = ["--epoch", str(epoch)]
    arguments += ["--in", str(data)] if data else []
    arguments += ["--out", str(out_dir)] if out_dir else []
    with tempfile.TemporaryDirectory(prefix="distilloop-train-") as scratch:
        params_copy = Path(scratch) / "params.json"
        params_copy.write_text(params.model_dump_json(), encoding="utf-8")  # JSON is YAML
        distributed.launch(
            params.runtime.distributed,
            "stages.train",
            [*arguments, "--params", str(params_copy)],
            paths.checkpoints.parent / "train-workers.log",
        )
    return read_json(paths.metrics)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
