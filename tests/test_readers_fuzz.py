"""Hostile input files for every reader: no traceback, and lines in = records out + rejects.

Hypothesis builds files line by line from valid records, deep nesting, lone surrogates, NULs, stray
bytes and broken JSON; the CLI cases run the real `distilloop score` on such files."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from conftest import assert_one_line_error, run_cli
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from distilloop import UserError
from distilloop.export.sources import Row, read_csv
from distilloop.io import MAX_NESTING, ReadStats, Reject, iter_jsonl

HOSTILE_LINES = [
    b'{"id": "deep", "output": ' + b"[" * 50000 + b"]" * 50000 + b"}",
    b'{"id": "shallow-deep", "output": ' + b"[" * 100 + b"]" * 100 + b"}",
    b'{"id": "surrogate", "output": "\\ud800"}',
    b'{"id": "nul", "output": "a\\u0000b"}',
    b'{"id": "raw-nul", "output": "a\x00b"}',
    b'{"id": "bad-utf8", "output": "\xff\xfe"}',
    b'{"id": "huge-int", "output": 1' + b"0" * 5000 + b"}",
    b"[1, 2, 3]",
    b"",
    b"\xef\xbb\xbf{}",
    b'{"id": "pair", "output": "\\ud83d\\ude00"}',
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


def depth(value) -> int:
    """Levels below the root of its deepest value (a flat object: 1)."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((1 + depth(child) for child in children), default=0)


