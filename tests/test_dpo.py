"""train@N with method dpo on pairs.jsonl (chosen = teacher correction, rejected = student answer)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import c_record, write_jsonl

from distilloop import UserError
from distilloop.config import Params, RuntimeParams, TrainParams
from stages import train as stage

DEGENERATE = "#define _C99_C_C_C\n#include <stdint.h>\n#include <stdint.h>\n#include <stdint.h>\n"


def curve(name: str) -> list[float]:
    rows = Path("runs/epoch-1/live/plots/metrics", f"{name}.tsv").read_text().splitlines()[1:]
    return [float(row.split("\t")[1]) for row in rows]


def dpo_params(**train) -> Params:
    settings = dict(
        method="dpo",
        dpo={"beta": 0.1, "learning_rate": 1e-2},
        epochs=3,
        batch_size=4,
        dtype="float32",
        seed=0,
    )
    return Params(train=TrainParams(**{**settings, **train}), runtime=RuntimeParams(threads=1))


@pytest.fixture
def pairs(train_project) -> Path:
    path = Path("runs/epoch-1/pairs.jsonl")
    write_jsonl(
        path,
        [{"id": f"p{i}", "prompt": c_record(i)[0], "chosen": c_record(i)[1], "rejected": DEGENERATE} for i in range(8)],
    )
    return path


def test_dpo_runs_on_pairs_and_prefers_the_chosen_answers(pairs):
    metrics = stage.run(dpo_params(), epoch=1)

    losses = curve("loss")
    assert metrics["method"] == "dpo" and metrics["steps"] == 6 and len(losses) == 6
    assert all(math.isfinite(loss) for loss in losses)
    # the reference is adapter N-1 itself, so the first step is exactly -log sigmoid(0) = ln 2
    assert losses[0] == pytest.approx(math.log(2), abs=1e-4)
    assert losses[-1] < losses[0] - 0.01
    assert curve("rewards/margins")[-1] > 0  # chosen answers gained on rejected ones against the reference
    assert metrics["eval_examples"] == 0 and metrics["best_eval_loss"] is None  # no eval pairs: no early stopping
    adapter = Path("runs/epoch-1/adapter")
    assert (adapter / "adapter_model.safetensors").exists() and not (adapter / "ref").exists()  # only the policy
    assert json.loads((adapter / "training.json").read_text())["method"] == "dpo"


def test_dpo_needs_rejected_answers(pairs):
    write_jsonl(pairs, [{"id": "p0", "prompt": "p", "chosen": "c"}])
    with pytest.raises(UserError, match=r"pairs.jsonl:1: missing field 'rejected' \(needed by train.method dpo\)"):
        stage.run(dpo_params(), epoch=1)
