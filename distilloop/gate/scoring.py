"""The gate's entry points, for every stage and every task:

    score_records(records, gate) -> scored records, in order (each + score, axes, passed, truncated, findings)
    summarise(scored, gate)      -> the epoch metrics of a scored split

`gate` is params.gate, the gate's own section. Tasks: c_code (c_code/), json_record (json_record.py) and the
project's own (user.py: a scorer, or an LLM judge, judge.py); each measures its axes and findings, and
verdict.py turns them into the score and the pass.
"""

from __future__ import annotations

import functools
import math
from collections import Counter

from distilloop import UserError
from distilloop.config import GateParams
from distilloop.gate.agreement import judgment, pearson

HISTOGRAM = (("<5", 0.0, 5.0), ("5-7", 5.0, 7.0), ("7-9", 7.0, 9.0), (">=9", 9.0, math.inf))


def _scorer(task: str):
    """score(records, gate, on_progress, timings) of a task: a built-in module's, or a user task's."""
    if task == "c_code":
        from distilloop.gate import c_code

        return c_code.score
    if task == "json_record":
        from distilloop.gate import json_record

        return json_record.score
    from distilloop.gate import user

    return functools.partial(user.score, task)


def score_records(records: list[dict], gate: GateParams, on_progress=None, timings: dict | None = None) -> list[dict]:
    """Score records that carry an `output` (and optionally `truncated`, `gen`); batched per task.

    on_progress(n) is called as n more records are done; `timings`, when given, receives the CPU
    seconds spent per axis, tools included, summed over worker processes."""
    by_task: dict[str, list[int]] = {}
    for position, record in enumerate(records):
        task = record.get("task")
        if task not in gate.task_names:
            raise UserError(
                f"record {record.get('id', position)!r}: unknown task {task!r} "
                f"(known: {', '.join(gate.task_names)}; a project declares its own under gate.tasks)"
            )
        by_task.setdefault(task, []).append(position)
    scored: list[dict | None] = [None] * len(records)
    for task, positions in by_task.items():
        results = _scorer(task)([records[p] for p in positions], gate, on_progress, timings)
        for position, result in zip(positions, results):
            scored[position] = result
    return scored


def summarise(scored: list[dict], gate: GateParams) -> dict:
    """count, pass_rate, mean_score, per-axis means (over records the axis applies to), a score histogram,
    truncation_rate, findings (records with at least one finding of each id), and for json_record how well
    the answers' scores follow the reference's: Pearson and Spearman r and the mean absolute error over the
    answers that gave a score (`judged` of them). A constant answer has no correlation (None)."""
    count = len(scored)
    scores = [float(record["score"]) for record in scored]
    axes: dict[str, list[float]] = {}
    for record in scored:
        for axis, value in record.get("axes", {}).items():
            axes.setdefault(axis, []).append(float(value))
    findings = Counter(fid for record in scored for fid in {f["id"] for f in record.get("findings", [])})
    summary = {
        "count": count,
        "pass_rate": _ratio(sum(bool(record.get("passed")) for record in scored), count),
        "mean_score": round(sum(scores) / count, 4) if count else 0.0,
        "axes": {axis: round(sum(values) / len(values), 4) for axis, values in sorted(axes.items())},
        "histogram": {name: sum(low <= s < high for s in scores) for name, low, high in HISTOGRAM},
        "truncation_rate": _ratio(sum(bool(record.get("truncated")) for record in scored), count),
        "findings": dict(sorted(findings.items(), key=lambda item: (-item[1], item[0]))),
    }
    judged = _judges(scored)
    if judged:
        summary["judges"] = judged
    json_records = [record for record in scored if record.get("task") == "json_record"]
    if json_records:
        from distilloop.gate.json_record import predicted_and_reference

        pairs = [
            pair for pair in (predicted_and_reference(r, gate.json_record) for r in json_records) if pair is not None
        ]
        summary.update(judgment(pairs, len(json_records)))
    return summary


def _judges(scored: list[dict]) -> dict:
    """Per task an LLM judge scored in this process: its calibration and spend (judge.py), and how its
    scores of this split follow the answers' length (a verbosity bias shows as a high r)."""
    from distilloop.gate.judge import REPORTS

    judged = {}
    for task in sorted({record.get("task") for record in scored} & set(REPORTS)):
        lengths = [(float(r["score"]), len(r.get("output") or "")) for r in scored if r.get("task") == task]
        judged[task] = {**REPORTS[task], "length_r": pearson(lengths)}
    return judged


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
