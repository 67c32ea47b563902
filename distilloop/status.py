"""`distilloop status`: one table, a row per epoch, from the metrics files the stages wrote.

Reads only metrics/ (small JSON, cache: false in DVC), so it is instant and works on a pulled
experiment without its models.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from distilloop.config import Params
from distilloop.console import summary_table
from distilloop.paths import epoch_metrics

COLUMNS = (
    "epoch",
    "pool pass",
    "val pass",
    "val r",
    "test pass",
    "test r",
    "test mean",
    "requested",
    "accepted",
    "calls",
    "cost $",
    "trained on",
    "tokens",
    "note",
)


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
        note = (
            "not evaluated yet"
            if not evaluated
            else "passed through"
            if evaluated.get("passed_through")
            else "converged"
            if evaluated.get("converged")
            else "training skipped"
            if trained.get("skipped")
            else ""
        )
        pool, val, test = (evaluated.get(split) or {} for split in ("pool", "val", "test"))
        table.append(
            (
                epoch,
                _fmt(pool.get("pass_rate"), ".1%"),
                _fmt(val.get("pass_rate"), ".1%"),
                _fmt(val.get("pearson_r"), ".3f"),
                _fmt(test.get("pass_rate"), ".1%"),
                _fmt(test.get("pearson_r"), ".3f"),
                _fmt(test.get("mean_score"), ".2f"),
                _fmt(corrected.get("requested")),
                _fmt(corrected.get("accepted")),
                _fmt(corrected.get("sent")),
                _fmt(corrected.get("cost_usd"), ".4f"),
                _fmt(trained.get("train_examples")),
                _fmt((evaluated.get("generation") or {}).get("tokens")),
                note,
            )
        )
    return table


def rl_line(rl: dict) -> str | None:
    """What the rl stage shipped, when it ran: the RL adapter (its step, val and test) or the SFT adapter."""
    if not rl.get("enabled"):
        return None
    sft_val = _fmt(rl.get("sft_val_pass_rate"), ".1%")
    if rl.get("adapter") != "rl":
        return f"rl: {rl['steps']} GRPO steps ({rl.get('stopped')}), no val pass rate above {sft_val}: the SFT adapter ships"
    sft_test, test = (_fmt((rl.get(key) or {}).get("pass_rate"), ".1%") for key in ("sft_test", "test"))
    return (
        f"rl: the adapter of GRPO step {rl['best_step']} of {rl['steps']} ships (val pass rate {sft_val} -> "
        f"{_fmt(rl.get('best_val_pass_rate'), '.1%')}, test {sft_test} -> {test})"
    )


def run(params: Params) -> list[tuple]:
    table = rows(params)
    console = Console()  # the table is the command's output: stdout
    if not console.is_terminal:
        console = Console(width=160)  # piped or captured: no 80-column squeeze
    console.print(summary_table("distilloop status", COLUMNS, table), soft_wrap=True)
    best = _read(Path("metrics/best.json"))
    if best:
        test = best["test"]
        console.print(
            f"best epoch by val: {best['epoch']} (test pass rate {_fmt(test.get('pass_rate'), '.1%')}"
            + (f", Pearson r {_fmt(test.get('pearson_r'), '.3f')}" if "pearson_r" in test else "")
            + ")"
        )
    if line := rl_line(_read(Path("metrics/rl.json"))):
        console.print(line)
    quantised = _read(Path("metrics/quantise.json"))
    for kind, figures in (quantised.get("types") or {}).items():
        console.print(
            f"{kind} GGUF: test pass rate {_fmt(figures.get('pass_rate'), '.1%')}"
            + (f", Pearson r {_fmt(figures.get('pearson_r'), '.3f')}" if "pearson_r" in figures else "")
            + f", {figures.get('size_bytes', 0) / 2**20:.0f} MB"
        )
    return table
