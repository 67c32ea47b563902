"""select: the best epoch by its validation score; the test split is only reported.

Reads metrics/epochs/{0..N}.json for the epochs of `loop.epochs`, writes metrics/best.json and copies
the winning adapter to models/best-adapter/ (so merge_lora depends on one fixed path).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from stages import UserError
from stages.console import console, summary_table
from stages.params import Params
from stages.records import MODELS_DIR, METRICS_DIR, atomic_dir, epoch_dir, epoch_metrics, read_json, write_json

BEST_ADAPTER = MODELS_DIR / "best-adapter"


def rank_key(epoch: int, metrics: dict) -> tuple:
    """Higher val mean score wins, then higher val pass rate, then the earlier (cheaper) epoch."""
    val = metrics.get("val") or {}
    return (val.get("mean_score", 0.0), val.get("pass_rate", 0.0), -epoch)


def run(params: Params) -> dict:
    epochs = [0, *sorted(int(key) for key in params.loop.epochs)]
    by_epoch = {}
    for epoch in epochs:
        metrics = read_json(epoch_metrics(epoch))
        if not (metrics.get("val") or {}).get("count"):
            raise UserError(f"{epoch_metrics(epoch)}: no val scores; select needs a non-empty val split")
        by_epoch[epoch] = metrics
    best = max(epochs, key=lambda epoch: rank_key(epoch, by_epoch[epoch]))
    adapter = epoch_dir(best) / "adapter"
    if not adapter.is_dir():
        raise UserError(f"{adapter}: the best epoch's adapter is missing")
    with atomic_dir(BEST_ADAPTER) as tmp:
        shutil.copytree(adapter, tmp, dirs_exist_ok=True)

    def brief(split: str, epoch: int) -> dict:
        summary = by_epoch[epoch].get(split) or {}
        return {key: summary.get(key) for key in ("pass_rate", "mean_score", "count")}

    result = {
        "epoch": best,
        "val": brief("val", best),
        "test": brief("test", best),
        "baseline_test": brief("test", 0),
        "val_mean_score_by_epoch": {str(epoch): by_epoch[epoch]["val"]["mean_score"] for epoch in epochs},
    }
    write_json(METRICS_DIR / "best.json", result)
    rows = [(epoch, f"{by_epoch[epoch]['val']['mean_score']:.2f}", f"{by_epoch[epoch]['val']['pass_rate']:.2f}",
             f"{(by_epoch[epoch].get('test') or {}).get('pass_rate', 0):.2f}", "best" if epoch == best else "")
            for epoch in epochs]
    console.print(summary_table("select: best epoch by val", ("epoch", "val mean", "val pass", "test pass", ""), rows))
    return result
