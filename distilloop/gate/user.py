"""A project's own tasks: params `gate.tasks.NAME` names a scorer, and the gate treats its results as it
treats the built-in tasks' (verdict.py turns a score into a pass; findings reach the teacher).

The contract (docs/tasks.md):
    score(records: list[dict], options: dict) -> list[float | dict]
one result per record, in order. A record carries `id`, `task`, `prompt`, `output`, `reference` (may be
None), `truncated` and the row's `meta` fields. A result is a score from 0 to 10, or
{"score": s, "axes": {name: 0-10}, "findings": [{"id": ..., "message": ...}]}.

A scorer is `tasks/FILE.py:function` (a file of the project, under tasks/ so that the scoring stages
see it change), `package.module:function` (an installed module), or `{command: [...]}`: a program that
reads the records as JSONL on stdin and writes one result per line as JSON on stdout. A task may have an
LLM judge instead (judge.py).

Every call runs in a child process with `timeout_s`. A scorer that raises, exits non-zero, returns the
wrong number of results, a NaN, a score outside 0..10 or anything else, or runs past the timeout stops
the stage with one line naming the task, the scorer and the record: never a silent 0.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

from distilloop import UserError
from distilloop.config import USER_TASK_DIR, CommandScorer, GateParams, UserTaskParams
from distilloop.gate.verdict import verdict

# the record fields every scorer is given, whatever else the row carries
CONTRACT_FIELDS = ("id", "task", "prompt", "output", "reference", "truncated")
MAX_MESSAGE_CHARS = 2000  # a finding's message reaches the teacher prompt: keep it bounded


class ScorerError(UserError):
    """A user's scorer broke the contract: one line, naming the task, the scorer and the record."""


def score(
    task: str, records: list[dict], gate: GateParams, on_progress=None, timings: dict | None = None
) -> list[dict]:
    """Score the records of one user task, in batches of the task's batch_size."""
    config = gate.tasks[task]
    if config.judge is not None:
        from distilloop.gate import judge

        results = judge.score(task, config.judge, [contract_record(r) for r in records], gate.pass_score)
        if on_progress:
            on_progress(len(records))
        return [{**r, **as_verdict(task, config, r, result, gate.pass_score)} for r, result in zip(records, results)]
    scored = []
    for start in range(0, len(records), config.batch_size):
        batch = records[start : start + config.batch_size]
        results = call_scorer(task, config, [contract_record(r) for r in batch])
        for record, result in zip(batch, results):
            scored.append({**record, **as_verdict(task, config, record, result, gate.pass_score)})
        if on_progress:
            on_progress(len(batch))
    return scored


def contract_record(record: dict) -> dict:
    """What a scorer sees of a record: the contract fields, then the row's other fields (an export
    record's `meta`, or a scored file's own columns); the contract fields always win."""
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    others = {key: value for key, value in record.items() if key not in ("meta", "gen")}
    given = {key: record.get(key) for key in CONTRACT_FIELDS}
    given["truncated"] = bool(given["truncated"])
    return {**meta, **others, **given}


def scorer_name(config: UserTaskParams) -> str:
    if config.judge is not None:
        return f"judge {config.judge.backend} {config.judge.model}"
    scorer = config.scorer
    return " ".join(scorer.command) if isinstance(scorer, CommandScorer) else str(scorer)


def call_scorer(task: str, config: UserTaskParams, records: list[dict]) -> list:
    """The scorer's raw results for `records` (one list, one item per record), or ScorerError."""
    where = f"task {task!r}: scorer {scorer_name(config)}"
    first = (
        f"records {records[0]['id']!r}..{records[-1]['id']!r}" if len(records) > 1 else f"record {records[0]['id']!r}"
    )
    if isinstance(config.scorer, CommandScorer):
        results = _run_command(config.scorer, records, config.timeout_s, where, first)
    else:
        results = _run_function(config.scorer, records, config.options, config.timeout_s, where, first)
    if not isinstance(results, list):
        raise ScorerError(f"{where}: returned a {type(results).__name__}, not a list (on {first})")
    if len(results) != len(records):
        raise ScorerError(f"{where}: returned {len(results)} results for {len(records)} records (on {first})")
    return results


