"""metrics/summary.json: the headline a reviewer reads in `dvc metrics show` / `dvc metrics diff`.

About fifteen numbers: val and test pass rate per epoch, the shipped adapter's test figures (pass rate,
mean score, Pearson r where the task has reference scores: the best epoch's, or the RL adapter's when the
rl stage shipped one, with `rl_step` saying which: 0 for the SFT adapter), the teacher's accepted corrections
and cost over all epochs, and the shipped GGUF's (the one the Ollama Modelfile uses) test pass rate and
size. The detailed files it draws on (metrics/epochs/*.json, best.json, rl.json, quantise.json) stay plain
outputs for `distilloop status` and plots.
"""

from __future__ import annotations

from pathlib import Path

from distilloop.io import read_json
from distilloop.paths import METRICS_DIR, epoch_metrics


def shipped_type(quantised: dict) -> str | None:
    """The GGUF type the Ollama Modelfile uses (the smallest of quantise.types): "model-q8_0.gguf" -> "q8_0"."""
    name = quantised.get("modelfile_model")
    return name.removeprefix("model-").removesuffix(".gguf") if name else None


def _figure(value, digits: int = 4):
    return round(value, digits) if isinstance(value, int | float) else None


def merged_reference(metrics_dir: Path = METRICS_DIR) -> dict:
    """The merged model's test figures: the RL adapter's own (rl.json) when the rl stage shipped it, else the
    best epoch's (best.json; merge_lora proved merged == base + adapter)."""
    best = read_json(metrics_dir / "best.json")
    rl_path = metrics_dir / "rl.json"
    rl = read_json(rl_path) if rl_path.exists() else {}
    if rl.get("adapter") == "rl":
        return {"epoch": best["epoch"], "rl_step": rl["best_step"], **rl["test"]}
    return {"epoch": best["epoch"], "rl_step": 0, **best["test"]}


def headline(epochs: list[int], best: dict, quantised: dict) -> dict:
    """The summary of a finished run from its metrics files (missing files leave their figures out)."""
    val, test, accepted, cost = {}, {}, 0, 0.0
    for epoch in [0, *epochs]:
        path = epoch_metrics(epoch)
        figures = read_json(path) if path.exists() else {}
        val[str(epoch)] = _figure((figures.get("val") or {}).get("pass_rate"))
        test[str(epoch)] = _figure((figures.get("test") or {}).get("pass_rate"))
        correct = epoch_metrics(epoch, "-correct")
        if epoch and correct.exists():
            corrections = read_json(correct)
            accepted += corrections.get("accepted", 0)
            cost += corrections.get("cost_usd", 0.0)
    best_test = best.get("test") or {}
    summary = {
        "best_epoch": best.get("epoch"),
        "rl_step": best_test.get("rl_step", 0),  # 0: the SFT adapter shipped
        "val_pass_rate": val,
        "test_pass_rate": test,
        "best_test": {
            "pass_rate": _figure(best_test.get("pass_rate")),
            "mean_score": _figure(best_test.get("mean_score")),
        },
        "corrections_accepted": accepted,
        "teacher_cost_usd": round(cost, 4),
    }
    if best_test.get("pearson_r") is not None:
        summary["best_test"]["pearson_r"] = _figure(best_test["pearson_r"])
    kind = shipped_type(quantised)
    shipped = (quantised.get("types") or {}).get(kind)
    if shipped:  # keyed by its type, so `dvc metrics diff` never compares a q8_0 with a q4_k_m
        summary[kind] = {
            "test_pass_rate": _figure(shipped["pass_rate"]),
            "size_mb": round(shipped["size_bytes"] / 2**20, 1),
        }
    return summary


SUMMARY_PATH = METRICS_DIR / "summary.json"
