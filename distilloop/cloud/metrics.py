"""The headline figures of metrics/summary.json as SageMaker metrics: the entry point prints one line per
figure, `distilloop-metric NAME=VALUE`, and the job's MetricDefinitions pick them out of the log, so they
land in DescribeTrainingJob's FinalMetricDataList (which the nightly state machine compares)."""

from __future__ import annotations

import re

PREFIX = "distilloop-metric"
# name -> path in summary.json; "shipped" is the GGUF the Modelfile uses, whatever its type key (q4_k_m, ...)
HEADLINE = {
    "shipped_test_pass_rate": ("shipped", "test_pass_rate"),
    "shipped_size_mb": ("shipped", "size_mb"),
    "best_test_pass_rate": ("best_test", "pass_rate"),
    "best_test_mean_score": ("best_test", "mean_score"),
    "best_test_pearson_r": ("best_test", "pearson_r"),
    "best_epoch": ("best_epoch",),
    "corrections_accepted": ("corrections_accepted",),
    "teacher_cost_usd": ("teacher_cost_usd",),
}
# what a new model must reach (at least the last registered model's figure on each) to be registered
GATE = ("shipped_test_pass_rate", "best_test_pass_rate", "best_test_mean_score")
NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def shipped_key(summary: dict) -> str | None:
    """The summary's key of the shipped GGUF: the one dict holding test_pass_rate and size_mb."""
    for key, value in summary.items():
        if isinstance(value, dict) and {"test_pass_rate", "size_mb"} <= set(value):
            return key
    return None


def headline(summary: dict) -> dict[str, float]:
    figures = {}
    shipped = shipped_key(summary)
    for name, path in HEADLINE.items():
        value = summary
        for part in path:
            part = shipped if part == "shipped" else part
            value = value.get(part) if isinstance(value, dict) and part is not None else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            figures[name] = float(value)
    return figures


def metric_lines(summary: dict) -> list[str]:
    return [f"{PREFIX} {name}={value:.6g}" for name, value in headline(summary).items()]


def metric_definitions() -> list[dict]:
    return [{"Name": name, "Regex": f"{PREFIX} {re.escape(name)}={NUMBER}"} for name in HEADLINE]
