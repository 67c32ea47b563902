"""A project's own task: a scorer file under tasks/ (or a command), declared in params.yaml, scored by the
gate as the built-in tasks are; a scorer that breaks the contract stops with one line, every time."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import assert_one_line_error, run_cli

from distilloop.config import parse
from distilloop.io import read_json, read_records, write_jsonl

UNIT_SCORER = '''
"""unit_convert: the answer is a number of metres; within `tolerance` (relative) of the reference passes."""


def score(records, options):
    tolerance = options["tolerance"]
    results = []
    for record in records:
        try:
            value = float(record["output"].strip().removesuffix("m"))
        except ValueError:
            results.append({"score": 0, "findings": [{"id": "not-a-number", "message": "answer with a number"}]})
            continue
        want = float(record["reference"])
        error = abs(value - want) / abs(want)
        if error <= tolerance:
            results.append({"score": 10, "axes": {"value": 10}})
        else:
            message = f"{value:g} m is {error:.0%} off (the unit: {record['unit']})"
            results.append({"score": max(0.0, 10 - 10 * error), "findings": [{"id": "wrong", "message": message}]})
    return results
'''

ANSWERS = [
    {"id": "a", "task": "unit_convert", "prompt": "2 km in m?", "output": "2000", "reference": "2000", "unit": "km"},
    {"id": "b", "task": "unit_convert", "prompt": "3 ft in m?", "output": "0.9144m", "reference": 0.9144, "unit": "ft"},
    {
        "id": "c",
        "task": "unit_convert",
        "prompt": "1 mi in m?",
        "output": "1000",
        "reference": "1609.344",
        "unit": "mi",
    },
    {"id": "d", "task": "unit_convert", "prompt": "5 in in m?", "output": "five", "reference": "0.127", "unit": "in"},
]


def user_project(tmp_path: Path, scorer_source: str, task: dict | None = None, answers=ANSWERS) -> Path:
    (tmp_path / "tasks").mkdir(exist_ok=True)
    (tmp_path / "tasks" / "unit_convert.py").write_text(textwrap.dedent(scorer_source), encoding="utf-8")
    task = task or {"scorer": "tasks/unit_convert.py:score", "options": {"tolerance": 0.01}}
    params = {"gate": {"tasks": {"unit_convert": task}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    write_jsonl(tmp_path / "answers.jsonl", answers)
    return tmp_path


def score_cli(project: Path):
    return run_cli(
        "score", "--in", "answers.jsonl", "--out", "scored.jsonl", "--metrics", "m.json", cwd=project, timeout=120
    )


def test_a_scorer_file_in_the_project_scores_like_a_built_in_task(tmp_path):
    project = user_project(tmp_path, UNIT_SCORER)
    result = score_cli(project)
    assert result.returncode == 0, result.stderr
    scored = {r["id"]: r for r in read_records(project / "scored.jsonl")}
    assert [scored[i]["passed"] for i in "abcd"] == [True, True, False, False]
    assert scored["a"]["score"] == 10.0 and scored["a"]["axes"] == {"value": 10.0}
    assert scored["c"]["score"] == pytest.approx(6.21, abs=0.01)  # 1000 is 38% off 1609: 10 - 3.79
    assert scored["c"]["findings"] == [{"id": "wrong", "message": "1000 m is 38% off (the unit: mi)"}]
    assert scored["d"]["findings"][0]["id"] == "not-a-number"
    summary = read_json(project / "m.json")
    assert summary["pass_rate"] == 0.5 and summary["count"] == 4
    assert summary["histogram"] == {"<5": 1, "5-7": 1, "7-9": 0, ">=9": 2}
    assert summary["findings"] == {"not-a-number": 1, "wrong": 1}


def test_the_scorer_sees_the_contract_fields_and_the_rows_meta():
    from distilloop.gate.scoring import score_records
    from distilloop.gate.user import contract_record

    record = {
        "id": "x",
        "task": "t",
        "prompt": "p",
        "output": "o",
        "reference": {"v": 1},
        "meta": {"unit": "km", "id": "not me"},
        "gen": {"tokens": 3},
    }
    assert contract_record(record) == {
        "unit": "km",
        "id": "x",
        "task": "t",
        "prompt": "p",
        "output": "o",
        "reference": {"v": 1},
        "truncated": False,
    }
    gate = parse({"gate": {"tasks": {"t": {"scorer": "json:loads"}}}}).gate  # module:function resolves too
    with pytest.raises(Exception, match=r"task 't': scorer json:loads: raised TypeError"):
        score_records([record], gate)


def test_minimums_and_truncation_fail_an_answer_whatever_its_score(tmp_path):
    from distilloop.gate.scoring import score_records

    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "axes.py").write_text(
        "def score(records, options):\n    return [{'score': 9, 'axes': {'style': 4, 'value': 10}} for _ in records]\n"
    )
    gate = parse({"gate": {"tasks": {"t": {"scorer": "tasks/axes.py:score", "minimums": {"style": 5}}}}}).gate
    records = [{"id": "1", "task": "t", "output": "x"}, {"id": "2", "task": "t", "output": "x", "truncated": True}]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        scored = score_records(records, gate)
    assert [r["passed"] for r in scored] == [False, False]
    assert scored[1]["findings"][0]["id"] == "truncated"
    gate = parse({"gate": {"tasks": {"t": {"scorer": "tasks/axes.py:score"}}}}).gate
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        assert [r["passed"] for r in score_records(records, gate)] == [True, True]  # a truncated pass stands


FAULTS = {
    "raises": ("raise KeyError('unit')", "raised KeyError: 'unit'"),
    "wrong count": ("return [1.0]", "returned 1 results for 4 records"),
    "nan": ("return [10, float('nan'), 1, 1]", "record 'b': score must be a number from 0 to 10, got nan"),
    "eleven": ("return [10, 10, 11, 1]", "record 'c': score must be a number from 0 to 10, got 11"),
    "a string": ("return [10, 10, 1, 'high']", "record 'd': score must be a number from 0 to 10, got str"),
    "no score": ("return [10, 10, 1, {'axes': {}}]", "record 'd': result has no 'score'"),
    "hangs": ("import time; time.sleep(60)", "no result within timeout_s=1 s"),
    "exits": ("import os; os._exit(3)", "the scorer process died (exit code 3)"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_scorer_stops_with_one_line_naming_task_scorer_and_record(tmp_path, fault):
    body, message = FAULTS[fault]
    source = f"def score(records, options):\n    {body}\n"
    task = {"scorer": "tasks/unit_convert.py:score", "timeout_s": 1}
    result = score_cli(user_project(tmp_path, source, task))
    assert_one_line_error(result, "task 'unit_convert'", "tasks/unit_convert.py:score", message)
    assert not (tmp_path / "scored.jsonl").exists()  # nothing half-written
    if fault in ("raises", "wrong count", "hangs", "exits"):
        assert "records 'a'..'d'" in result.stderr  # the batch it was scoring


COMMAND_SCORER = """
import json, sys
for line in sys.stdin:
    record = json.loads(line)
    ok = record["output"].strip() == str(record["reference"])
    print(json.dumps({"score": 10 if ok else 0, "findings": [] if ok else [{"id": "differs", "message": "no"}]}))
