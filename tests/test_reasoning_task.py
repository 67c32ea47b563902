"""The bundled reasoning task (tasks/): its scorer through reasoning-gym's own verifiers, and its data
script (deterministic, no repeated question). Records are shaped as the gate hands them to a scorer: the
row's meta fields flattened in."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip(
    "reasoning_gym", reason="reasoning-gym is the optional extra `.[reasoning]` (scripts/setup.sh installs it)"
)

TASKS = Path(__file__).resolve().parent.parent / "tasks"
SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "seed" / "reasoning_gym.jsonl"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, TASKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


data = load("reasoning_gym_data")
task = load("reasoning_gym_task")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return data.rows(list(data.GENERATORS), 60, seed=7)


def answered(rows: list[dict], outputs: list[str]) -> list[dict]:
    return [
        {**row["meta"], **{k: row[k] for k in ("id", "task", "prompt", "reference")}, "output": out, "truncated": False}
        for row, out in zip(rows, outputs)
    ]


def test_references_score_ten(rows):
    results = task.score(answered(rows, [row["reference"] for row in rows]), {})
    assert len(results) == len(rows)
    assert all(result == {"score": 10.0} for result in results)


def test_committed_references_score_ten():
    """The bundled file: every reference is an answer the verifier gives full credit (the reference
    teacher hands it over verbatim, so a reference that failed would be a lesson that fails)."""
    items = [json.loads(line) for line in SEED_FILE.read_text(encoding="utf-8").splitlines()]
    assert 800 <= len(items) <= 1600
    assert len({item["prompt"] for item in items}) == len(items)
    # the scorer also reads meta fields that were not flattened
    results = task.score([{**item, "output": item["reference"]} for item in items], {})
    assert [result["score"] for result in results] == [10.0] * len(items)


def test_wrong_empty_and_garbage_answers_fail_with_a_finding(rows):
    cases = {"no idea": "wrong-answer", "": "no-answer", "  \n\n ": "no-answer", "\x00#%~": "wrong-answer"}
    for output, kind in cases.items():
        results = task.score(answered(rows, [output] * len(rows)), {})
        assert len(results) == len(rows)
        for row, result in zip(rows, results):
            assert result["score"] == 0.0, (output, row["id"], result)
            assert [f["id"] for f in result["findings"]] == [kind]
            assert repr(row["meta"]["answer"]) in result["findings"][0]["message"]  # the teacher sees what was expected


def test_near_miss_gets_partial_credit_below_the_pass_mark(rows):
    # reasoning-gym's default verifier gives 0.75 to "1234" for "123": it must not pass
    results = task.score(answered(rows, [row["reference"] + "9" for row in rows]), {})
    assert all(0 <= result["score"] < 7 for result in results)
    assert all(result["findings"][0]["id"] == "wrong-answer" for result in results)


def test_results_follow_the_records_order(rows):
    outputs = [row["reference"] if index % 3 == 0 else "no idea" for index, row in enumerate(rows)]
    scores = [result["score"] for result in task.score(answered(rows, outputs), {})]
    assert scores == [10.0 if index % 3 == 0 else 0.0 for index in range(len(rows))]


def test_answer_is_read_from_an_answer_tag_or_the_last_line(rows):
    row = rows[0]
    outputs = [f"Let me think.\n{row['reference']}", f"<answer>{row['reference']}</answer>\nDone.", "The answer is:\n"]
    scores = [result["score"] for result in task.score(answered([row] * 3, outputs), {})]
    assert scores[:2] == [10.0, 10.0] and scores[2] < 7


def test_data_script_is_deterministic_and_has_no_repeated_question(tmp_path):
    outputs = []
    for name in ("a.jsonl", "b.jsonl"):  # two processes: nothing may depend on process state
        subprocess.run(
            [sys.executable, str(TASKS / "reasoning_gym_data.py"), "--out", str(tmp_path / name), "--count", "90"],
            check=True,
            capture_output=True,
        )
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    items = [json.loads(line) for line in outputs[0].decode().splitlines()]
    assert len(items) == 90
    assert len({item["prompt"] for item in items}) == len(items) == len({item["id"] for item in items})
    # interleaved: the pool is practised on in slices of file order, and each slice must mix the generators
    width = len(data.GENERATORS)
    assert all(
        {item["meta"]["dataset"] for item in items[i : i + width]} == set(data.GENERATORS) for i in range(0, 90, width)
    )
    other = data.rows(list(data.GENERATORS), 90, seed=1)
    assert [item["prompt"] for item in items] != [item["prompt"] for item in other]  # the seed matters
