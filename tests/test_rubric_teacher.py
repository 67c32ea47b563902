"""bench/rubric_teacher.py, the teacher that knows the profile rubric, through correct@1 as the pipeline runs
it: a real HTTP server on 127.0.0.1, the `openai` backend, the default templates, the real gate."""

from __future__ import annotations

import json
import threading

import httpx
import pytest
import yaml
from conftest import run_cli

from bench.rubric_teacher import FIELDS, new_tasks, read_profile, serve
from distilloop import export
from distilloop.config import ExportParams, Params
from distilloop.data.profiles import score_profile
from distilloop.gate.scoring import score_records
from distilloop.io import read_json, read_records, write_jsonl

RUBRIC_ITEMS = ["years_experience", "languages", "skills", "certifications", "industry"]


@pytest.fixture(scope="module")
def split(tmp_path_factory) -> dict[str, list[dict]]:
    out = tmp_path_factory.mktemp("export")
    export.run(Params(export=ExportParams(source="bundled:json_record")), out_dir=out, metrics_path=None)
    return {name: read_records(out / f"{name}.jsonl") for name in ("pool", "val", "test")}


@pytest.fixture
def rubric_server():
    server = serve(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_corrections_are_the_references_and_new_tasks_are_people_like_the_failing_one(split, rubric_server, tmp_path):
    pool = split["pool"][:6]
    wrong = [
        {**r, "output": json.dumps({"handle": r["reference"]["handle"], "reason": "-", "score": 0.99})} for r in pool
    ]
    scored = score_records([{**r, "truncated": False} for r in wrong], Params().gate)
    assert not any(r["passed"] for r in scored)
    write_jsonl(tmp_path / "runs/epoch-0/pool.scored.jsonl", scored)
    write_jsonl(tmp_path / "runs/epoch-0/bank.jsonl", [])
    write_jsonl(tmp_path / "data/export/val.jsonl", split["val"])
    write_jsonl(tmp_path / "data/export/test.jsonl", split["test"])
    teacher = {
        "backend": "openai",
        "model": "rubric",
        "base_url": rubric_server,
        "prices": {"rubric": {"input_per_mtok": 0.0, "output_per_mtok": 0.0}},
    }
    runtime = {"teacher": {"cache_path": str(tmp_path / "teacher.sqlite")}}
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump({"teacher": teacher, "correct": {"augment": 3}, "runtime": runtime})
    )

    result = run_cli("correct", "--epoch", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    corrections = read_records(tmp_path / "runs/epoch-1/corrections.jsonl")
    by_id = {r["id"]: r for r in pool}
    assert len(corrections) == 6 and all(c["accepted"] for c in corrections)
    # the reference teacher's answer, to the byte
    assert all(c["correction"] == json.dumps(by_id[c["id"]]["reference"]) for c in corrections)

    augmented = read_records(tmp_path / "runs/epoch-1/augmented.jsonl")
    assert len(augmented) == 18 and all(a["accepted"] for a in augmented)
    assert read_json(tmp_path / "metrics/epochs/1-correct.json")["augment"]["accepted"] == 18
    changed = 0
    for task in augmented:
        seed, person = read_profile(by_id[task["seed"]]["prompt"]), read_profile(task["prompt"])
        score, reason = score_profile(person)
        assert json.loads(task["completion"]) == {"handle": person["handle"], "reason": reason, "score": score}
        assert person["handle"] != seed["handle"]
        differing = [key for key in RUBRIC_ITEMS if person[key] != seed[key]]
        assert len(differing) <= 1, differing  # the same person in every rubric item but one
        changed += len(differing)
        # the task is the failing prompt's own text with the person's fields
        template = by_id[task["seed"]]["prompt"]
        for label, key in FIELDS.items():
            template = template.replace(f"{label}: {seed[key]}\n", f"{label}: {person[key]}\n", 1)
        assert task["prompt"].split("summary:")[0] == template.split("summary:")[0]
    assert changed >= 9  # most variants differ in an item (a redrawn value may equal the old one)


def test_the_same_request_gets_the_same_tasks_and_other_requests_are_refused(split, rubric_server):
    params = Params()
    prompt = params.teacher.augment_template.format(
        prompt=split["pool"][0]["prompt"], answer="{}", count=4, id=split["pool"][0]["id"]
    )
    body = {"model": "rubric", "messages": [{"role": "user", "content": prompt}]}
    replies = [httpx.post(f"{rubric_server}/chat/completions", json=body).json() for _ in range(2)]
    tasks = json.loads(replies[0]["choices"][0]["message"]["content"])
    assert len(tasks) == 4 and replies[0] == replies[1]
    assert len({read_profile(t["prompt"])["handle"] for t in tasks}) == 4

    refused = httpx.post(
        f"{rubric_server}/chat/completions", json={"messages": [{"role": "user", "content": "Write a poem."}]}
    )
    assert refused.status_code == 422 and "not a correction" in refused.json()["error"]["message"]
    assert httpx.post(f"{rubric_server}/chat/completions", content=b"not json").status_code == 400


def test_the_control_draws_anyone(split):
    """--people random: as many new people, drawn as the bundled generator draws anyone, each with the
    rubric's answer; most differ from the failing person in several rubric items."""
    task = split["pool"][0]["prompt"]
    seed, tasks = read_profile(task), new_tasks(task, 8, people="random")
    persons = [read_profile(t["prompt"]) for t in tasks]
    assert len(persons) == 8 and tasks == new_tasks(task, 8, people="random")
    for person, new in zip(persons, tasks):
        score, reason = score_profile(person)
        assert json.loads(new["answer"]) == {"handle": person["handle"], "reason": reason, "score": score}
    assert sum(sum(person[key] != seed[key] for key in RUBRIC_ITEMS) >= 2 for person in persons) >= 6
