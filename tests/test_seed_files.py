"""Files shaped like seed 001's import as they are and train: a self-critique file (instruction / bad
output / corrected output / critique) gives training examples and preference pairs, a hard-failures file
(instruction / reference answer / category) gives pool items with references."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import c_record, write_jsonl

from distilloop import export
from distilloop.config import parse
from distilloop.io import read_records
from stages import baseline, merge
from stages import train as train_stage

DEGENERATE = "#define _C99_C_C_C\n#include <stdint.h>\n"


def seed_files(root: Path) -> None:
    write_jsonl(
        root / "data/seed/self_critique.jsonl",
        [
            {
                "instruction": c_record(i)[0],
                "bad_output": DEGENERATE,
                "corrected_output": c_record(i)[1],
                "critique": f"case {i}: a macro is not the requested function",
            }
            for i in range(8)
        ],
    )
    write_jsonl(
        root / "data/seed/hard_failures.jsonl",
        [
            {"instruction": c_record(i)[0], "reference_answer": c_record(i)[1], "category": "bit-fields"}
            for i in range(20, 26)
        ],
    )


def seed_params(root: Path, **train):
    return parse(
        {
            "export": {
                "task": "c_code",
                "sources": [
                    {
                        "source": str(root / "data/seed/self_critique.jsonl"),
                        "fields": {"prompt": "instruction", "reference": "corrected_output", "rejected": "bad_output"},
                        "split": "train",
                    },
                    {
                        "source": str(root / "data/seed/hard_failures.jsonl"),
                        "fields": {"prompt": "instruction", "reference": "reference_answer"},
                        "split": "pool",
                    },
                ],
            },
            "merge": {"strategy": "cumulative"},
            "train": {"dtype": "float32", "seed": 0, **train},
            "runtime": {"threads": 1},
        }
    )


def test_seed_001_files_import_as_examples_pairs_and_pool_items(tmp_path):
    seed_files(tmp_path)
    metrics = export.run(seed_params(tmp_path), out_dir=tmp_path / "export", metrics_path=None)
    assert metrics["splits"] == {"train": 8, "pool": 6, "val": 0, "test": 0} and metrics["rejects"] == 0
    train = read_records(tmp_path / "export/train.jsonl")
    assert train[0]["rejected"] == DEGENERATE and train[0]["reference"] == c_record(0)[1]
    assert train[0]["meta"] == {"critique": "case 0: a macro is not the requested function"}  # kept, not trained on
    pool = read_records(tmp_path / "export/pool.jsonl")
    assert [r["meta"] for r in pool] == [{"category": "bit-fields"}] * 6 and all(r["reference"] for r in pool)

    examples, missing, pairs = baseline.seed_train_set(train)
    assert missing == [] and [e["completion"] for e in examples] == [c_record(i)[1] for i in range(8)]
    assert pairs[0] == {
        "id": train[0]["id"],
        "prompt": c_record(0)[0],
        "chosen": c_record(0)[1],
        "rejected": DEGENERATE,
        "source": "seed",
    }
    # the seed's pairs stay in every epoch's pairs, beside that epoch's corrections
    fix = {"id": "f", "prompt": "P", "student_output": "bad", "correction": "good", "accepted": True}
    _, lesson, epoch_pairs, _ = merge.merge(examples, [fix], 1, seed_params(tmp_path).merge, seed_pairs=pairs)
    assert len(epoch_pairs) == 9 and epoch_pairs[-1]["chosen"] == "good"
    assert {r["prompt"] for r in lesson} >= {e["prompt"] for e in examples}


def test_a_row_with_a_rejected_answer_needs_a_reference(tmp_path):
    write_jsonl(tmp_path / "rows.jsonl", [{"id": "a", "prompt": "p", "rejected": "bad"}, {"id": "b", "prompt": "q"}])
    params = parse({"export": {"source": str(tmp_path / "rows.jsonl")}})
    metrics = export.run(params, out_dir=tmp_path / "out", metrics_path=None)
    assert metrics["records"] == 1
    assert read_records(tmp_path / "out/rejects.jsonl")[0]["reason"].startswith("bad field: 'rejected'")


@pytest.mark.slow
def test_the_imported_pairs_train_a_dpo_step_that_prefers_them(train_project):
    seed_files(train_project)
    export.run(seed_params(train_project), out_dir=Path("data/export"), metrics_path=None)
    examples, _, pairs = baseline.seed_train_set(read_records(Path("data/export/train.jsonl")))
    write_jsonl(Path("runs/epoch-0/bank.jsonl"), examples)
    write_jsonl(Path("runs/epoch-0/pairs.jsonl"), pairs)
    write_jsonl(Path("runs/epoch-1/corrections.jsonl"), [])
    merge.run(seed_params(train_project), 1)
    assert len(read_records(Path("runs/epoch-1/pairs.jsonl"))) == 8

    params = seed_params(train_project, method="dpo", dpo={"beta": 0.1, "learning_rate": 1e-2}, epochs=3, batch_size=4)
    metrics = train_stage.run(params, epoch=1)
    rows = Path("runs/epoch-1/live/plots/metrics/loss.tsv").read_text().splitlines()[1:]
    losses = [float(row.split("\t")[1]) for row in rows]
    assert metrics["method"] == "dpo" and metrics["steps"] == 6 and all(math.isfinite(x) for x in losses)
    assert losses[0] == pytest.approx(math.log(2), abs=1e-4) and losses[-1] < losses[0] - 0.01
