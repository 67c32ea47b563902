"""evaluate@N: the student with adapter N answers pool, val and test; the gate scores every answer.

The pool answered is the slice epoch N+1 will practise on (`loop.pool_per_epoch`, distilloop/loop): new
prompts every epoch. Writes runs/epoch-N/{pool,val,test}.scored.jsonl and metrics/epochs/N.json: per split the gate's summary
(pass rate, mean score, axes, histogram, truncation rate, findings), generation speed, and `converged`:
true when, for the last `loop.patience` epochs up to N, the pool mean score reached `quality_threshold`
and correct@ asked the teacher for at most `loop.converge_max_corrections` corrections.
baseline (epoch 0) shares `score_epoch` (distilloop/loop/epochs.py) with this stage.

By hand, any file: `distilloop evaluate --adapter runs/epoch-2/adapter --in prompts.jsonl --out scored.jsonl`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distilloop import UserError
from distilloop.command import ModelDirOption, ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, shown
from distilloop.io import Reject, iter_jsonl, write_json, write_jsonl
from distilloop.loop import converged_before, pass_through_note
from distilloop.loop.epochs import (
    adapter_digest,
    answer_and_score,
    carry_over,
    convergence,
    print_summary,
    read_optional,
    score_epoch,
)
from distilloop.paths import BASE_DIR, epoch_dir, epoch_metrics
from distilloop.student.model import load_student


def run(params: Params, epoch: int, model_dir: Path = BASE_DIR) -> dict:
    if epoch < 1:
        raise UserError(f"evaluate: --epoch must be >= 1 (got {epoch}); epoch 0 is the baseline stage")
    converged_at = converged_before(epoch)
    if converged_at is not None:
        return pass_through(epoch, converged_at)
    adapter_dir = epoch_dir(epoch) / "adapter"
    adapter_sha256 = adapter_digest(adapter_dir)
    if read_optional(epoch_metrics(epoch - 1), "adapter_sha256") == adapter_sha256:
        metrics = carry_over(epoch)  # train@N handed adapter N-1 on unchanged: so are its answers
        if params.loop.pool_per_epoch:  # but the next epoch practises on new pool prompts
            metrics = score_epoch(params, epoch, adapter_dir, model_dir, adapter_sha256, ("pool",), metrics)
    else:
        metrics = score_epoch(params, epoch, adapter_dir, model_dir, adapter_sha256)
    decision = convergence(params, epoch, metrics["pool"])
    metrics["converged"] = decision.pop("converged")
    if metrics["converged"]:
        metrics["converged_at"] = epoch
    metrics["convergence"] = decision
    write_json(epoch_metrics(epoch), metrics)
    if "carried_over" in metrics:
        console.print(f"evaluate@{epoch}: {metrics['carried_over']} (no generation)")
    print_summary(f"evaluate@{epoch}", metrics)
    return metrics


def pass_through(epoch: int, converged_at: int) -> dict:
    """After convergence the adapter does not change (train@N copies it), so neither do its answers."""
    metrics = {
        **carry_over(epoch),
        "converged": True,
        "converged_at": converged_at,
        "passed_through": pass_through_note(converged_at),
    }
    write_json(epoch_metrics(epoch), metrics)
    console.print(f"evaluate@{epoch}: {metrics['passed_through']}; the scores of epoch {epoch - 1} carried over")
    return metrics


def run_file(
    params: Params, adapter_dir: Path | None, in_path: Path, out_path: Path, model_dir: Path = BASE_DIR
) -> dict:
    """Answer and score one file of export records by hand; write the scored records to `out_path`."""
    records = []
    for number, item in iter_jsonl(in_path):
        if isinstance(item, Reject):
            raise UserError(f"{in_path}:{number}: {item.reason}")
        if not isinstance(item.get("prompt"), str) or item.get("task") not in params.gate.task_names:
            raise UserError(
                f"{in_path}:{number}: not an export record (needs a string 'prompt' and a 'task' "
                f"of {', '.join(params.gate.task_names)})"
            )
        records.append(item)
    model, tokenizer = load_student(model_dir, adapter_dir, params.student, threads=params.runtime.threads)
    scored, summary = answer_and_score(records, model, tokenizer, params, f"evaluate {in_path.name}")
    write_jsonl(out_path, scored)
    print_summary(f"evaluate {shown(in_path)} -> {shown(out_path)}", {"file": summary})
    return summary


def main(
    epoch: Annotated[int | None, typer.Option(help="evaluate runs/epoch-N/adapter on pool, val and test")] = None,
    adapter: Annotated[Path | None, typer.Option(help="by hand: a LoRA adapter directory (default: none)")] = None,
    in_file: Annotated[Path | None, typer.Option("--in", help="by hand: export records to answer and score")] = None,
    out: Annotated[Path | None, typer.Option(help="by hand: where the scored records go")] = None,
    model: ModelDirOption = Path("models/base"),
    params_file: ParamsOption = Path("params.yaml"),
):
    """Answer and score with adapter N (`--epoch N`), or any file by hand (`--in FILE --out FILE`)."""
    params = load_params(params_file)
    if epoch is not None:
        if in_file or out or adapter:
            raise UserError("evaluate: give either --epoch N, or --in FILE --out FILE [--adapter DIR]")
        run(params, epoch, model)
    elif in_file is not None and out is not None:
        run_file(params, adapter, in_file, out, model)
    else:
        raise UserError("evaluate: give --epoch N, or --in FILE --out FILE [--adapter DIR]")


if __name__ == "__main__":
    run_command(main)
