"""merge@N: train N = train N-1 + accepted corrections, one record per prompt (newest wins), pairs."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import assert_one_line_error, run_cli
from stages import merge
from stages.records import read_records, write_jsonl


def correction(id_, prompt, accepted, text="fixed", student="broken"):
    return {"id": id_, "prompt": prompt, "student_output": student, "student_score": 2.0, "correction": text,
            "correction_score": 9.0 if accepted else 3.0, "accepted": accepted, "reason": "r",
            "teacher": {"backend": "reference", "model": "reference"}, "cache_key": None,
            "usage": {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}}


def test_merge_adds_accepted_replaces_by_prompt_and_never_trains_on_rejects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl("runs/epoch-1/train.jsonl", [
        {"id": "s1", "prompt": "P1", "completion": "seed 1", "source": "seed"},
        {"id": "s2", "prompt": "P2", "completion": "seed 2", "source": "seed"},
        {"id": "c3", "prompt": "P3", "completion": "old correction", "source": "correction@1"},
    ])
    write_jsonl("runs/epoch-2/corrections.jsonl", [
        correction("c3", "P3", True, "new correction", "student 3"),  # replaces epoch 1's record for P3
        correction("c4", "P4", True, "answer 4", "student 4"),        # new prompt
        correction("c5", "P5", False, "bad answer 5"),                 # rejected by the gate
        {**correction("c6", "P6", False), "correction": None},         # the call failed
    ])
    counts = merge.run(2)

    train = read_records("runs/epoch-2/train.jsonl")
    assert [(r["prompt"], r["completion"], r["source"]) for r in train] == [
        ("P1", "seed 1", "seed"), ("P2", "seed 2", "seed"), ("P3", "new correction", "correction@2"),
        ("P4", "answer 4", "correction@2"),
    ]
    assert len({r["prompt"] for r in train}) == len(train)
    pairs = read_records("runs/epoch-2/pairs.jsonl")
    assert pairs == [{"id": "c3", "prompt": "P3", "chosen": "new correction", "rejected": "student 3"},
                     {"id": "c4", "prompt": "P4", "chosen": "answer 4", "rejected": "student 4"}]
    assert counts == {"previous": 3, "added": 1, "replaced": 1, "not accepted": 2, "train": 4, "pairs": 2}


def test_merge_cli_reports_a_missing_input_in_one_line(tmp_path):
    assert_one_line_error(run_cli("merge", "--epoch", "1", cwd=tmp_path), "runs/epoch-0/train.jsonl: file not found")


def test_merge_rejects_a_malformed_corrections_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl("runs/epoch-0/train.jsonl", [{"id": "s", "prompt": "P", "completion": "c", "source": "seed"}])
    Path("runs/epoch-1").mkdir(parents=True)
    Path("runs/epoch-1/corrections.jsonl").write_text(json.dumps(correction("c", "Q", True)) + "\n{oops\n")
    assert_one_line_error(run_cli("merge", "--epoch", "1", cwd=tmp_path), "runs/epoch-1/corrections.jsonl:2: malformed JSON")
    assert not Path("runs/epoch-1/train.jsonl").exists()
