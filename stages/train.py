"""train@N: continue the LoRA adapter of epoch N-1 on train set N, with SFT, DPO or logit KD.

Reads models/base/, runs/epoch-(N-1)/adapter/, runs/epoch-N/lesson.jsonl (pairs.jsonl for dpo) and
data/export/val.jsonl. Writes runs/epoch-N/adapter/ (the best adapter by val loss), runs/epoch-N/live/
(dvclive curves: loss, eval loss, learning rate, grad norm per optimiser step) and
metrics/epochs/N-train.json. runs/epoch-N/checkpoints/ is declared `persist` in dvc.yaml: a run killed
midway resumes from its last complete checkpoint (step count, optimiser, scheduler and RNG state), as
long as the checkpoint was made from the same inputs and params; the checkpoints are cleared when
training completes, leaving run.json (the fingerprint of the inputs) behind.

Nothing to learn is not an error: an empty lesson (merge@N found nothing failing) copies adapter N-1
through and records "skipped" with the reason in the metrics. The lesson adapter N-1 was trained on, met
again, is trained again: its items still fail, and another pass over them still teaches (the val-loss
guard keeps adapter N-1 when it does not). A record's `weight` (default 1) is how many times it is trained on per pass.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from distilloop import UserError
from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params, TrainParams
from distilloop.console import console, quiet_libraries, shown, summary_table
from distilloop.io import read_json, write_json
from distilloop.loop import converged_before, pass_through_note
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
from distilloop.training.examples import read_eval_examples, read_examples

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


# --- reading examples -----------------------------------------------------------------------------


# --- the stage ------------------------------------------------------------------------------------


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


def run(
    params: Params, epoch: int, data: Path | None = None, out_dir: Path | None = None, extra_callbacks: tuple = ()
) -> dict:
    config = params.train
    paths = TrainPaths.for_epoch(epoch, config.method, data, out_dir)
    system_prompt = getattr(params.student, "system_prompt", None)  # generation and training see one template
    examples = read_examples(paths.data, config.method, system_prompt)
    eval_examples, without_reference = read_eval_examples(paths.val, system_prompt)
    if config.method == "dpo":
        eval_examples = []  # val records have a reference but no rejected answer: no DPO eval pairs
    counts = {
        "train_examples": len(examples),
        "eval_examples": len(eval_examples),
        "val_without_reference": without_reference,
    }

    data_digest = digest([config.method, examples])
    converged_at = converged_before(epoch) if data is None and out_dir is None else None
    if converged_at is not None:
        return skip(paths, config, epoch, pass_through_note(converged_at), counts)
    if not examples:
        return skip(paths, config, epoch, f"nothing to learn: {paths.data} is empty (nothing fails now)", counts)

    from distilloop.hardware import prepare_cpu
    from distilloop.training.sft import (
        ProgressBar,
        live_callback,
        load_model,
        require_model_dirs,
        training_setup,
    )
    from distilloop.training.trainers import make_trainer

    if params.runtime.distributed.enabled and not distributed.in_worker():
        require_model_dirs(paths.base, paths.previous_adapter)  # what can be checked before the launch
        return launch_workers(params, epoch, data, out_dir, paths)

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
    write_json(paths.metrics, metrics)
    _summary(metrics, paths)
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


def _fmt(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) and not math.isnan(value) else str(value)


def _summary(metrics: dict, paths: TrainPaths) -> None:
    rows = [
        (key, _fmt(metrics[key]))
        for key in (
            "method",
            "train_examples",
            "eval_examples",
            "steps",
            "epochs_run",
            "train_loss",
            "initial_eval_loss",
            "best_eval_loss",
            "best_step",
            "stopped_early",
            "resumed_from_step",
            "tokens_per_second",
            "dtype",
        )
    ]
    console.print(summary_table(f"train@{metrics['epoch']} -> {shown(paths.adapter)}", ("", "value"), rows))


def main(
    epoch: Annotated[int, typer.Option(min=1, help="loop epoch N: continues adapter N-1 on train set N")],
    data: Annotated[
        Path | None, typer.Option("--in", help="train set (pairs for dpo) instead of runs/epoch-N/")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="directory for adapter/, checkpoints/, live/ and metrics")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """LoRA-train adapter N from adapter N-1 (sft, dpo or kd), with early stopping on val and resume."""
    run(load_params(params_file), epoch, data, out)


if __name__ == "__main__":
    run_command(main)
