"""`distilloop status`: one table, a row per epoch, from the metrics files the stages wrote.

Reads only metrics/ (small JSON, cache: false in DVC), so it is instant and works on a pulled
experiment without its models.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from stages.console import summary_table
from stages.params import Params
from stages.records import epoch_metrics

COLUMNS = ("epoch", "pool pass", "test pass", "val mean", "requested", "accepted", "calls", "cache hits", "cost $",
           "train loss", "note")


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _fmt(value, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def rows(params: Params) -> list[tuple]:
    table = []
    for epoch in [0, *sorted(int(key) for key in params.loop.epochs)]:
        evaluated, corrected, trained = (_read(epoch_metrics(epoch, suffix)) for suffix in ("", "-correct", "-train"))
        note = ("not evaluated yet" if not evaluated else "passed through" if evaluated.get("passed_through")
                else "converged" if evaluated.get("converged") else "training skipped" if trained.get("skipped")
                else "")
        table.append((
            epoch,
            _fmt((evaluated.get("pool") or {}).get("pass_rate"), ".1%"),
            _fmt((evaluated.get("test") or {}).get("pass_rate"), ".1%"),
            _fmt((evaluated.get("val") or {}).get("mean_score"), ".2f"),
            _fmt(corrected.get("requested")), _fmt(corrected.get("accepted")), _fmt(corrected.get("sent")),
            _fmt(corrected.get("cache_hits")), _fmt(corrected.get("cost_usd"), ".4f"),
            _fmt(trained.get("train_loss"), ".3f"), note,
        ))
    return table


def run(params: Params) -> list[tuple]:
    table = rows(params)
    console = Console()  # the table is the command's output: stdout
    if not console.is_terminal:
        console = Console(width=160)  # piped or captured: no 80-column squeeze
    console.print(summary_table("distilloop status", COLUMNS, table), soft_wrap=True)
    best = _read(Path("metrics/best.json"))
    if best:
        console.print(f"best epoch by val: {best['epoch']} (test pass rate {_fmt(best['test'].get('pass_rate'), '.1%')})")
    return table
