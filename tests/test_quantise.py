"""quantise on a tiny merged model: GGUF files, Modelfile, the post-quantisation gate and its limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT

from distilloop import UserError
from distilloop.config import Params


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A project directory whose test split holds real seed records of both tasks."""
    monkeypatch.chdir(tmp_path)
    c_tasks = [json.loads(line) for line in (ROOT / "distilloop/data/c_tasks.jsonl").read_text().splitlines()[:3]]
    profile = {
        "id": "p1",
        "task": "json_record",
        "prompt": "Score handle ada as JSON.",
        "reference": {"handle": "ada", "score": 0.5, "reason": "ok"},
    }
    Path("data/export").mkdir(parents=True)
    Path("data/export/test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [*c_tasks, profile]))
    return tmp_path


def params(**quantise) -> Params:
    return Params.model_validate({"student": {"max_new_tokens": 8}, "quantise": quantise})


def test_quantise_writes_ggufs_modelfile_and_scores_each_type(tiny_model_dir, workspace):
    from stages import quantise

    reference = {"epoch": 2, "pass_rate": 0.0, "mean_score": 1.0}
    metrics = quantise.run(
        params(types=["f16", "q8_0", "q4_k_m"]),
        tiny_model_dir,
        Path("models/gguf"),
        Path("metrics/quantise.json"),
        reference,
    )
    files = {kind: Path(f"models/gguf/model-{kind}.gguf") for kind in ("f16", "q8_0", "q4_k_m")}
    assert all(path.stat().st_size > 0 for path in files.values())
    assert metrics == json.loads(Path("metrics/quantise.json").read_text())
    assert set(metrics["types"]) == set(files) and metrics["merged"] == reference
    for kind, figures in metrics["types"].items():
        assert figures["size_bytes"] == files[kind].stat().st_size
        assert figures["pass_rate_drop"] == round(reference["pass_rate"] - figures["pass_rate"], 4)
        assert figures["mean_score_delta"] == round(figures["mean_score"] - reference["mean_score"], 4)
        assert figures["tokens_per_second"] > 0
        assert {"judged", "pearson_r", "spearman_r", "mae"} <= set(figures)  # the split holds a profile record
    # a random tiny model writes nothing that passes: every answer is scored and fails
    assert all(figures["pass_rate"] == 0.0 for figures in metrics["types"].values())
    modelfile = Path("models/gguf/Modelfile").read_text()
    assert modelfile.startswith("FROM ./model-q4_k_m.gguf\n") and 'PARAMETER stop "<|im_end|>"' in modelfile


def test_the_headline_reports_the_gguf_the_modelfile_ships_under_its_type(workspace):
    from distilloop.loop.summary import headline

    # the C profile ships q8_0 (q4_k_m loses most of the C student's passes)
    quantised = {
        "types": {
            "f16": {"pass_rate": 0.1728, "size_bytes": 2 * 2**20},
            "q8_0": {"pass_rate": 0.1235, "size_bytes": 2**20},
        },
        "modelfile_model": "model-q8_0.gguf",
    }
    summary = headline([1], {"epoch": 1, "test": {"pass_rate": 0.1605, "mean_score": 6.54}}, quantised)
    assert summary["q8_0"] == {"test_pass_rate": 0.1235, "size_mb": 1.0}
    assert "q4_k_m" not in summary and "f16" not in summary
    assert summary["best_test"] == {"pass_rate": 0.1605, "mean_score": 6.54}


def test_quantise_fails_when_a_type_loses_most_of_a_small_pass_rate(tiny_model_dir, workspace):
    """0.10 -> 0.00 is within the absolute guard (0.15) but loses every pass: the relative guard stops it."""
    from stages import quantise

    reference = {"epoch": 1, "pass_rate": 0.1, "mean_score": 4.0}
    with pytest.raises(
        UserError,
        match=r"q8_0 keeps 0% of the merged model's test passes \(0.00 of 0.10; "
        r"> quantise.max_relative_pass_rate_drop 0.5 lost\)",
    ):
        quantise.run(params(types=["q8_0"]), tiny_model_dir, Path("models/gguf"), Path("m.json"), reference)
    written = json.loads(Path("m.json").read_text())
    assert written["types"]["q8_0"]["pass_rate"] == 0.0 and written["max_relative_pass_rate_drop"] == 0.5


def test_quantise_fails_when_a_type_loses_too_much_pass_rate(tiny_model_dir, workspace):
    from stages import quantise

    reference = {"epoch": 1, "pass_rate": 0.5, "mean_score": 8.0}
    with pytest.raises(
        UserError, match=r"q8_0 loses 0.50 of the test pass rate \(> quantise.max_pass_rate_drop 0.15\)"
    ):
        quantise.run(params(types=["q8_0"]), tiny_model_dir, Path("models/gguf"), Path("m.json"), reference)
    written = json.loads(Path("m.json").read_text())  # the figures are kept for the user to read
    assert written["types"]["q8_0"]["pass_rate_drop"] == 0.5
    assert sorted(p.name for p in Path("models/gguf").iterdir()) == ["Modelfile", "model-q8_0.gguf"]


def test_quantise_needs_the_merged_model(workspace):
    from stages import quantise

    with pytest.raises(UserError, match="merged model not found"):
        quantise.run(params(), Path("models/merged"), Path("models/gguf"), Path("m.json"), {"pass_rate": 0})
