"""An LLM judge as a task's gate, against a rubric-following OpenAI-compatible server on 127.0.0.1
(judge_server.py): cached, budgeted, unparsable answers as findings, calibration below the bar stops the
stage, the judge's agreement in the metrics."""

from __future__ import annotations

import pytest
import yaml
from conftest import assert_one_line_error, cli_env, run_cli
from judge_server import JudgeServer

from distilloop.config import parse
from distilloop.gate.judge import teacher_is_judge, verdict_of
from distilloop.io import read_json, read_records, write_jsonl

JUDGE_RUBRIC = """Grade the answer to the question against the reference, from 0 (wrong) to 10 (exactly right).

Question:
{prompt}

Reference:
{reference}

Answer:
{output}

Grade it."""
CALIBRATION = [
    {"prompt": "Capital of France?", "reference": "paris", "output": "Paris", "label": 10},
    {"prompt": "Capital of France?", "reference": "paris", "output": "It is Paris.", "label": 7},
    {"prompt": "Capital of France?", "reference": "paris", "output": "London", "label": 0},
    {"prompt": "2 + 2?", "reference": "4", "output": "4", "label": 9},
    {"prompt": "2 + 2?", "reference": "4", "output": "the answer is 4", "label": 6},
    {"prompt": "2 + 2?", "reference": "4", "output": "five", "label": 2},
]
ANSWERS = [
    {"id": "exact", "prompt": "Largest planet?", "reference": "jupiter", "output": "Jupiter"},
    {"id": "wordy", "prompt": "Largest planet?", "reference": "jupiter", "output": "I think it is jupiter, yes"},
    {"id": "wrong", "prompt": "Largest planet?", "reference": "jupiter", "output": "Mars"},
    {"id": "odd", "prompt": "Largest planet?", "reference": "jupiter", "output": "UNPARSABLE"},
]
ENV = {"JUDGE_KEY": "test-key"}


@pytest.fixture
def judge():
    with JudgeServer() as server:
        yield server


