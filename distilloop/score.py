"""score: run the quality gate over any JSONL of records that carry an `output` field.

    distilloop score --in FILE --out FILE [--task NAME] [--metrics FILE]

Writes the scored records (docs/gate.md lists their fields) to OUT in input order. A line that is not a JSON object,
has no string `output`, names an unknown task, or has `checks` that are not an object becomes a reject
in OUT's sibling `<name>.rejects.jsonl` with its line and reason. `--task` is the task of records that
name none. The summary (distilloop.gate.scoring.summarise, plus the reject count) goes to `--metrics` if given and
to a table on the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

from distilloop import UserError
from distilloop.config import Params
from distilloop.console import console, progress, shown, summary_table
from distilloop.gate.scoring import score_records, summarise
from distilloop.io import Reject, iter_jsonl, write_json, write_jsonl

TOP_FINDINGS = 8


def rejects_path(out_path: Path) -> Path:
    return out_path.with_name(f"{out_path.name.removesuffix('.jsonl')}.rejects.jsonl")


def problem(record: dict, default_task: str | None, tasks: tuple[str, ...]) -> str | None:
    """Why a record cannot be scored, or None."""
    if "output" not in record:
        return "missing field: 'output'"
    if not isinstance(record["output"], str):
        return f"bad field: 'output' must be a string, got {type(record['output']).__name__}"
    task = record.get("task") or default_task
    if task is None:
        return "missing field: 'task' (or give --task)"
    if task not in tasks:
        return f"unknown task: {task!r} (known: {', '.join(tasks)})"
    if record.get("checks") is not None and not isinstance(record["checks"], dict):
        return "bad field: 'checks' must be an object"
    return None


def run(
    params: Params, in_path: Path, out_path: Path, task: str | None = None, metrics_path: Path | None = None
) -> dict:
    tasks = params.gate.task_names
    if task is not None and task not in tasks:
        raise UserError(f"--task: unknown task {task!r} (known: {', '.join(tasks)}; declare it under gate.tasks)")
    records, rejects = [], []
    for number, item in iter_jsonl(in_path):
        if isinstance(item, Reject):
            rejects.append(item.to_dict())
            continue
        reason = problem(item, task, tasks)
        if reason is not None:
            rejects.append(Reject(str(in_path), number, reason, json.dumps(item, ensure_ascii=False)).to_dict())
            continue
        records.append(item if item.get("task") else {**item, "task": task})
    stale = rejects_path(out_path)
    if rejects:  # written first: a file of nothing but rejects still says what each line's problem was
        write_jsonl(stale, rejects)
    elif stale.exists():
        stale.unlink()  # a rejects file from an earlier run would describe other input
    if not records:
        first = f", first: line {rejects[0]['line']}: {rejects[0]['reason']}" if rejects else ""
        written = f"; rejects in {stale}" if rejects else ""
        raise UserError(f"{in_path}: no record to score ({len(rejects)} rejects{first}{written})")

    with progress() as bar:
        bar_task = bar.add_task(f"score {in_path.name}", total=len(records))
        scored = score_records(records, params.gate, on_progress=lambda done: bar.advance(bar_task, done))
    write_jsonl(out_path, scored)

    summary = {**summarise(scored, params.gate), "rejects": len(rejects)}
    if metrics_path is not None:
        write_json(metrics_path, summary)
    _print_summary(in_path, out_path, summary)
    return summary


def _print_summary(in_path: Path, out_path: Path, summary: dict) -> None:
    rows = [
        ("records scored", summary["count"]),
        ("rejects", summary["rejects"]),
        ("pass rate", f"{summary['pass_rate']:.1%}"),
        ("mean score", f"{summary['mean_score']:.2f}"),
        ("truncated", f"{summary['truncation_rate']:.1%}"),
    ]
    rows += [(f"axis {axis}", f"{value:.2f}") for axis, value in summary["axes"].items()]
    rows.append(("scores <5 / 5-7 / 7-9 / >=9", " / ".join(str(n) for n in summary["histogram"].values())))
    if summary.get("judged"):
        rows.append(
            (
                "score vs reference: Pearson r / Spearman r / MAE",
                " / ".join(
                    "-" if summary[k] is None else f"{summary[k]:.3f}" for k in ("pearson_r", "spearman_r", "mae")
                ),
            )
        )
    top = list(summary["findings"].items())[:TOP_FINDINGS]
    rows += [(f"finding {finding}", f"{count} records") for finding, count in top]
    console.print(summary_table(f"score {shown(in_path)} -> {shown(out_path)}", ("", "value"), rows))