"""


def test_a_command_scorer_reads_jsonl_and_writes_one_result_per_line(tmp_path):
    project = user_project(tmp_path, "", {"scorer": {"command": [sys.executable, "tasks/check.py"]}})
    (project / "tasks" / "check.py").write_text(COMMAND_SCORER)
    result = score_cli(project)
    assert result.returncode == 0, result.stderr
    assert [r["passed"] for r in read_records(project / "scored.jsonl")] == [True, False, False, False]

    (project / "tasks" / "check.py").write_text("import sys\nsys.stdin.read()\nprint('10')\n")
    assert_one_line_error(score_cli(project), "returned 1 results for 4 records")
    (project / "tasks" / "check.py").write_text("import sys\nsys.exit('no database')\n")
    assert_one_line_error(score_cli(project), "exited with 1: no database")
    (project / "tasks" / "check.py").write_text("print('{not json')\n")
    assert_one_line_error(score_cli(project), "output line 1 is not JSON")


CONTAINED_SCORER = """
import json, os, socket, sys
seen = {}
for probe, action in (
    ("project", lambda: open("params.yaml").read()),  # the project directory, where it would run uncontained
    ("tasks-write", lambda: open("tasks/x", "w")),
    ("network", lambda: socket.create_connection(("127.0.0.1", int(os.environ.get("PORT", "1"))), timeout=1)),
):
    try:
        action()
        seen[probe] = "allowed"
    except OSError:
        seen[probe] = "refused"
for line in sys.stdin:
    record = json.loads(line)
    ok = record["output"].strip() == str(record["reference"])
    print(json.dumps({"score": 10 if ok else 0, "findings": [{"id": k, "message": v} for k, v in seen.items()]}))
