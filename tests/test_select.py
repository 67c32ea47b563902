"""select: the best epoch by val; test never decides; the winner's adapter is copied."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from distilloop import UserError
from distilloop.config import Params


def write_epoch(root: Path, epoch: int, val_mean: float, val_pass: float, test_pass: float) -> None:
    metrics = {
        "epoch": epoch,
        "val": {"count": 20, "mean_score": val_mean, "pass_rate": val_pass},
        "test": {"count": 20, "mean_score": 5.0, "pass_rate": test_pass},
    }
    (root / "metrics/epochs").mkdir(parents=True, exist_ok=True)
    (root / f"metrics/epochs/{epoch}.json").write_text(json.dumps(metrics))
    adapter = root / f"runs/epoch-{epoch}/adapter"
    adapter.mkdir(parents=True, exist_ok=True)
    (adapter / "adapter_model.safetensors").write_text(f"weights of epoch {epoch}")


def test_best_val_epoch_wins_and_test_never_decides(tmp_path, monkeypatch):
    from stages import select

    monkeypatch.chdir(tmp_path)
    write_epoch(tmp_path, 0, 4.0, 0.10, 0.10)
    write_epoch(tmp_path, 1, 6.5, 0.40, 0.90)  # best on test, not on val
    write_epoch(tmp_path, 2, 7.1, 0.55, 0.45)
    write_epoch(tmp_path, 3, 7.1, 0.55, 0.50)  # a tie on val: the earlier epoch wins
    result = select.run(Params.model_validate({"loop": {"epochs": {"1": 0, "2": 1, "3": 2}}}))
    assert result["epoch"] == 2
    assert json.loads(Path("metrics/best.json").read_text()) == result
    assert result["test"]["pass_rate"] == 0.45 and result["baseline_test"]["pass_rate"] == 0.10
    assert Path("models/best-adapter/adapter_model.safetensors").read_text() == "weights of epoch 2"
    assert not [name for name in os.listdir("models") if name.startswith(".")]  # no temp dirs left


def test_a_scoring_task_is_ranked_by_pass_rate_and_correlation(tmp_path, monkeypatch):
    """A profile student that answers the same score for everyone can pass many records; its r is what
    tells it apart. An epoch with a constant answer (r None) counts its correlation as 0."""
    from stages import select

    monkeypatch.chdir(tmp_path)
    for epoch, (val_pass, r) in enumerate([(0.0, None), (0.60, None), (0.55, 0.80), (0.50, 0.70)]):
        write_epoch(tmp_path, epoch, 5.0, val_pass, 0.5)
        path = tmp_path / f"metrics/epochs/{epoch}.json"
        metrics = json.loads(path.read_text())
        for split in ("val", "test"):
            metrics[split].update(pearson_r=r, spearman_r=r, mae=0.1)
        path.write_text(json.dumps(metrics))
    result = select.run(Params.model_validate({"loop": {"epochs": {"1": 0, "2": 1, "3": 2}}}))
    assert result["epoch"] == 2 and result["val_figure_by_epoch"] == {"0": 0.0, "1": 0.3, "2": 0.675, "3": 0.6}
    assert result["test"]["pearson_r"] == 0.8 and result["baseline_test"]["pearson_r"] is None


def test_missing_epoch_metrics_is_a_user_error(tmp_path, monkeypatch):
    from stages import select

    monkeypatch.chdir(tmp_path)
    write_epoch(tmp_path, 0, 4.0, 0.1, 0.1)
    with pytest.raises(UserError, match=r"metrics/epochs/1.json: file not found"):
        select.run(Params.model_validate({"loop": {"epochs": {"1": 0}}}))
