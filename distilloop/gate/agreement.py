"""How well two sets of scores agree: an answer's against its reference's (the JSON task), a judge's
against labelled answers (judge.py), a score against an answer's length."""

from __future__ import annotations

import math


def judgment(pairs: list[tuple[float, float]], records: int | None = None) -> dict:
    """{"judged", "pearson_r", "spearman_r", "mae"} of (answer, reference) score pairs. The correlations
    need at least half of the `records` to have given a score: r over the three answers a student
    managed to finish says nothing about its judgment."""
    mae = round(sum(abs(x - y) for x, y in pairs) / len(pairs), 4) if pairs else None
    if records is not None and len(pairs) * 2 < records:
        return {"judged": len(pairs), "pearson_r": None, "spearman_r": None, "mae": mae}
    return {"judged": len(pairs), "pearson_r": pearson(pairs), "spearman_r": _spearman(pairs), "mae": mae}


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
    return pearson(list(zip(_ranks(list(xs)), _ranks(list(ys)))))


def pearson(pairs: list[tuple[float, float]]) -> float | None:
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