def as_verdict(task: str, config: UserTaskParams, record: dict, result, pass_score: float) -> dict:
    """One result -> {score, axes, passed, truncated, findings}; a result off the contract is a ScorerError."""
    where = f"task {task!r}: scorer {scorer_name(config)}: record {record.get('id')!r}"
    axes, findings = {}, []
    if isinstance(result, dict):
        if "score" not in result:
            raise ScorerError(f"{where}: result has no 'score' (got keys {sorted(result)[:5]})")
        axes = _axes(result.get("axes") or {}, where)
        findings = _findings(result.get("findings") or [], where)
        result = result["score"]
    value = _score(result, where)
    truncated = bool(record.get("truncated"))
    if truncated and not any(f["id"] == "truncated" for f in findings):
        findings.insert(0, {"id": "truncated", "message": "generation stopped at max_new_tokens"})
    return {**verdict(value, axes, pass_score, config.minimums), "truncated": truncated, "findings": findings}


def _score(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScorerError(f"{where}: score must be a number from 0 to 10, got {type(value).__name__} {value!r:.40}")
    if not math.isfinite(value) or not 0 <= value <= 10:
        raise ScorerError(f"{where}: score must be a number from 0 to 10, got {value!r}")
    return float(value)


def _axes(axes, where: str) -> dict[str, float]:
    if not isinstance(axes, dict):
        raise ScorerError(f"{where}: 'axes' must be an object of name: 0-10")
    return {str(name): _score(value, f"{where}: axis {name!r}") for name, value in axes.items()}


def _findings(findings, where: str) -> list[dict]:
    if not isinstance(findings, list) or not all(isinstance(f, dict) and "id" in f for f in findings):
        raise ScorerError(f"{where}: 'findings' must be a list of {{'id': ..., 'message': ...}}")
    return [{"id": str(f["id"]), "message": str(f.get("message", ""))[:MAX_MESSAGE_CHARS]} for f in findings]


# --- a Python scorer ---------------------------------------------------------------------------------


def load_function(reference: str):
    """`tasks/file.py:function` (relative to the project directory) or `package.module:function`."""
    target, _, name = reference.rpartition(":")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise UserError(f"scorer {reference}: {path} not found (relative to {Path.cwd()})")
        spec = importlib.util.spec_from_file_location(f"distilloop_user_task_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.resolve().parent))  # the scorer may import its neighbours
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.resolve().parent))
    else:
        module = importlib.import_module(target)
    function = getattr(module, name, None)
    if not callable(function):
        raise UserError(f"scorer {reference}: no function {name!r} in {target}")
    return function


def _child(reference: str, records: list[dict], options: dict, connection) -> None:
    try:
        results = load_function(reference)(records, dict(options))
        connection.send(("ok", json.loads(json.dumps(results))))  # only what JSON can carry comes back
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent as one line
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        connection.send(("error", f"{type(exc).__name__}" + (f": {detail}" if detail else "")))
    finally:
        connection.close()


def _run_function(reference: str, records: list[dict], options: dict, timeout: float, where: str, first: str):
    """Call the function in a forked child: a hang is killed at the timeout, a crash cannot take the stage."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(reference, records, options, sender), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise ScorerError(f"{where}: no result within timeout_s={timeout:g} s (on {first})")
        status, payload = receiver.recv()
    except EOFError:
        child.join(5)
        raise ScorerError(f"{where}: the scorer process died (exit code {child.exitcode}) on {first}") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if status == "error":
        raise ScorerError(f"{where}: raised {payload} (on {first})")
    return payload


# --- a command scorer --------------------------------------------------------------------------------


def _run_command(scorer: CommandScorer, records: list[dict], timeout: float, where: str, first: str) -> list:
    stdin = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    try:
        if scorer.sandbox:
            from distilloop.gate.c_code import sandbox

            if (why := sandbox.strong_available()) is not None:
                raise ScorerError(f"{where}: sandbox: {why} (sandbox: false runs the command uncontained)")
            done = sandbox.run_contained(scorer.command, stdin, Path(USER_TASK_DIR), timeout)
        else:
            done = subprocess.run(
                scorer.command,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
    except FileNotFoundError:
        raise ScorerError(f"{where}: command not found: {scorer.command[0]}") from None
    except subprocess.TimeoutExpired:
        raise ScorerError(f"{where}: no result within timeout_s={timeout:g} s (on {first})") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1][:300]
        raise ScorerError(f"{where}: exited with {done.returncode}: {last} (on {first})")
    results = []
    for number, line in enumerate(done.stdout.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            results.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError):
            raise ScorerError(f"{where}: output line {number} is not JSON: {line[:80]!r} (on {first})") from None
    return results