"""


def test_a_sandboxed_command_scorer_sees_only_tasks_and_no_network(tmp_path):
    import socket

    listener = socket.create_server(("127.0.0.1", 0))  # something to reach, were the network there
    task = {"scorer": {"command": ["/usr/bin/python3", "tasks/check.py"], "sandbox": True}}
    project = user_project(tmp_path, "", task)
    (project / "tasks" / "check.py").write_text(CONTAINED_SCORER.replace('"1"', f'"{listener.getsockname()[1]}"'))
    result = score_cli(project)
    listener.close()
    assert result.returncode == 0, result.stderr
    scored = read_records(project / "scored.jsonl")
    assert [r["passed"] for r in scored] == [True, False, False, False]
    assert {f["id"]: f["message"] for f in scored[0]["findings"]} == {
        "project": "refused",
        "tasks-write": "refused",
        "network": "refused",
    }


def test_user_task_params_are_checked_in_one_line(tmp_path):
    cases = {
        "gate:\n  tasks:\n    sql:\n      scorer: /abs/x.py:score\n": "must be a path under tasks/",
        "gate:\n  tasks:\n    sql:\n      scorer: tasks/x.py\n": "write tasks/FILE.py:function",
        "gate:\n  tasks:\n    Bad-Name:\n      scorer: m:f\n": "task name 'Bad-Name'",
        "export:\n  task: sql\n": "export.task: unknown task 'sql'",
        "gate:\n  tasks:\n    sql:\n      scorer: tasks/missing.py:score\n": "tasks/missing.py not found",
    }
    write_jsonl(tmp_path / "answers.jsonl", [{"id": "a", "task": "sql", "output": "x"}])
    for text, message in cases.items():
        (tmp_path / "params.yaml").write_text(text)
        assert_one_line_error(score_cli(tmp_path), message)


def test_export_maps_columns_names_rows_without_ids_and_keeps_user_references(tmp_path):
    from distilloop import export

    rows = [
        {"instruction": "Convert 2 km to metres.", "output": "2000", "unit": "km"},
        {"instruction": "Convert 1 mi to metres.", "output": 1609.344, "unit": "mi"},
        {"instruction": "Convert 3 ft to metres.", "unit": "ft"},
    ]
    write_jsonl(tmp_path / "rows.jsonl", rows)
    params = parse(
        {
            "export": {
                "source": str(tmp_path / "rows.jsonl"),
                "task": "unit_convert",
                "fields": {"prompt": "instruction", "reference": "output"},
                "fractions": {"train": 0.0, "pool": 1.0, "val": 0.0, "test": 0.0},
            },
            "gate": {"tasks": {"unit_convert": {"scorer": "tasks/unit_convert.py:score"}}},
        }
    )
    metrics = export.run(params, out_dir=tmp_path / "out", metrics_path=None)
    assert metrics["records"] == 2 and metrics["rejects"] == 1  # the third row has no 'output' to map
    assert (
        read_records(tmp_path / "out" / "rejects.jsonl")[0]["reason"]
        == "missing field: 'output' (export.fields maps it)"
    )
    pool = read_records(tmp_path / "out" / "pool.jsonl")
    assert [r["prompt"] for r in pool] == ["Convert 2 km to metres.", "Convert 1 mi to metres."]  # '{prompt}'
    assert [r["reference"] for r in pool] == ["2000", 1609.344]  # a user task's reference stays as it is
    assert [r["meta"] for r in pool] == [{"unit": "km"}, {"unit": "mi"}]
    assert all(r["id"].startswith("h") and len(r["id"]) == 17 for r in pool)
    again = export.run(params, out_dir=tmp_path / "again", metrics_path=None)
    assert read_records(tmp_path / "again" / "pool.jsonl") == pool and again["records"] == 2  # stable ids


def test_export_reads_a_glob_and_a_saved_datasets_directory(tmp_path):
    import datasets

    from distilloop import export

    for part in ("a", "b"):
        write_jsonl(tmp_path / f"part-{part}.jsonl", [{"id": f"{part}{n}", "prompt": f"{part} {n}"} for n in range(3)])
    datasets.Dataset.from_list([{"question": f"q{n}", "answer": str(n)} for n in range(4)]).save_to_disk(
        tmp_path / "saved"
    )
    base = {
        "task": "unit_convert",
        "fractions": {"train": 0.0, "pool": 1.0, "val": 0.0, "test": 0.0},
    }
    tasks = {"gate": {"tasks": {"unit_convert": {"scorer": "tasks/u.py:score"}}}}
    globbed = parse({"export": {**base, "source": str(tmp_path / "part-*.jsonl")}, **tasks})
    assert export.run(globbed, out_dir=tmp_path / "g", metrics_path=None)["records"] == 6
    saved = parse(
        {"export": {**base, "source": str(tmp_path / "saved"), "fields": {"prompt": "question", "reference": "answer"}}}
        | tasks
    )
    assert export.run(saved, out_dir=tmp_path / "s", metrics_path=None)["records"] == 4
    assert sorted(r["reference"] for r in read_records(tmp_path / "s" / "pool.jsonl")) == ["0", "1", "2", "3"]
    offline = parse({"export": {**base, "source": "hf:someone/data"}} | tasks)
    with pytest.raises(Exception, match="HF_HUB_OFFLINE is set"):
        export.run(offline, out_dir=tmp_path / "h", metrics_path=None)


def test_params_yaml_declares_no_user_task_and_every_stage_that_scores_depends_on_tasks():
    from conftest import ROOT

    assert parse(yaml.safe_load((ROOT / "params.yaml").read_text())).gate.tasks == {}
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name in ("baseline", "correct", "evaluate", "quantise"):
        body = stages[name].get("do", stages[name])
        assert "tasks" in body["deps"] and "gate.tasks" in body["params"], name
    for name in ("base", "merge", "train", "select", "merge_lora"):
        body = stages[name].get("do", stages[name])
        assert "tasks" not in body["deps"], name
    json.dumps(stages)  # the file stays plain data
