"""A task defined only in the project directory (a scorer under tasks/, its data under data/seed/, the
params that name them; no edit of the package) runs through `dvc repro` end to end on the smoke
profile's sizes, and editing the scorer makes exactly the scoring stages stale."""

from __future__ import annotations

import json
import re
import sys

import pytest
import yaml
from test_pipeline import committed_repro, run, smoke_project, stages_run

from distilloop.io import read_records, write_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

SCORER = '''"""unit_convert: the answer is a number of metres; within 1% of the reference scores 10."""


def score(records, options):
    results = []
    for record in records:
        words = record["output"].replace(",", "").split()
        try:
            value = float(words[0].rstrip("."))
        except (IndexError, ValueError):
            results.append({"score": 0, "findings": [{"id": "no-number", "message": "answer with the number only"}]})
            continue
        want = float(record["reference"])
        error = abs(value - want) / want
        results.append(
            10.0
            if error <= options["tolerance"]
            else {"score": max(0.0, 9 - 10 * error), "findings": [{"id": "wrong", "message": f"{value:g} is off"}]}
        )
    return results
'''
FACTORS = {"km": 1000, "cm": 0.01, "mm": 0.001, "dm": 0.1}


def rows() -> list[dict]:
    return [
        {"prompt": f"Convert {n} {unit} to metres. Answer with the number only.", "answer": f"{n * factor:g}"}
        for n in range(1, 13)
        for unit, factor in FACTORS.items()
    ]


@pytest.fixture(scope="module")
def user_project(tmp_path_factory):
    project = smoke_project(tmp_path_factory.mktemp("user") / "project")
    (project / "tasks" / "unit_convert.py").write_text(SCORER)
    write_jsonl(project / "data/seed/unit_convert.jsonl", rows())  # no id column: export hashes the prompt
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["export"].update(
        source="data/seed/unit_convert.jsonl",
        task="unit_convert",
        fields={"reference": "answer"},
        max_rows=None,
        fractions={"train": 0.25, "pool": 0.5, "val": 0.125, "test": 0.125},
    )
    params["gate"]["tasks"] = {
        "unit_convert": {"scorer": "tasks/unit_convert.py:score", "options": {"tolerance": 0.01}}
    }
    params["student"]["max_new_tokens_by_task"] = {"unit_convert": 12}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return project, committed_repro(project, "a task of our own")


def test_a_user_task_runs_every_stage(user_project):
    project, output = user_project
    assert {"export", "baseline", "correct@1", "train@1", "evaluate@2", "select", "quantise"} <= set(stages_run(output))
    export = json.loads((project / "metrics/export.json").read_text())
    assert export["tasks"].keys() == {"unit_convert"} and export["records"] == len(rows())
    baseline = json.loads((project / "metrics/epochs/0.json").read_text())
    assert baseline["test"]["count"] > 0 and set(baseline["test"]["histogram"]) == {"<5", "5-7", "7-9", ">=9"}
    correct = json.loads((project / "metrics/epochs/1-correct.json").read_text())
    assert correct["accepted"] > 0  # the reference teacher's answers pass the user's scorer
    corrections = read_records(project / "runs/epoch-1/corrections.jsonl")
    assert all(c["accepted"] == (c["correction_score"] == 10.0) for c in corrections if c["correction"])
    scored = read_records(project / "runs/epoch-2/test.scored.jsonl")
    assert all(r["task"] == "unit_convert" and 0 <= r["score"] <= 10 for r in scored)
    summary = json.loads((project / "metrics/summary.json").read_text())
    assert set(summary["test_pass_rate"]) == {"0", "1", "2"}
    assert "q4_k_m" in summary
    status = run(project, sys.executable, "-m", "distilloop.cli", "status").stdout
    assert "best epoch by val" in status


def test_editing_the_scorer_makes_the_scoring_stages_stale_and_nothing_else(user_project):
    # rl scores too: its reward is the gate
    project, _ = user_project
    scorer = project / "tasks/unit_convert.py"
    scorer.write_text(scorer.read_text().replace("<= options", "< options"))
    status = run(project, "dvc", "status").stdout
    stale = sorted(re.findall(r"^(\S+):\s*$", status, flags=re.MULTILINE))
    assert stale == ["baseline", "correct@1", "correct@2", "evaluate@1", "evaluate@2", "quantise", "rl"], status
    assert status.count("modified:           tasks") == len(stale), status
    run(project, "git", "checkout", "tasks/unit_convert.py")
    options = yaml.safe_load((project / "params.yaml").read_text())
    options["gate"]["tasks"]["unit_convert"]["options"]["tolerance"] = 0.02
    (project / "params.yaml").write_text(yaml.safe_dump(options, sort_keys=False))
    status = run(project, "dvc", "status").stdout
    stale = sorted(re.findall(r"^(\S+):\s*$", status, flags=re.MULTILINE))
    # the options are params of the stages that score, and of export (which checks task names)
    assert stale == ["baseline", "correct@1", "correct@2", "evaluate@1", "evaluate@2", "export", "quantise", "rl"], (
        status
    )
    run(project, "git", "checkout", "params.yaml")
    assert "Data and pipelines are up to date" in run(project, "dvc", "status").stdout
