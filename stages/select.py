"""select: the best epoch by its validation score; the test split is only reported.

Reads metrics/epochs/{0..N}.json for the epochs of `loop.epochs`, writes metrics/best.json and copies
the winning adapter to models/best-adapter/ (so merge_lora depends on one fixed path).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from distilloop import UserError
from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, summary_table
from distilloop.io import atomic_dir, read_json, write_json
from distilloop.paths import BEST_ADAPTER, METRICS_DIR, PLOTS_DIR, epoch_dir, epoch_metrics

JUDGMENT_KEYS = ("pearson_r", "spearman_r", "mae")
HISTOGRAM_FIELDS = {"<5": "below_5", "5-7": "5_to_7", "7-9": "7_to_9", ">=9": "9_and_above"}  # plot-safe names


def write_plot_tables(epochs: list[int], by_epoch: dict[int, dict]) -> None:
    """The tables behind dvc.yaml's plots: pass rate and test score histogram per epoch, and the training
    curves of every epoch on one step axis (from each train@N's dvclive log, which N-train.json in
    metrics/epochs — this stage's dependency — accompanies)."""
    pass_rate = [
        {
            "epoch": epoch,
            **{split: (by_epoch[epoch].get(split) or {}).get("pass_rate") for split in ("pool", "val", "test")},
        }
        for epoch in epochs
    ]
    histogram = [
        {
            "epoch": epoch,
            **{
                name: ((by_epoch[epoch].get("test") or {}).get("histogram") or {}).get(bucket, 0)
                for bucket, name in HISTOGRAM_FIELDS.items()
            },
        }
        for epoch in epochs
    ]
    curves, offset = [], 0
    for epoch in epochs[1:]:
        live = epoch_dir(epoch) / "live" / "plots" / "metrics"
        series = {
            "loss": read_tsv(live / "loss.tsv", "loss"),
            "eval_loss": read_tsv(live / "eval" / "loss.tsv", "loss"),
        }
        steps = sorted(set(series["loss"]) | set(series["eval_loss"]))
        curves += [
            {"epoch": epoch, "step": offset + step, **{name: values.get(step) for name, values in series.items()}}
            for step in steps
        ]
        offset += max(steps, default=0)
    write_json(PLOTS_DIR / "pass_rate.json", pass_rate)
    write_json(PLOTS_DIR / "score_histogram.json", histogram)
    write_json(PLOTS_DIR / "training.json", curves)


def read_tsv(path: Path, column: str) -> dict[int, float]:
    """step -> value of one dvclive table; {} when the epoch logged none (a skipped or passed-through epoch)."""
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t") if lines else []
    if "step" not in header or column not in header:
        return {}
    step, value = header.index("step"), header.index(column)
    return {int(row.split("\t")[step]): float(row.split("\t")[value]) for row in lines[1:] if row.strip()}


def val_figure(val: dict) -> float:
    """What an epoch is ranked by (0-1). For a scoring task (json_record: its summary has `pearson_r`) the
    judgment counts as much as the pass rate: mean of the pass rate and Pearson r (a constant answer, with
    no correlation, counts 0); otherwise the mean gate score / 10."""
    if "pearson_r" in val:
        return (val.get("pass_rate", 0.0) + max(val.get("pearson_r") or 0.0, 0.0)) / 2
    return val.get("mean_score", 0.0) / 10


def rank_key(epoch: int, metrics: dict) -> tuple:
    """The higher val figure wins, then the higher val pass rate, then the earlier (cheaper) epoch."""
    val = metrics.get("val") or {}
    return (round(val_figure(val), 6), val.get("pass_rate", 0.0), -epoch)


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
        keys = ("pass_rate", "mean_score", "count") + (JUDGMENT_KEYS if "pearson_r" in summary else ())
        return {key: summary.get(key) for key in keys}

    result = {
        "epoch": best,
        "val": brief("val", best),
        "test": brief("test", best),
        "baseline_test": brief("test", 0),
        "val_figure_by_epoch": {str(epoch): round(val_figure(by_epoch[epoch]["val"]), 4) for epoch in epochs},
    }
    write_json(METRICS_DIR / "best.json", result)
    write_plot_tables(epochs, by_epoch)
    rows = [
        (
            epoch,
            f"{val_figure(by_epoch[epoch]['val']):.3f}",
            f"{by_epoch[epoch]['val']['pass_rate']:.2f}",
            f"{(by_epoch[epoch].get('test') or {}).get('pass_rate', 0):.2f}",
            "best" if epoch == best else "",
        )
        for epoch in epochs
    ]
    console.print(
        summary_table("select: best epoch by val", ("epoch", "val figure", "val pass", "test pass", ""), rows)
    )
    return result


def main(params_file: ParamsOption = Path("params.yaml")):
    """Pick the best epoch by its val score; copy its adapter to models/best-adapter."""
    run(load_params(params_file))


if __name__ == "__main__":
    run_command(main)
