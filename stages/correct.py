"""correct@N: the teacher corrects the pool answers that failed the gate; the same gate verifies.

Reads runs/epoch-(N-1)/pool.scored.jsonl; writes runs/epoch-N/corrections.jsonl, runs/epoch-N/augmented.jsonl
(the teacher's new tasks, with correct.augment) and metrics/epochs/N-correct.json. Which answers go to the
teacher, in what order, within which caps, and which corrections are accepted: distilloop/teachers/correction.py.
Only accepted corrections are ever trained on (merge@N).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distilloop import UserError
from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, shown, summary_table
from distilloop.io import write_json, write_jsonl
from distilloop.loop import converged_before, pass_through_note
from distilloop.paths import epoch_dir, epoch_metrics
from distilloop.teachers.correction import EMPTY_METRICS, correct_answers, load_scored


def run(
    params: Params,
    epoch: int | None = None,
    in_path: Path | None = None,
    out_path: Path | None = None,
    metrics_path: Path | None = None,
) -> dict:
    if epoch is not None:
        in_path = in_path or epoch_dir(epoch - 1) / "pool.scored.jsonl"
        out_path = out_path or epoch_dir(epoch) / "corrections.jsonl"
        metrics_path = metrics_path or epoch_metrics(epoch, "-correct")
    if in_path is None or out_path is None:
        raise UserError("correct: give --epoch N, or --in SCORED.jsonl and --out CORRECTIONS.jsonl")
    metrics_path = metrics_path or Path(out_path).with_suffix(".metrics.json")
    # the teacher's new tasks (correct.augment): runs/epoch-N/augmented.jsonl, which merge@N reads
    augmented_path = (
        Path(out_path).parent / "augmented.jsonl" if epoch else Path(out_path).with_suffix(".augmented.jsonl")
    )

    converged_at = converged_before(epoch) if epoch is not None else None
    if converged_at is not None:  # the loop has converged: nothing goes to the teacher
        write_jsonl(out_path, [])
        write_jsonl(augmented_path, [])
        metrics = {**EMPTY_METRICS, "skipped": pass_through_note(converged_at)}
        write_json(metrics_path, metrics)
        console.print(f"correct@{epoch}: {metrics['skipped']}; no teacher calls")
        return metrics

    corrections, augmented, metrics, teacher = correct_answers(params, load_scored(Path(in_path)), epoch)
    write_jsonl(out_path, corrections)
    write_jsonl(augmented_path, augmented)
    write_json(metrics_path, metrics)
    _summary(metrics, teacher, in_path, out_path)
    return metrics


def _summary(metrics: dict, teacher, in_path, out_path) -> None:
    rows = [(name, metrics[name]) for name in ("requested", "sent", "cache_hits", "accepted")]
    rows += [("rejected", sum(metrics["rejected"].values()) or 0), ("failed", sum(metrics["failed"].values()) or 0)]
    rows += [(f"  {group}: {reason}", n) for group in ("rejected", "failed") for reason, n in metrics[group].items()]
    augment = metrics.get("augment") or {}
    if "accepted" in augment:
        rows.append(("new tasks accepted / written", f"{augment['accepted']} / {augment['tasks_written']}"))
    rows += [
        ("skipped (max / budget)", f"{metrics['skipped_max']} / {metrics['skipped_budget']}"),
        ("tokens in / out", f"{metrics['input_tokens']} / {metrics['output_tokens']}"),
        ("cost (this run)", f"${metrics['cost_usd']:.4f}"),
    ]
    console.print(
        summary_table(
            f"correct {shown(in_path)} -> {shown(out_path)} ({teacher.backend} {shown(teacher.model)})",
            ("", "count"),
            rows,
        )
    )


def main(
    epoch: Annotated[int | None, typer.Option(min=1, help="epoch N: reads runs/epoch-(N-1)/pool.scored.jsonl")] = None,
    in_path: Annotated[Path | None, typer.Option("--in", help="scored records to correct (instead of --epoch)")] = None,
    out: Annotated[Path | None, typer.Option(help="corrections JSONL (metrics go next to it as .metrics.json)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Send the answers that failed the gate to the teacher (cached, budgeted), verify each correction."""
    if epoch is None and (in_path is None or out is None):
        raise UserError("correct: give --epoch N, or both --in SCORED.jsonl and --out CORRECTIONS.jsonl")
    run(load_params(params_file), epoch, in_path, out)


if __name__ == "__main__":
    run_command(main)