def judge_project(tmp_path, server, **overrides):
    (tmp_path / "tasks").mkdir(exist_ok=True)
    (tmp_path / "tasks" / "rubric.md").write_text(JUDGE_RUBRIC)
    write_jsonl(tmp_path / "tasks" / "calibration.jsonl", CALIBRATION)
    model = overrides.pop("model", "judge-exact")
    config = {
        "backend": "openai",
        "model": model,
        "base_url": server.url,
        "api_key_env": "JUDGE_KEY",
        "prices": {model: {"input_per_mtok": 1.0, "output_per_mtok": 4.0}},
        "rubric": "tasks/rubric.md",
        "calibration": "tasks/calibration.jsonl",
        "min_spearman": 0.8,
        "max_error_rate": 0.3,
        "max_retries": 0,
        "cache_path": str(tmp_path / "cache" / "calls.sqlite"),
        **overrides,
    }
    params = {"gate": {"tasks": {"qa": {"judge": config}}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    write_jsonl(tmp_path / "answers.jsonl", [{**a, "task": "qa"} for a in ANSWERS])
    return tmp_path


def score(project):
    return run_cli(
        "score",
        "--in",
        "answers.jsonl",
        "--out",
        "scored.jsonl",
        "--metrics",
        "m.json",
        cwd=project,
        env=cli_env(**ENV),
        timeout=120,
    )


def test_the_judge_grades_reports_its_agreement_and_is_cached(tmp_path, judge):
    project = judge_project(tmp_path, judge)
    result = score(project)
    assert result.returncode == 0, result.stderr
    scored = {r["id"]: r for r in read_records(project / "scored.jsonl")}
    assert [scored[i]["score"] for i in ("exact", "wordy", "wrong", "odd")] == [10.0, 6.0, 1.0, 0.0]
    assert [scored[i]["passed"] for i in ("exact", "wordy", "wrong", "odd")] == [True, False, False, False]
    assert scored["odd"]["findings"] == [{"id": "judge-unparsable", "message": "no score in the reply"}]
    assert scored["wrong"]["findings"] == [{"id": "judge", "message": "graded 1 against the reference"}]
    # 6 labelled answers, 4 answers, and the unparsable one asked once more with the reminder
    assert judge.requests == 11
    report = read_json(project / "m.json")["judges"]["qa"]
    calibration = report["calibration"]
    assert calibration["labelled"] == calibration["graded"] == 6
    assert calibration["spearman_r"] >= 0.9 and calibration["pass_agreement"] == pytest.approx(5 / 6, abs=1e-4)
    assert calibration["mae"] == pytest.approx(4 / 6, abs=1e-4)  # |10-10|+|6-7|+|1-0|+|10-9|+|6-6|+|1-2| over 6
    assert report["cost_usd"] > 0 and report["calls"] == 11 and report["unparsable"] == 1
    assert report["length_r"] is not None  # the verbosity check over the answers graded
    assert "(judge spend)" in result.stdout + result.stderr

    again = score(project)
    assert again.returncode == 0 and judge.requests == 11  # every call answered from the cache
    assert read_records(project / "scored.jsonl") == list(scored.values())
    assert read_json(project / "m.json")["judges"]["qa"]["cost_usd"] == 0.0


def test_the_verdict_is_read_from_the_end_of_a_thinking_judge(tmp_path, judge):
    project = judge_project(tmp_path, judge, model="judge-chatty")
    assert score(project).returncode == 0
    assert [r["score"] for r in read_records(project / "scored.jsonl")] == [10.0, 6.0, 1.0, 0.0]


def test_a_judge_that_disagrees_with_the_labels_stops_the_stage(tmp_path, judge):
    project = judge_project(tmp_path, judge, model="judge-inverse")
    assert_one_line_error(score(project), "task 'qa': the judge agrees with tasks/calibration.jsonl at Spearman -")
    assert not (project / "scored.jsonl").exists()


def test_too_many_ungradable_answers_stop_the_stage(tmp_path, judge):
    project = judge_project(tmp_path, judge, max_error_rate=0.1)
    assert_one_line_error(score(project), "could not grade 1 of 4 answers (> max_error_rate 0.1", "'odd'")


def test_the_judge_budget_holds(tmp_path, judge):
    project = judge_project(tmp_path, judge, budget_usd=0.0001, calibration=None)
    assert_one_line_error(score(project), "judge budget_usd=0.0001 is spent")
    assert judge.requests < len(ANSWERS)


def test_bad_judge_settings_are_one_line(tmp_path, judge):
    project = judge_project(tmp_path, judge)
    (project / "tasks" / "rubric.md").write_text("Grade {answer}")
    assert_one_line_error(score(project), "judge rubric tasks/rubric.md: bad template")
    project = judge_project(tmp_path, judge, rubric="rubric.md")
    assert_one_line_error(score(project), "rubric 'rubric.md' must be a path under tasks/")
    project = judge_project(tmp_path, judge)
    write_jsonl(project / "tasks" / "calibration.jsonl", [{"output": "x", "label": 11}])
    assert_one_line_error(
        score(project), "calibration.jsonl:1: a calibration row needs a string 'output' and a 'label'"
    )


def test_verdict_of_reads_the_last_usable_score():
    assert verdict_of('{"score": 3} no, on reflection: {"score": 8, "reason": "fine"}') == (8.0, "fine")
    assert verdict_of('{"score": 8, "reason": "ok"} and {"score": 42}') == (8.0, "ok")  # 42 is no score
    assert verdict_of("Reasoning...\nScore: 7/10") == (7.0, "")
    assert verdict_of('{"reason": "no score"}') is None and verdict_of("") is None
    assert verdict_of("[" * 10_000 + '{"score": 5}') == (5.0, "")  # the bracket run costs no recursion


def test_a_judge_that_is_the_teachers_own_model_is_named():
    params = parse(
        {
            "teacher": {"backend": "openai", "model": "gpt-x"},
            "gate": {
                "tasks": {
                    "same": {"judge": {"backend": "openai", "model": "gpt-x", "rubric": "tasks/r.md"}},
                    "other": {"judge": {"backend": "openai", "model": "gpt-y", "rubric": "tasks/r.md"}},
                }
            },
        }
    )

    class Teacher:
        backend, model = params.teacher.backend, params.teacher.model

    assert teacher_is_judge(Teacher, params.gate.tasks) == ["same"]