def clean_object(line: bytes, first: bool) -> dict | None:
    """The object a reader must keep for this line: a JSON object in UTF-8 with no NUL, no lone surrogate and
    no deep nesting (a UTF-8 BOM aside, which only the first line may carry); None for anything else."""
    try:
        value = json.loads(line.decode("utf-8-sig" if first else "utf-8"))
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate cannot be encoded
    except (UnicodeError, ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or "\\u0000" in json.dumps(value) or depth(value) > MAX_NESTING:
        return None
    return value


lines = st.one_of(
    st.sampled_from(HOSTILE_LINES),
    json_values.map(lambda value: json.dumps({"id": "x", "output": value}).encode()),
    st.binary(max_size=40).map(lambda raw: raw.replace(b"\n", b" ")),
    st.integers(1, 3000).map(lambda depth: b'{"a": ' + b"{" * depth + b"}" * depth + b"}"),
    st.text(max_size=20).map(lambda text: json.dumps({"id": text}, ensure_ascii=True).encode()),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(st.lists(lines, min_size=1, max_size=8))
def test_jsonl_reader_keeps_every_line(tmp_path, content):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(content) + b"\n")
    items = list(iter_jsonl(path, max_bytes=10**7, stats=ReadStats()))
    assert [number for number, _ in items] == list(range(1, len(content) + 1))
    for line, (number, item) in zip(content, items):
        kept = clean_object(line, first=number == 1)
        if isinstance(item, Reject):
            assert kept is None, f"line {number} is a clean JSON object but was rejected: {item.reason}"
            assert item.line == number and item.reason
        else:
            assert item == kept, f"line {number} came back as something other than its own object"
            assert json.loads(json.dumps(item, ensure_ascii=False).encode("utf-8")) == item  # writable as is


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=12), min_size=1, max_size=6))
def test_csv_reader_keeps_every_row(tmp_path, cells):
    path = tmp_path / "in.csv"
    rows = ["id,prompt"] + [f"{i},{cell.replace(chr(10), ' ').replace(chr(13), ' ')}" for i, cell in enumerate(cells)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8", errors="surrogatepass")
    try:
        items = list(read_csv(path, ReadStats(), 10**6, str(path)))
    except UserError:
        return  # a header it cannot read: one line, the whole file refused
    assert all(isinstance(item, (Row, Reject)) for item in items)
    for item in items:
        if isinstance(item, Row):
            assert all("\x00" not in str(value) for value in item.data.values())


def test_csv_nul_bytes_are_rejected(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,prompt\nok,fine\nbad\x00id,x\n")
    items = list(read_csv(path, ReadStats(), 10**6, str(path)))
    assert isinstance(items[0], Row) and isinstance(items[1], Reject) and "NUL" in items[1].reason


def test_score_cli_on_hostile_lines(tmp_path):
    """Every hostile line becomes a reject with its line number; the good line is scored."""
    path = tmp_path / "in.jsonl"
    good = json.dumps({"id": "good", "task": "json_record", "prompt": "p", "reference": {"a": 1}, "output": '{"a": 1}'})
    path.write_bytes(b"\n".join([*HOSTILE_LINES, good.encode()]) + b"\n")
    result = run_cli(
        "score", "--in", str(path), "--out", str(tmp_path / "out.jsonl"), "--task", "json_record", cwd=tmp_path
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    scored = (tmp_path / "out.jsonl").read_text().splitlines()
    rejects = (tmp_path / "out.rejects.jsonl").read_text().splitlines()
    assert len(scored) + len(rejects) == len(HOSTILE_LINES) + 1


def test_score_cli_on_a_directory_and_an_unreadable_path(tmp_path):
    assert_one_line_error(
        run_cli("score", "--in", str(tmp_path), "--out", str(tmp_path / "o.jsonl"), cwd=tmp_path), "is a directory"
    )
    missing = Path("/proc/self/fdinfo/nope.jsonl")
    assert_one_line_error(
        run_cli("score", "--in", str(missing), "--out", str(tmp_path / "o.jsonl"), cwd=tmp_path), str(missing)
    )


# --- extractors of untrusted answers: depth-bounded, linear, never an exception ----------------------

DEEP_ANSWER = '{"x": ' + "[" * 1000 + "]" * 1000 + "}"  # ~2 KB: json.loads recurses past its limit on it


def test_score_cli_scores_every_record_beside_a_deeply_nested_answer(tmp_path):
    """A reply nested 1000 deep is a `json-too-deep` finding on its own record; the records around it
    are scored as usual."""
    good = '{"handle": "anna_k", "score": 0.8, "reason": "ok"}'
    records = [
        {"id": "before", "output": good},
        {"id": "deep", "output": DEEP_ANSWER},
        {"id": "brace-run", "output": "{" * 160_000},
        {"id": "after", "output": f"Here it is: {good}"},
        {"id": "deep-reference", "output": good, "reference": DEEP_ANSWER},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({**r, "task": "json_record"}) + "\n" for r in records))
    result = run_cli("score", "--in", str(path), "--out", str(tmp_path / "out.jsonl"), cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    scored = {r["id"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    assert list(scored) == ["before", "deep", "brace-run", "after", "deep-reference"]
    deep = scored["deep"]
    assert [f["id"] for f in deep["findings"]] == ["json-too-deep"] and deep["score"] == 0 and not deep["passed"]
    assert "nested more than 64 levels deep" in deep["findings"][0]["message"]
    assert "json-parse" in {f["id"] for f in scored["brace-run"]["findings"]}
    assert scored["before"]["axes"]["parse"] == scored["after"]["axes"]["parse"] == 10
    # a reference the gate cannot read (as text that nests without end) is no reference: no agreement axis
    assert "agreement" not in scored["deep-reference"]["axes"] and not (tmp_path / "out.rejects.jsonl").exists()


def test_augment_reply_nested_too_deep_is_a_reason_not_a_crash():
    from distilloop.teachers.augment import new_tasks

    tasks, reason = new_tasks("[" * 100_000 + "]" * 100_000, 3)
    assert tasks == [] and reason.startswith("reply is not a JSON array: nested more than 64 levels deep")
    tasks, reason = new_tasks('```json\n[{"prompt": "p", "answer": ' + DEEP_ANSWER + "}]\n```", 3)
    assert tasks == [] and "nested more than 64 levels deep" in reason
    tasks, reason = new_tasks('[{"prompt": "p", "answer": "a"}]', 3)
    assert tasks == [{"prompt": "p", "answer": "a"}] and reason is None


def json_raw_decode_first_object(text: str):
    """The oracle: the first `{` at which json.JSONDecoder.raw_decode reads an object, skipping the
    inside of a candidate that failed up to where it failed (only safe on short, shallow text)."""
    decoder, skip_to = json.JSONDecoder(), 0
    for start in (i for i, char in enumerate(text) if char == "{"):
        if start < skip_to:
            continue
        try:
            return decoder.raw_decode(text, start)[0]
        except json.JSONDecodeError as exc:
            skip_to = exc.pos
    return None


shallow_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)
prose_bits = st.sampled_from(['"', "'", "{", "}", "[", "]", ":", ",", "\\", "\n", " ", "x", "```", "```json\n", "1"])
prose = st.lists(prose_bits | st.text(max_size=6), max_size=8).map("".join)


@settings(max_examples=400, deadline=None)
@given(prose, shallow_values, prose, st.integers(0, 40))
def test_first_object_agrees_with_json_on_shallow_text(before, value, after, cut):
    """On text json itself can read, the iterative scanner finds the same object json's raw_decode does,
    cut short or whole, with prose and stray brackets and quotes around it."""
    from distilloop.gate.extract import _first_object

    body = json.dumps({"v": value}) if not isinstance(value, dict) else json.dumps(value)
    for text in (before + body + after, (before + body)[: len(before) + cut]):
        found, _, error = _first_object(text)
        assert found == json_raw_decode_first_object(text)
        assert (error is None) == (found is not None or "{" not in text)  # a reason whenever a `{` was refused


def hostile(kind: str, size: int, quote: str) -> str:
    """Deep nesting, long bracket runs and mixed quotes, from ~100 characters to ~200k."""
    return {
        "deep": '{"x": ' + "[" * size + "]" * size + "}",
        "deep-open": ("{" + quote + "a" + quote + ": ") * size,
        "brace-run": "{" * (size * 40),
        "bracket-run": "[" * (size * 40) + "{",
        "quote-run": ("{" + quote) * (size * 20),
        "fence-run": "```json\n{" * size,
        "blank-run": "abc" + " " * (size * 40) + "(",
    }[kind]


@settings(max_examples=60, deadline=timedelta(seconds=3), suppress_health_check=[HealthCheck.too_slow])
@example("brace-run", 5000, '"', "")  # 200k characters
@example("deep", 5000, '"', "")
@example("blank-run", 5000, '"', "")
@example("quote-run", 5000, "'", "")
@given(
    st.sampled_from(["deep", "deep-open", "brace-run", "bracket-run", "quote-run", "fence-run", "blank-run"]),
    st.integers(1, 5000),
    st.sampled_from(['"', "'", '\\"', "`"]),
    prose,
)
def test_extractors_on_hostile_answers_return_within_the_deadline(kind, size, quote, tail):
    """Every extractor returns (no exception) on each hostile answer; hypothesis' deadline bounds the time
    per answer (the quadratic scan took 5 s on 160k braces, the recursion raised at 1000 deep)."""
    from distilloop.gate.extract import extract_c, extract_json, parse_json

    answer = hostile(kind, size, quote) + tail
    value, cut, error = extract_json(answer)
    assert value is None or isinstance(value, dict)
    assert value is not None or error.finding in ("json-parse", "json-too-deep")
    if kind == "deep" and size > 64:
        assert value is None and error.finding == "json-too-deep"
    document, problem = parse_json(answer)
    assert (document is None) != (problem is None)
    code, _ = extract_c(answer)
    assert isinstance(code, str)
