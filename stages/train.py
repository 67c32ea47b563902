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

import math
from pathlib import Path
from typing import Annotated

import typer

from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, shown, summary_table
from distilloop.io import write_json
from distilloop.loop import converged_before, pass_through_note
from distilloop.training import distributed
from distilloop.training.adapters import digest
from distilloop.training.epoch import TrainPaths, fit, launch_workers, skip
from distilloop.training.examples import read_eval_examples, read_examples


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

    if params.runtime.distributed.enabled and not distributed.in_worker():
        from distilloop.training.sft import require_model_dirs

        require_model_dirs(paths.base, paths.previous_adapter)  # what can be checked before the launch
        return launch_workers(params, epoch, data, out_dir, paths)
    metrics = fit(params, epoch, paths, examples, eval_examples, counts, data_digest, extra_callbacks)
    if not metrics:
        return {}  # a worker: the main process writes the adapter and the metrics
    write_json(paths.metrics, metrics)
    _summary(metrics, paths)
    return metrics


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
