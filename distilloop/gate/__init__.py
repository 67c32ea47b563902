"""The quality gate: one module per task family, one entry point for every stage.

    score_records(records, gate) -> scored records, in order (each + score, axes, passed, truncated, findings)
    summarise(scored, gate)      -> the epoch metrics of a scored split

`gate` is params.gate, the gate's own section. Tasks: c_code (c_code/), json_record (json_record.py) and the
project's own (user.py, params gate.tasks); each measures its axes and findings, and verdict.py turns them into the score and the pass. What the loop
does with a verdict (to the teacher, trained on) is verdict.AcceptRule.
"""

from __future__ import annotations

import functools
import math
from collections import Counter

from distilloop import UserError
from distilloop.config import GateParams
from distilloop.gate.verdict import AcceptRule, accept_rule

__all__ = ["AcceptRule", "accept_rule", "judgment", "score_records", "summarise"]

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
    json_records = [record for record in scored if record.get("task") == "json_record"]
    if json_records:
        from distilloop.gate.json_record import predicted_and_reference

        pairs = [
            pair for pair in (predicted_and_reference(r, gate.json_record) for r in json_records) if pair is not None
        ]
        summary.update(judgment(pairs, len(json_records)))
    return summary


def judgment(pairs: list[tuple[float, float]], records: int | None = None) -> dict:
    """{"judged", "pearson_r", "spearman_r", "mae"} of (answer, reference) score pairs. The correlations
    need at least half of the `records` to have given a score: r over the three answers a student
    managed to finish says nothing about its judgment."""
    mae = round(sum(abs(x - y) for x, y in pairs) / len(pairs), 4) if pairs else None
    if records is not None and len(pairs) * 2 < records:
        return {"judged": len(pairs), "pearson_r": None, "spearman_r": None, "mae": mae}
    return {"judged": len(pairs), "pearson_r": _pearson(pairs), "spearman_r": _spearman(pairs), "mae": mae}


def _ranks(values: list[float]) -> list[float]:
    """Average ranks (ties share the mean of their positions), as Spearman's r needs."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in order[start : end + 1]:
            ranks[position] = (start + end) / 2
        start = end + 1
    return ranks


def _spearman(pairs: list[tuple[float, float]]) -> float | None:
    if len(pairs) < 2:
        return None
    xs, ys = zip(*pairs)
    return _pearson(list(zip(_ranks(list(xs)), _ranks(list(ys)))))


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _pearson(pairs: list[tuple[float, float]]) -> float | None:
    """None when there are fewer than two pairs or either side is constant."""
    if len(pairs) < 2:
        return None
    xs, ys = zip(*pairs)
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    if var_x < 1e-12 or var_y < 1e-12:  # constant (floating-point sums leave a trace of variance)
        return None
    return round(cov / math.sqrt(var_x * var_y), 4)
