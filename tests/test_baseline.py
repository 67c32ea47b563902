"""baseline and evaluate end to end: a tiny model answers a few real records of both bundled tasks in a
temporary project, the real gate scores them, and every file and metric the stages promise is there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, assert_one_line_error, run_cli
from safetensors.torch import load_file

from distilloop import export
from distilloop.config import Params
from distilloop.io import read_json, read_records, write_json, write_jsonl
from distilloop.loop.epochs import convergence
from distilloop.paths import SCORED_SPLITS
from stages import baseline, evaluate

SCORED_KEYS = {"output", "score", "axes", "passed", "truncated", "findings", "gen"}


def _params(loop: dict | None = None, **top) -> Params:
    return Params.model_validate(
        {
            **top,
            "loop": {"pool_per_epoch": 0, **(loop or {})},  # every pool prompt every epoch: carry-over is whole
            "student": {"max_new_tokens": 8, "batch_size": 2, "dtype": "float32"},
            "runtime": {"threads": 1},
            "train": {"lora": {"r": 4, "alpha": 8, "target_modules": None}},
        }
    )


@pytest.fixture
def project(tmp_path, monkeypatch):
    """data/export with a few bundled C tasks and scoring profiles; one train record lacks its reference."""
    c_tasks = [json.loads(line) for line in (ROOT / "distilloop/data/c_tasks.jsonl").read_text().splitlines()[:7]]
    export.run(Params(), "bundled:json_record", out_dir=tmp_path / "profiles", metrics_path=None)
    profiles = read_records(tmp_path / "profiles" / "pool.jsonl")[:2]
    untrainable = {key: value for key, value in c_tasks[2].items() if key != "reference"}
    splits = {
        "train": [c_tasks[0], c_tasks[1], untrainable],
        "pool": [c_tasks[3], profiles[0], c_tasks[4]],
        "val": [c_tasks[5], profiles[1]],
        "test": [c_tasks[6]],
    }
    for split, records in splits.items():
        write_jsonl(tmp_path / "data/export" / f"{split}.jsonl", records)
    monkeypatch.chdir(tmp_path)
    return splits


def test_baseline_then_evaluate(project, tiny_model_dir):
    params = _params()
    metrics = baseline.run(params, tiny_model_dir)

    # the epoch-0 adapter: LoRA on the detected attention projections, B = 0
    adapter = "runs/epoch-0/adapter"
    config = json.loads(open(f"{adapter}/adapter_config.json").read())
    assert sorted(config["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"] and config["r"] == 4
    weights = load_file(f"{adapter}/adapter_model.safetensors")
    lora_b = [tensor for name, tensor in weights.items() if "lora_B" in name]
    assert lora_b and all(not tensor.any() for tensor in lora_b)
    assert any(tensor.any() for name, tensor in weights.items() if "lora_A" in name)

    # scored splits: every record, in order, with the gate's and generation's fields
    for split in SCORED_SPLITS:
        scored = read_records(f"runs/epoch-0/{split}.scored.jsonl")
        assert [r["id"] for r in scored] == [r["id"] for r in project[split]]
        for record in scored:
            assert SCORED_KEYS <= record.keys() and 0 <= record["score"] <= 10
            assert record["truncated"] is True and record["gen"]["tokens"] == 8  # a random model never stops
        assert metrics[split]["count"] == len(project[split])
        assert {"pass_rate", "mean_score", "axes", "histogram", "truncation_rate"} <= metrics[split].keys()
        assert set(metrics[split]["histogram"]) == {"<5", "5-7", "7-9", ">=9"}
    assert {r["task"] for r in read_records("runs/epoch-0/pool.scored.jsonl")} == {"c_code", "json_record"}

    # the seed train set; the record without a reference is counted, not lost
    train = read_records("runs/epoch-0/bank.jsonl")
    assert [(r["id"], r["source"]) for r in train] == [(r["id"], "seed") for r in project["train"][:2]]
    assert train[0]["completion"] == project["train"][0]["reference"]
    assert metrics["train"] == {
        "records": 3,
        "written": 2,
        "without_reference": 1,
        "preference_pairs": 0,
        "ids_without_reference": [project["train"][2]["id"]],
    }

    written = read_json("metrics/epochs/0.json")
    assert written["epoch"] == 0 and written["converged"] is False
    assert written["generation"]["prompts"] == 6 and written["generation"]["tokens"] == 6 * 8
    assert written["generation"]["tokens_per_second"] > 0

    # evaluate@1 with an adapter equal to the base model answers exactly as the baseline did (one more
    # file makes it another adapter directory, so it generates rather than carries over)
    shutil.copytree(adapter, "runs/epoch-1/adapter")
    Path("runs/epoch-1/adapter/NOTES.md").write_text("the same weights in another adapter directory\n")
    write_json("metrics/epochs/1-correct.json", {"requested": 20})
    first = evaluate.run(_params(quality_threshold=0.0, loop={"converge_max_corrections": 2}), 1, tiny_model_dir)
    assert "carried_over" not in first and first["generation"]["prompts"] == 6
    for split in SCORED_SPLITS:
        outputs = [r["output"] for r in read_records(f"runs/epoch-1/{split}.scored.jsonl")]
        assert outputs == [r["output"] for r in read_records(f"runs/epoch-0/{split}.scored.jsonl")]
    assert first["pool"] == metrics["pool"]
    assert read_json("metrics/epochs/1.json")["converged"] is False  # 20 corrections > 2

    # evaluate@2 with the very adapter 1 (train@2 kept it: only its training.json stamp differs): epoch 1's
    # answers and scores carried over, the convergence decided anew (mean >= 0 and 1 <= 2 corrections: converged)
    shutil.copytree("runs/epoch-1/adapter", "runs/epoch-2/adapter")
    write_json("runs/epoch-2/adapter/training.json", {"epoch": 2, "kept_previous_adapter": True})
    write_json("metrics/epochs/2-correct.json", {"requested": 1})
    second = evaluate.run(_params(quality_threshold=0.0, loop={"converge_max_corrections": 2}), 2, tiny_model_dir)
    assert second["carried_over"] == "adapter 2 = adapter 1: its answers and scores"
    assert second["epoch"] == 2 and second["pool"] == first["pool"] and second["converged"] is True
    for split in SCORED_SPLITS:
        assert read_records(f"runs/epoch-2/{split}.scored.jsonl") == read_records(f"runs/epoch-1/{split}.scored.jsonl")


def test_each_epoch_practises_on_a_fresh_pool_slice(project, tiny_model_dir):
    """loop.pool_per_epoch = 1: baseline answers the slice epoch 1 practises on (pool[0]), evaluate@1 the
    slice of epoch 2 (pool[1]), and so on, wrapping around; a carried-over adapter still answers its slice."""
    from distilloop.loop import pool_slice

    pool = [{"id": n} for n in range(5)]
    assert [pool_slice(pool, epoch, 2) for epoch in (1, 2, 3)] == [pool[0:2], pool[2:4], [pool[4], pool[0]]]
    assert pool_slice(pool, 7, 0) == pool and pool_slice(pool, 2, 9) == pool  # 0, or more than the pool: all

    params = _params(loop={"pool_per_epoch": 1})
    baseline.run(params, tiny_model_dir)
    assert [r["id"] for r in read_records("runs/epoch-0/pool.scored.jsonl")] == [project["pool"][0]["id"]]
    shutil.copytree("runs/epoch-0/adapter", "runs/epoch-1/adapter")
    write_json("metrics/epochs/1-correct.json", {"requested": 1})
    evaluate.run(params, 1, tiny_model_dir)  # the very adapter 0: val and test carried over, a new pool slice
    assert [r["id"] for r in read_records("runs/epoch-1/pool.scored.jsonl")] == [project["pool"][1]["id"]]
    assert read_records("runs/epoch-1/test.scored.jsonl") == read_records("runs/epoch-0/test.scored.jsonl")
    assert read_json("metrics/epochs/1.json")["pool"]["count"] == 1


def test_convergence_needs_patience_epochs_of_good_scores_and_few_corrections(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = _params(quality_threshold=7.0, loop={"patience": 2, "converge_max_corrections": 2})
    write_json("metrics/epochs/1.json", {"pool": {"mean_score": 7.5}})
    write_json("metrics/epochs/1-correct.json", {"requested": 2})
    write_json("metrics/epochs/2-correct.json", {"requested": 0})
    assert convergence(params, 2, {"mean_score": 8.0})["converged"] is True
    assert convergence(params, 2, {"mean_score": 6.9})["converged"] is False
    assert not convergence(params, 1, {"mean_score": 9.0})["converged"]  # epoch 0 is no trained epoch
    write_json("metrics/epochs/1-correct.json", {"requested": 3})
    decision = convergence(params, 2, {"mean_score": 8.0})
    assert decision["converged"] is False and "3 corrections" in decision["reason"]
    write_json("metrics/epochs/1-correct.json", {"requested": 2})
    (tmp_path / "metrics/epochs/2-correct.json").unlink()
    assert "unknown" in convergence(params, 2, {"mean_score": 8.0})["reason"]


def test_evaluate_by_hand(project, tiny_model_dir, tmp_path):
    (tmp_path / "params.yaml").write_text("student: {max_new_tokens: 4, batch_size: 2, dtype: float32}\n")
    result = run_cli(
        "evaluate",
        "--model",
        str(tiny_model_dir),
        "--in",
        "data/export/pool.jsonl",
        "--out",
        "scored.jsonl",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Loading weights" not in result.stderr and "Warning" not in result.stderr, result.stderr  # ours only
    scored = read_records(tmp_path / "scored.jsonl")
    assert [r["id"] for r in scored] == [r["id"] for r in project["pool"]]
    assert all(SCORED_KEYS <= r.keys() and r["gen"]["tokens"] == 4 for r in scored)

    (tmp_path / "bad.jsonl").write_text('{"id": "x", "task": "c_code"}\n')
    assert_one_line_error(
        run_cli("evaluate", "--model", str(tiny_model_dir), "--in", "bad.jsonl", "--out", "o.jsonl", cwd=tmp_path),
        "bad.jsonl:1: not an export record",
    )
    assert_one_line_error(
        run_cli("evaluate", "--epoch", "1", "--model", str(tmp_path / "none"), cwd=tmp_path), "no model here"
    )
