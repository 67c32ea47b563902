"""merge@N: bank N = bank N-1 + accepted corrections, one record per prompt (newest wins); the lesson of
epoch N (targeted: corrections weighted up + replay; cumulative: the whole bank); pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run_cli

from distilloop.config import parse
from distilloop.gate.verdict import AcceptRule
from distilloop.io import read_records, write_jsonl
from stages import merge


def correction(id_, prompt, accepted, text="fixed", student="broken"):
    return {
        "id": id_,
        "prompt": prompt,
        "student_output": student,
        "student_score": 2.0,
        "correction": text,
        "correction_score": 9.0 if accepted else 3.0,
        "accepted": accepted,
        "reason": "r",
        "teacher": {"backend": "reference", "model": "reference"},
        "cache_key": None,
        "usage": {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0},
    }


def test_merge_adds_accepted_replaces_by_prompt_and_never_trains_on_rejects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(
        "runs/epoch-1/bank.jsonl",
        [
            {"id": "s1", "prompt": "P1", "completion": "seed 1", "source": "seed"},
            {"id": "s2", "prompt": "P2", "completion": "seed 2", "source": "seed"},
            {"id": "c3", "prompt": "P3", "completion": "old correction", "source": "correction@1"},
        ],
    )
    write_jsonl(
        "runs/epoch-2/corrections.jsonl",
        [
            correction("c3", "P3", True, "new correction", "student 3"),  # replaces epoch 1's record for P3
            correction("c4", "P4", True, "answer 4", "student 4"),  # new prompt
            correction("c5", "P5", False, "bad answer 5"),  # rejected by the gate
            {**correction("c6", "P6", False), "correction": None},  # the call failed
        ],
    )
    counts = merge.run(parse({"merge": {"strategy": "targeted"}}), 2)

    bank = read_records("runs/epoch-2/bank.jsonl")
    assert [(r["prompt"], r["completion"], r["source"], r["epoch"]) for r in bank] == [
        ("P1", "seed 1", "seed", 0),
        ("P2", "seed 2", "seed", 0),
        ("P3", "new correction", "correction@2", 2),
        ("P4", "answer 4", "correction@2", 2),
    ]
    # targeted: the two corrections of what fails now, twice each, and two earlier examples replayed
    lesson = read_records("runs/epoch-2/lesson.jsonl")
    assert [(r["prompt"], r.get("weight", 1)) for r in lesson[:2]] == [("P3", 2), ("P4", 2)]
    assert len(lesson) == 4 and {r["prompt"] for r in lesson[2:]} <= {"P1", "P2"}
    assert "P5" not in {r["prompt"] for r in bank + lesson}
    pairs = read_records("runs/epoch-2/pairs.jsonl")
    assert pairs == [
        {"id": "c3", "prompt": "P3", "chosen": "new correction", "rejected": "student 3"},
        {"id": "c4", "prompt": "P4", "chosen": "answer 4", "rejected": "student 4"},
    ]
    assert counts == {
        "previous": 3,
        "added": 1,
        "replaced": 1,
        "not accepted": 2,
        "self-taught": 0,
        "augmented": 0,
        "bank": 4,
        "lesson": 6,
        "pairs": 2,
    }


@pytest.mark.parametrize(
    "strategy, lesson_order",
    [("cumulative", [("S", 1), ("P", 2)]), ("targeted", [("P", 2), ("S", 1)])],
)
def test_a_deterministic_teacher_still_gives_every_epoch_something_new_to_learn(strategy, lesson_order):
    """The same correction of the same failing item in two epochs: the lesson repeats it (the student still
    fails it), where an unchanged train set would make train@N skip."""
    config = parse({"merge": {"strategy": strategy}}).merge
    bank = [{"id": "s", "prompt": "S", "completion": "seed", "source": "seed", "epoch": 0}]
    fix = [correction("c", "P", True, "fixed")]
    bank1, lesson1, _, _ = merge.merge(bank, fix, 1, config)
    bank2, lesson2, _, _ = merge.merge(bank1, fix, 2, config)
    assert bank2 == [bank1[0], {**bank1[1], "source": "correction@2", "epoch": 2}]
    assert [(r["prompt"], r.get("weight", 1)) for r in lesson1] == lesson_order  # epoch 1: the seed is new
    assert [(r["prompt"], r.get("weight", 1)) for r in lesson2] == lesson_order  # P still fails, S replayed
    bank3, lesson3, _, _ = merge.merge(bank2, [], 3, config)
    assert lesson3 == [] and bank3 == bank2  # nothing fails: train@3 is skipped


def test_replay_cumulative_and_self_training():
    bank = [{"id": f"s{i}", "prompt": f"S{i}", "completion": "c", "source": "seed", "epoch": 0} for i in range(10)]
    fixes = [correction(f"c{i}", f"P{i}", True) for i in range(3)]
    config = parse({"merge": {"strategy": "targeted", "replay": 2.0, "failure_weight": 3}}).merge
    targeted = merge.merge(bank, fixes, 2, config)[1]
    assert [r.get("weight", 1) for r in targeted] == [3, 3, 3] + [1] * 6  # two replayed per correction
    assert targeted == merge.merge(bank, fixes, 2, config)[1]  # the replay sample is seeded by the epoch
    cumulative = merge.merge(bank, fixes, 2, parse({"merge": {"strategy": "cumulative"}}).merge)[1]
    assert [r["prompt"] for r in cumulative] == [f"S{i}" for i in range(10)] + ["P0", "P1", "P2"]

    scored = [
        {"id": "a", "prompt": "A", "output": "good", "score": 9.0, "passed": True},
        {"id": "b", "prompt": "B", "output": "bad", "score": 2.0, "passed": False},
    ]
    taught = merge.passing_answers(scored, 2, AcceptRule(7.0))
    assert taught == [{"id": "a", "prompt": "A", "completion": "good", "source": "self@2", "epoch": 2}]
    config = parse({"merge": {"strategy": "targeted", "self_training": True, "replay": 0.0}}).merge
    bank2, lesson, _, counts = merge.merge(bank, fixes, 2, config, taught)
    assert [r["prompt"] for r in lesson] == ["P0", "P1", "P2", "A"] and counts["self-taught"] == 1
    assert bank2[-1]["source"] == "self@2"


def test_merge_cli_reports_a_missing_input_in_one_line(tmp_path):
    assert_one_line_error(run_cli("merge", "--epoch", "1", cwd=tmp_path), "runs/epoch-0/bank.jsonl: file not found")


def test_merge_rejects_a_malformed_corrections_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl("runs/epoch-0/bank.jsonl", [{"id": "s", "prompt": "P", "completion": "c", "source": "seed"}])
    Path("runs/epoch-1").mkdir(parents=True)
    Path("runs/epoch-1/corrections.jsonl").write_text(json.dumps(correction("c", "Q", True)) + "\n{oops\n")
    assert_one_line_error(
        run_cli("merge", "--epoch", "1", cwd=tmp_path), "runs/epoch-1/corrections.jsonl:2: malformed JSON"
    )
    assert not Path("runs/epoch-1/bank.jsonl").exists()
