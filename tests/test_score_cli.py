"""`distilloop score --in FILE --out FILE [--task NAME]` as a user runs it: a real process on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

C_ANSWER = """#include <stdint.h>

/**
 * @brief Add two octets, wrapping.
 * @param a First octet.
 * @param b Second octet.
 * @return (a + b) mod 256.
 */
uint8_t add8(uint8_t a, uint8_t b)
{
    return (uint8_t)(a + b);
}
"""


def distilloop(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "distilloop.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def test_scores_a_file_with_rejects_and_summary(tmp_path):
    checks = {"function": "add8", "signature": "uint8_t add8(uint8_t a, uint8_t b)"}
    source = write_lines(
        tmp_path / "answers.jsonl",
        [
            {"id": "c1", "task": "c_code", "prompt": "p", "checks": checks, "output": C_ANSWER},
            {
                "id": "c2",
                "task": "c_code",
                "prompt": "p",
                "checks": checks,
                "output": "#define add8(a, b) ((a) + (b))\n",
            },
            "this line is not JSON",
            {
                "id": "j1",
                "prompt": "p",
                "reference": {"handle": "h", "score": 0.5},
                "output": '{"handle": "h", "score": 0.55, "reason": "r"}',
            },
            {"id": "no-output", "task": "c_code", "prompt": "p"},
            {"id": "bad-task", "task": "haiku", "prompt": "p", "output": "x"},
            [1, 2, 3],
        ],
    )
    out = tmp_path / "scored.jsonl"
    done = distilloop(
        "score",
        "--in",
        str(source),
        "--out",
        str(out),
        "--task",
        "json_record",
        "--metrics",
        str(tmp_path / "summary.json"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in scored] == ["c1", "c2", "j1"]
    by_id = {r["id"]: r for r in scored}
    assert by_id["c1"]["passed"] and by_id["c1"]["axes"]["syntax"] == 10
    assert not by_id["c2"]["passed"] and "function-missing" in {f["id"] for f in by_id["c2"]["findings"]}
    assert by_id["j1"]["task"] == "json_record" and by_id["j1"]["passed"]  # --task filled in the missing task

    rejects = [json.loads(line) for line in (tmp_path / "scored.rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["reason"].split(":")[0]) for r in rejects] == [
        (3, "malformed JSON"),
        (5, "missing field"),
        (6, "unknown task"),
        (7, "not a JSON object"),
    ]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["count"] == 3 and summary["rejects"] == 4 and summary["pass_rate"] == round(2 / 3, 4)
    assert "pass rate" in done.stderr and "Traceback" not in done.stderr


def test_a_clean_rerun_removes_stale_rejects(tmp_path):
    out = tmp_path / "scored.jsonl"
    (tmp_path / "scored.rejects.jsonl").write_text('{"stale": true}\n')
    source = write_lines(tmp_path / "in.jsonl", [{"id": "j", "task": "json_record", "output": "{}"}])
    done = distilloop("score", "--in", str(source), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "scored.rejects.jsonl").exists()
    assert json.loads(out.read_text())["axes"]["schema"] < 10


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("distilloop: error: "), done.stderr
    return lines[0]


def test_user_errors_are_one_line(tmp_path):
    out = str(tmp_path / "out.jsonl")
    assert "file not found" in one_line_error(distilloop("score", "--in", "missing.jsonl", "--out", out, cwd=tmp_path))

    only_bad = write_lines(tmp_path / "bad.jsonl", ["nope", {"id": "x", "output": "y"}])
    message = one_line_error(distilloop("score", "--in", str(only_bad), "--out", out, cwd=tmp_path))
    assert "no record to score (2 rejects, first: line 1: malformed JSON" in message
    assert not Path(out).exists() and len((tmp_path / "out.rejects.jsonl").read_text().splitlines()) == 2

    good = write_lines(tmp_path / "good.jsonl", [{"id": "j", "task": "json_record", "output": "{}"}])
    message = one_line_error(distilloop("score", "--in", str(good), "--out", out, "--task", "yaml", cwd=tmp_path))
    assert "--task: unknown task 'yaml'" in message

    (tmp_path / "params.yaml").write_text("gate:\n  c_code:\n    weights: {syntax: 1, speed: 2}\n")
    message = one_line_error(distilloop("score", "--in", str(good), "--out", out, cwd=tmp_path))
    assert "gate.c_code.weights: unknown axis 'speed'" in message


def test_a_binary_input_file_writes_the_rejects_it_counts(tmp_path):
    """Every line of a binary file is a reject; the error names how many and where they were written."""
    data = bytes(range(256)) * 8  # eight newlines and no final one: nine lines, none of them JSON
    (tmp_path / "blob.jsonl").write_bytes(data)
    out = tmp_path / "out.jsonl"
    message = one_line_error(distilloop("score", "--in", "blob.jsonl", "--out", str(out), cwd=tmp_path))
    counted = int(message.split("no record to score (")[1].split(" rejects")[0])
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert counted == 9 == len(rejects) and f"rejects in {tmp_path / 'out.rejects.jsonl'}" in message
    assert [r["line"] for r in rejects] == list(range(1, counted + 1)) and all(r["reason"] for r in rejects)


def unreadable_file(tmp_path: Path) -> Path:
    """A file that exists but cannot be read: mode 000, or (as root, who reads anything) /proc/self/mem,
    which fails with EIO at offset 0."""
    if os.geteuid() == 0:
        return Path("/proc/self/mem")
    path = tmp_path / "locked.yaml"
    path.write_text("gate: {}\n")
    path.chmod(0)
    return path


def test_a_params_file_that_is_not_yaml_text_is_one_line(tmp_path):
    good = write_lines(tmp_path / "good.jsonl", [{"id": "j", "task": "json_record", "output": "{}"}])
    (tmp_path / "utf16.yaml").write_text("gate:\n  pass_score: 7\n", encoding="utf-16")
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)))
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "deep.yaml").write_text("gate: " + "[" * 20000 + "]" * 20000 + "\n")
    cases = {
        "utf16.yaml": "utf16.yaml: not UTF-8 text (byte 0)",
        "binary.yaml": "binary.yaml: not UTF-8 text (byte 128)",
        "folder.yaml": "folder.yaml: is a directory, expected a params YAML file",
        "deep.yaml": "deep.yaml: not valid YAML: nested too deeply",
        str(unreadable_file(tmp_path)): "cannot read: ",
    }
    for params, fragment in cases.items():
        done = distilloop(
            "score", "--in", str(good), "--out", str(tmp_path / "o.jsonl"), "--params", params, cwd=tmp_path
        )
        assert "Traceback" not in done.stderr, done.stderr
        assert fragment in one_line_error(done)
