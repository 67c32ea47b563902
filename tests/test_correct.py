"""correct@N end to end: real gate, real local teacher servers with injected faults, the CLI as a user
runs it, a SIGKILL mid-run, and a key that must appear in no file the stage wrote."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import assert_one_line_error, cli_env, run_cli, write_stage_subset

from distilloop import export
from distilloop.config import ExportParams, Params
from distilloop.io import read_json, read_records, write_json, write_jsonl
from stages import merge

SECRET = "sk-live-correct-test-000111222333"
FREE = {"input_per_mtok": 0.0, "output_per_mtok": 0.0}
# what the teacher server does for item n (cycled): a good answer, faults it recovers from, a wrong
# answer the gate must reject, and faults it never recovers from
PLAN = ["good", "good", "fault:429x1", "fault:500x2", "fault:timeoutx1", "wrong", "fault:malformed", "fault:empty"]


@pytest.fixture(scope="module")
def profiles(tmp_path_factory) -> list[dict]:
    """Export records of the bundled profile-scoring task (json_record, each with a reference)."""
    out = tmp_path_factory.mktemp("export")
    export.run(Params(export=ExportParams(source="bundled:json_record")), out_dir=out, metrics_path=None)
    return read_records(out / "pool.jsonl") + read_records(out / "val.jsonl")


def scored_pool(records: list[dict], plan: list[str] | None = None) -> list[dict]:
    """The student's answers, scored by the real gate; each prompt carries the server's item marker
    (and the fault the server injects for it)."""
    from distilloop.gate.scoring import score_records

    marked = []
    for n, record in enumerate(records):
        fault = (plan or PLAN)[n % len(plan or PLAN)]
        marker = f"item:{record['id']}" + (f" {fault}" if fault.startswith("fault:") else "")
        student = "I think this profile is a decent fit." if n % 2 else '{"handle": "someone", "score": 2}'
        marked.append({**record, "prompt": f"{record['prompt']}\n\n[{marker}]", "output": student})
    return score_records(marked, Params().gate)


def teacher_answers(records: list[dict], plan: list[str] | None = None) -> dict[str, str]:
    answers = {}
    for n, record in enumerate(records):
        reference = dict(record["reference"])
        if (plan or PLAN)[n % len(plan or PLAN)] == "wrong":  # valid JSON, wrong profile and score
            reference = {"handle": "nobody", "score": round(1 - reference["score"], 2), "reason": "guess"}
        answers[record["id"]] = json.dumps(reference)
    return answers


def write_params(path: Path, server, cache: Path, **teacher) -> Path:
    settings = {
        "backend": "openai",
        "model": "teacher-m",
        "base_url": f"{server.url}/v1" if server else None,
        "prices": {"teacher-m": {"input_per_mtok": 2.0, "output_per_mtok": 8.0}},
    }
    runtime = {"cache_path": str(cache), "timeout_s": 0.5, "max_retries": 3, "backoff_base_s": 0.01, "concurrency": 4}
    runtime.update((key, teacher.pop(key)) for key in list(teacher) if key in runtime)
    path.write_text(yaml.safe_dump({"teacher": {**settings, **teacher}, "runtime": {"teacher": runtime}}))
    return path


def test_every_eligible_item_ends_once_with_its_own_verified_answer(profiles, teacher_server, tmp_path):
    records = profiles[:24]
    scored = scored_pool(records)
    assert all(not r["passed"] for r in scored)  # the student's answers all need correcting
    write_jsonl(tmp_path / "scored.jsonl", scored)
    answers = teacher_answers(records)
    server = teacher_server(answers=answers, retry_after="0", stall_s=1.0, expected_key=SECRET)
    params = write_params(tmp_path / "params.yaml", server, tmp_path / "cache" / "teacher.sqlite")

    result = run_cli(
        "correct",
        "--in",
        str(tmp_path / "scored.jsonl"),
        "--out",
        str(tmp_path / "out" / "corr.jsonl"),
        "--params",
        str(params),
        env=cli_env(OPENAI_API_KEY=SECRET),
    )
    assert result.returncode == 0, result.stderr

    corrections = read_records(tmp_path / "out" / "corr.jsonl")
    assert sorted(c["id"] for c in corrections) == sorted(r["id"] for r in records)  # each once, none lost
    by_id = {record["id"]: n for n, record in enumerate(records)}
    for c in corrections:
        plan = PLAN[by_id[c["id"]] % len(PLAN)]
        assert f"item:{c['id']}" in c["prompt"]
        if plan in ("fault:malformed", "fault:empty"):
            kind = "malformed response" if plan == "fault:malformed" else "empty content"
            assert c["correction"] is None and not c["accepted"] and c["reason"].startswith(f"failed: {kind}")
            continue
        assert c["correction"] == answers[c["id"]]  # the answer to this prompt, never another one's
        if plan == "wrong":
            assert not c["accepted"] and c["correction_score"] < 7.0 and c["reason"].startswith("json-reference: score")
        else:
            assert c["accepted"] and c["correction_score"] >= 7.0, c
    assert all(c["teacher"] == {"backend": "openai", "model": "teacher-m"} for c in corrections)

    metrics = read_json(tmp_path / "out" / "corr.metrics.json")
    counts = Counter(PLAN[n % len(PLAN)] for n in range(len(records)))
    assert metrics["requested"] == 24 and metrics["sent"] == 24 and metrics["cache_hits"] == 0
    assert metrics["accepted"] == 24 - counts["wrong"] - counts["fault:malformed"] - counts["fault:empty"]
    assert metrics["rejected"] == {"json-reference": counts["wrong"]}  # the gate's reason: disagrees with the reference
    assert metrics["failed"] == {
        "malformed response": counts["fault:malformed"],
        "empty content": counts["fault:empty"],
    }
    assert metrics["skipped_budget"] == metrics["skipped_max"] == 0
    assert metrics["input_tokens"] > 0 and metrics["output_tokens"] > 0
    assert metrics["cost_usd"] == pytest.approx(sum(c["usage"]["cost_usd"] for c in corrections), abs=1e-6)

    # the key reached the server on every call, and appears in nothing the stage wrote or printed
    assert {call["auth"] for call in server.calls} == {"ok"}
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("teacher.sqlite") for p in written)
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in result.stdout + result.stderr


def test_a_killed_run_resumes_and_pays_only_for_what_is_missing(profiles, teacher_server, tmp_path):
    records = profiles[:16]
    write_jsonl(tmp_path / "scored.jsonl", scored_pool(records, ["good"]))
    answers = teacher_answers(records, ["good"])
    server = teacher_server(answers=answers, delay_s=0.4)
    cache = tmp_path / "teacher.sqlite"
    params = write_params(tmp_path / "params.yaml", server, cache, concurrency=2)
    command = [
        sys.executable,
        "-m",
        "distilloop.cli",
        "correct",
        "--in",
        str(tmp_path / "scored.jsonl"),
        "--out",
        str(tmp_path / "corr.jsonl"),
        "--params",
        str(params),
    ]
    env = cli_env(OPENAI_API_KEY=SECRET)

    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while cached_keys(cache) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    calls_first = [call["item"] for call in server.calls]
    done = cached_items(cache, server)
    assert 5 <= len(done) < len(records) and not (tmp_path / "corr.jsonl").exists()

    second = subprocess.run(command, env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    calls_second = [call["item"] for call in server.calls[len(calls_first) :]]
    assert sorted(calls_second) == sorted(set(answers) - done)  # only the missing ones, each once
    corrections = read_records(tmp_path / "corr.jsonl")
    assert sorted(c["id"] for c in corrections) == sorted(answers)
    assert all(c["accepted"] and c["correction"] == answers[c["id"]] for c in corrections)
    metrics = read_json(tmp_path / "corr.metrics.json")
    assert metrics["cache_hits"] == len(done) and metrics["sent"] == len(answers) - len(done)


def cached_keys(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with sqlite3.connect(cache, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def cached_items(cache: Path, server) -> set[str]:
    """Which items the cache holds answers for (answers name their item's handle)."""
    with sqlite3.connect(cache) as db:
        texts = [row[0] for row in db.execute("SELECT text FROM calls")]
    return {json.loads(text)["handle"] for text in texts}


def test_worst_first_at_most_max_and_never_past_the_budget(profiles, teacher_server, tmp_path):
    records = profiles[:12]
    scored = [{**r, "score": float(n % 6), "passed": False} for n, r in enumerate(scored_pool(records, ["good"]))]
    write_jsonl(tmp_path / "scored.jsonl", scored)
    server = teacher_server(answers=teacher_answers(records, ["good"]))
    cache = tmp_path / "teacher.sqlite"

    params = write_params(tmp_path / "p1.yaml", server, cache, concurrency=1)
    text = yaml.safe_load(params.read_text())
    text["correct"] = {"max_corrections_per_epoch": 5}
    params.write_text(yaml.safe_dump(text))
    assert (
        run_cli(
            "correct",
            "--in",
            str(tmp_path / "scored.jsonl"),
            "--out",
            str(tmp_path / "a.jsonl"),
            "--params",
            str(params),
            env=cli_env(OPENAI_API_KEY=SECRET),
        ).returncode
        == 0
    )
    worst = sorted(scored, key=lambda r: (r["score"], r["id"]))[:5]
    assert [c["id"] for c in read_records(tmp_path / "a.jsonl")] == [r["id"] for r in worst]
    assert read_json(tmp_path / "a.metrics.json")["skipped_max"] == 7

    # a budget of 1.5 worst-case calls: the first call fits, and with actual costs far below the worst
    # case a few more do, then the rest are skipped; the spend never passes the budget
    text["correct"] = {"max_corrections_per_epoch": 12}
    text["teacher"].update(max_tokens=128)
    text["runtime"]["teacher"].update(cache_path=str(tmp_path / "other.sqlite"))
    worst_case = max(estimate_of(r, text) for r in scored)
    text["correct"]["budget_usd"] = round(1.5 * worst_case, 8)
    params.write_text(yaml.safe_dump(text))
    assert (
        run_cli(
            "correct",
            "--in",
            str(tmp_path / "scored.jsonl"),
            "--out",
            str(tmp_path / "b.jsonl"),
            "--params",
            str(params),
            env=cli_env(OPENAI_API_KEY=SECRET),
        ).returncode
        == 0
    )
    metrics = read_json(tmp_path / "b.metrics.json")
    assert metrics["skipped_budget"] > 0 and metrics["sent"] + metrics["skipped_budget"] == 12
    assert 0 < metrics["cost_usd"] <= text["correct"]["budget_usd"]
    assert len(read_records(tmp_path / "b.jsonl")) == metrics["sent"]


def estimate_of(record: dict, params_data: dict) -> float:
    from distilloop.config import parse
    from distilloop.teachers.correction import correction_request
    from distilloop.teachers.ledger import Ledger, price_of

    params = parse(params_data)
    request = correction_request(record, params)
    return Ledger(price_of(params.teacher, True), 1.0, params.teacher.max_tokens).estimate(
        request.system, request.prompt
    )


def test_epoch_mode_with_the_reference_teacher_then_merge(profiles, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    records = profiles[:6]
    scored = scored_pool(records, ["good"])
    scored[0].pop("reference")  # a record without a reference: the reference teacher fails it, with a reason
    write_jsonl("runs/epoch-0/pool.scored.jsonl", scored)
    write_jsonl("runs/epoch-0/bank.jsonl", [{"id": "seed1", "prompt": "P", "completion": "C", "source": "seed"}])
    monkeypatch.setenv("DISTILLOOP_CACHE_DIR", str(tmp_path / "cache"))

    assert run_cli("correct", "--epoch", "1", cwd=tmp_path).returncode == 0
    corrections = {c["id"]: c for c in read_records("runs/epoch-1/corrections.jsonl")}
    assert corrections[records[0]["id"]]["reason"] == "failed: no reference (the record has no reference answer)"
    assert all(corrections[r["id"]]["accepted"] for r in records[1:])
    assert all(c["cache_key"] is None for c in corrections.values())  # the reference teacher is not cached
    assert read_json("metrics/epochs/1-correct.json")["failed"] == {"no reference": 1}

    merge.run(Params(), 1)
    train = read_records("runs/epoch-1/bank.jsonl")
    assert [t["source"] for t in train] == ["seed"] + ["correction@1"] * 5
    assert len(read_records("runs/epoch-1/pairs.jsonl")) == 5


def test_augmentation_trains_only_on_new_tasks_that_pass_every_check(profiles, teacher_server, tmp_path, monkeypatch):
    """correct.augment: the teacher writes new tasks like each failing item; each ends as one record, and
    only one that passes the gate, leaks nothing of val/test and repeats no pool prompt joins the lesson."""
    monkeypatch.chdir(tmp_path)
    pool, val, test = profiles[:4], profiles[20:22], profiles[22:24]
    scored = scored_pool(pool, ["good"])
    write_jsonl("runs/epoch-0/pool.scored.jsonl", scored)
    write_jsonl("runs/epoch-0/bank.jsonl", [{"id": "seed1", "prompt": "P", "completion": "C", "source": "seed"}])
    write_jsonl("data/export/val.jsonl", val)
    write_jsonl("data/export/test.jsonl", test)
    new_person = (
        pool[0]["prompt"].split("\n\nProfile")[0] + "\n\nProfile\nhandle: ines_okafor77\nheadline: AUTOSAR developer"
    )
    good = {"handle": "ines_okafor77", "score": 0.62, "reason": "AUTOSAR and C, no TSN"}
    answers = teacher_answers(pool, ["good"])
    answers |= {
        f"aug-{pool[0]['id']}": json.dumps(
            [
                {"prompt": new_person, "answer": good},  # the one to train on (an object answer is serialised)
                {"prompt": val[1]["prompt"], "answer": json.dumps(val[1]["reference"])},  # a held-out prompt
                {"prompt": "Score this profile."},  # no answer
                {"prompt": "beyond correct.augment", "answer": "{}"},  # past the 3 asked for: ignored
            ]
        ),
        f"aug-{pool[1]['id']}": "Here are three new tasks: ...",
        f"aug-{pool[2]['id']}": "```json\n"
        + json.dumps([{"prompt": new_person + " (2)", "answer": '{"handle": 5}'}])
        + "\n```",
        f"aug-{pool[3]['id']}": json.dumps([{"prompt": scored[3]["prompt"], "answer": json.dumps(good)}]),
    }
    server = teacher_server(answers=answers)
    params_file = write_params(
        tmp_path / "params.yaml",
        server,
        tmp_path / "teacher.sqlite",
        augment_template="item:aug-{id} Write {count} tasks like this one.\n{prompt}\nAnswer:\n{answer}",
    )
    settings = yaml.safe_load(params_file.read_text())
    params_file.write_text(yaml.safe_dump({**settings, "correct": {"augment": 3}}))

    assert run_cli("correct", "--epoch", "1", cwd=tmp_path).returncode == 0
    assert sum(c["accepted"] for c in read_records("runs/epoch-1/corrections.jsonl")) == 4
    augmented = read_records("runs/epoch-1/augmented.jsonl")
    reasons = {r["id"]: r["reason"].split(":")[0] for r in augmented}
    first = pool[0]["id"]
    assert reasons == {
        f"{first}+aug1.1": "passed the gate",
        f"{first}+aug1.2": "leak",
        f"{first}+aug1.3": "malformed",
        f"{pool[1]['id']}+aug1": "reply is not a JSON array",
        f"{pool[2]['id']}+aug1.1": "json-schema",  # the gate's most basic finding, as for corrections
        f"{pool[3]['id']}+aug1.1": "repeat",
    }
    assert [r["id"] for r in augmented if r["accepted"]] == [f"{first}+aug1.1"]
    metrics = read_json("metrics/epochs/1-correct.json")["augment"]
    assert metrics["seeds"] == 4 and metrics["tasks_written"] == 5 and metrics["accepted"] == 1
    assert sum(metrics["rejected"].values()) == 5
    assert len(server.calls) == 8  # 4 corrections, then 4 requests for new tasks

    merge.run(Params(), 1)
    added = [r for r in read_records("runs/epoch-1/lesson.jsonl") if r["source"] == "augment@1"]
    assert [(r["prompt"], json.loads(r["completion"])) for r in added] == [(new_person, good)]


def test_bad_input_is_one_line(tmp_path):
    env = cli_env(DISTILLOOP_CACHE_DIR=str(tmp_path / "cache"))
    assert_one_line_error(run_cli("correct", cwd=tmp_path, env=env), "give --epoch N")
    assert_one_line_error(
        run_cli("correct", "--epoch", "3", cwd=tmp_path, env=env), "runs/epoch-2/pool.scored.jsonl: file not found"
    )
    write_jsonl(tmp_path / "s.jsonl", [{"id": "a", "prompt": "p", "output": "o"}])
    assert_one_line_error(
        run_cli("correct", "--in", "s.jsonl", "--out", "c.jsonl", cwd=tmp_path, env=env),
        "s.jsonl:1: not a scored record: missing 'score', 'passed'",
    )
    write_jsonl(tmp_path / "s.jsonl", [{"id": "a", "prompt": "p", "output": "o", "score": 1, "passed": False}] * 2)
    assert_one_line_error(
        run_cli("correct", "--in", "s.jsonl", "--out", "c.jsonl", cwd=tmp_path, env=env),
        "s.jsonl:2: duplicate id 'a' (first at line 1)",
    )
    (tmp_path / "params.yaml").write_text("teacher:\n  backend: openai\n  api_key_env: sk-proj-abcdef123456\n")
    result = run_cli("correct", "--in", "s.jsonl", "--out", "c.jsonl", cwd=tmp_path, env=env)
    assert_one_line_error(result, "teacher.api_key_env")
    assert "sk-proj-abcdef123456" not in result.stderr  # a pasted key is never echoed
    (tmp_path / "params.yaml").write_text("teacher:\n  backend: anthropic\n  model: m\n")
    write_jsonl(tmp_path / "s.jsonl", [{"id": "a", "prompt": "p", "output": "o", "score": 1, "passed": False}])
    env.pop("ANTHROPIC_API_KEY", None)
    assert_one_line_error(
        run_cli("correct", "--in", "s.jsonl", "--out", "c.jsonl", cwd=tmp_path, env=env),
        "set the environment variable ANTHROPIC_API_KEY",
    )
    assert not (tmp_path / "c.jsonl").exists()


def test_nothing_to_correct_needs_no_teacher(tmp_path):
    """A converged epoch: every answer passed, so no model is loaded and no key is needed."""
    write_jsonl(tmp_path / "s.jsonl", [{"id": "a", "prompt": "p", "output": "o", "score": 9.5, "passed": True}])
    (tmp_path / "params.yaml").write_text("teacher:\n  backend: anthropic\n  model: m\n")
    env = cli_env()
    env.pop("ANTHROPIC_API_KEY", None)
    assert run_cli("correct", "--in", "s.jsonl", "--out", "c.jsonl", cwd=tmp_path, env=env).returncode == 0
    assert read_records(tmp_path / "c.jsonl") == []
    metrics = read_json(tmp_path / "c.metrics.json")
    assert metrics["requested"] == metrics["sent"] == metrics["accepted"] == 0


VLAN_HARNESS = r"""
#include <stdio.h>
int main(void)
{
    int passed = 0;
    if (vlan_tci_pack(3U, 0U, 100U) == 0x6064U) { passed++; printf("ok 1\n"); } else { printf("FAIL 1: pcp 3 vid 100\n"); }
    if (vlan_tci_pack(7U, 1U, 0xFFEU) == 0xFFFEU) { passed++; printf("ok 2\n"); } else { printf("FAIL 2: all bits\n"); }
    if (vlan_tci_pack(0U, 0U, 1U) == 0x0001U) { passed++; printf("ok 3\n"); } else { printf("FAIL 3: vid 1\n"); }
    printf("harness: %d/3\n", passed);
    return (passed == 3) ? 0 : 1;
}
"""
VLAN_GOOD = """```c
#include <stdint.h>

/**
 * Pack an 802.1Q tag control information field.
 * @param pcp priority code point (0..7)
 * @param dei drop eligible indicator (0..1)
 * @param vid VLAN identifier (0..4095)
 * @return the TCI: PCP in bits 15..13, DEI in bit 12, VID in bits 11..0
 */
uint16_t vlan_tci_pack(uint8_t pcp, uint8_t dei, uint16_t vid)
{
    uint16_t tci = (uint16_t)(((uint16_t)pcp & 0x7U) << 13U);
    tci = (uint16_t)(tci | (uint16_t)(((uint16_t)dei & 0x1U) << 12U));
    tci = (uint16_t)(tci | (uint16_t)(vid & 0x0FFFU));
    return tci;
}
```"""


def test_c_corrections_are_compiled_and_run_by_the_gate(teacher_server, tmp_path):
    """A correct C function is accepted; PCP shifted by 12 fails the harness; a lone macro defines no function."""
    from distilloop.gate.scoring import score_records

    signature = "uint16_t vlan_tci_pack(uint8_t pcp, uint8_t dei, uint16_t vid)"
    checks = {
        "family": "vlan_tag",
        "function": "vlan_tci_pack",
        "signature": signature,
        "facts": {"vlan_tci_layout": None},
        "harness": VLAN_HARNESS,
    }
    records = [
        {
            "id": name,
            "task": "c_code",
            "checks": checks,
            "prompt": f"Write {signature} in C99 under MISRA-C. [item:{name}]",
        }
        for name in ("good", "pcp12", "macro")
    ]
    scored = score_records([{**r, "output": "#define _C99_C_C_C"} for r in records], Params().gate)
    write_jsonl(tmp_path / "scored.jsonl", scored)
    answers = {
        "good": VLAN_GOOD,
        "pcp12": VLAN_GOOD.replace("<< 13U", "<< 12U"),
        "macro": "```c\n#define VLAN_TPID 0x8100U\n```",
    }
    server = teacher_server(answers=answers)
    params = write_params(tmp_path / "params.yaml", server, tmp_path / "teacher.sqlite")

    result = run_cli(
        "correct",
        "--in",
        str(tmp_path / "scored.jsonl"),
        "--out",
        str(tmp_path / "c.jsonl"),
        "--params",
        str(params),
        env=cli_env(OPENAI_API_KEY=SECRET),
    )
    assert result.returncode == 0, result.stderr
    corrections = {c["id"]: c for c in read_records(tmp_path / "c.jsonl")}
    assert corrections["good"]["accepted"] and corrections["good"]["correction"] == VLAN_GOOD
    assert not corrections["pcp12"]["accepted"] and corrections["pcp12"]["reason"].startswith("harness:")
    assert not corrections["macro"]["accepted"] and corrections["macro"]["reason"].startswith("function-missing:")
    assert read_json(tmp_path / "c.metrics.json")["rejected"] == {"function-missing": 1, "harness": 1}

    # quality_threshold is the distillation knob above the gate's own pass_score: a correction passing the
    # gate at 9.97 is not trained on when the run asks for 9.99
    data = yaml.safe_load(params.read_text())
    params.write_text(yaml.safe_dump({**data, "quality_threshold": 9.99}))
    result = run_cli(
        "correct",
        "--in",
        str(tmp_path / "scored.jsonl"),
        "--out",
        str(tmp_path / "c2.jsonl"),
        "--params",
        str(params),
        env=cli_env(OPENAI_API_KEY=SECRET),
    )
    assert result.returncode == 0, result.stderr
    good = {c["id"]: c for c in read_records(tmp_path / "c2.jsonl")}["good"]
    assert not good["accepted"] and good["reason"].startswith("below threshold: score 9.9")
    # the requests do not name the threshold, so a threshold experiment pays for no call twice
    rerun = read_json(tmp_path / "c2.metrics.json")
    assert rerun["sent"] == 0 and rerun["cache_hits"] == 3


def test_dvc_repro_then_exp_run_in_a_temp_dir_share_the_cache(profiles, teacher_server, project, tmp_path):
    """`dvc repro` runs correct@1 and merge@1; `dvc exp run --temp` with a changed param reruns
    correct@1 in a copy of the project and pays nothing: the cache lives outside the project."""
    records = profiles[:6]
    write_jsonl(project / "runs/epoch-0/pool.scored.jsonl", scored_pool(records, ["good"]))
    write_jsonl(project / "runs/epoch-0/bank.jsonl", [{"id": "s", "prompt": "P", "completion": "C", "source": "seed"}])
    write_jsonl(project / "runs/epoch-0/pairs.jsonl", [])  # the seed's preference pairs: none
    write_json(project / "metrics/epochs/0.json", {"epoch": 0, "converged": False})  # baseline's, as correct@1 reads it
    write_jsonl(
        project / "data/export/val.jsonl", profiles[20:22]
    )  # export's, as correct.augment's leak check reads them
    write_jsonl(project / "data/export/test.jsonl", profiles[22:24])
    write_stage_subset(project, "correct", "merge")  # epoch 0 comes from this test, not from baseline
    server = teacher_server(answers=teacher_answers(records, ["good"]), expected_key=SECRET)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["teacher"].update(
        backend="openai",
        model="teacher-m",
        base_url=f"{server.url}/v1",
        prices={"teacher-m": FREE},
    )
    params["runtime"]["teacher"]["backoff_base_s"] = 0.01
    params["loop"]["epochs"] = {"1": 0}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git = ["git", "-c", "user.email=t@t.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "epoch 0 outputs"], cwd=project, check=True)
    env = cli_env(OPENAI_API_KEY=SECRET, DISTILLOOP_CACHE_DIR=str(tmp_path / "shared-cache"))

    def dvc(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(["dvc", *args], cwd=project, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    dvc("repro", "--single-item", "correct@1")
    dvc("repro", "--single-item", "merge@1")
    assert len(server.calls) == 6 and {call["auth"] for call in server.calls} == {"ok"}
    assert read_json(project / "metrics/epochs/1-correct.json")["accepted"] == 6
    assert [r["source"] for r in read_records(project / "runs/epoch-1/bank.jsonl")] == ["seed"] + ["correction@1"] * 6
    assert "teacher" in (project / "dvc.lock").read_text()
    for path in [
        project / "dvc.lock",
        project / "params.yaml",
        *project.glob("runs/epoch-1/*"),
        *project.glob("metrics/epochs/*"),
    ]:
        assert SECRET not in path.read_text(), path

    experiment = dvc("exp", "run", "--temp", "--single-item", "correct@1", "-S", "correct.budget_usd=4.5")
    assert "Running stage 'correct@1'" in experiment.stdout
    assert len(server.calls) == 6  # the experiment's copy found every answer in the shared cache
