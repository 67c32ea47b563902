"""The export stage: every source kind, bad input to rejects, stable splits, leakage report."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, assert_one_line_error, cli_env, free_port, run_cli

from distilloop import UserError
from distilloop.config import Params, SplitFractions
from distilloop.export import split_of
from distilloop.paths import SPLITS


def read_split_files(out: Path) -> dict[str, list[dict]]:
    return {split: [json.loads(line) for line in (out / f"{split}.jsonl").read_text().splitlines()] for split in SPLITS}


def export(tmp_path: Path, *args: str) -> tuple[dict, dict[str, list[dict]], list[dict]]:
    out = tmp_path / "out"
    result = run_cli("export", *args, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "export-metrics.json").read_text())
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    return metrics, read_split_files(out), rejects


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


GOOD = [
    {
        "id": f"task-{n}",
        "task": "c_code",
        "prompt": f"Write a function number {n} that adds {n} to x.",
        "reference": f"int add{n}(int x) {{ return x + {n}; }}",
    }
    for n in range(40)
]


# --- the bundled profile data through SQLite ------------------------------------------------------


def test_bundled_profiles_are_generated_people_the_student_never_met(tmp_path):
    metrics, splits, rejects = export(tmp_path, "--source", "bundled:json_record")
    records = [record for items in splits.values() for record in items]
    assert metrics["rows_read"] == 1600 and metrics["records"] == 1600 and rejects == []  # export.bundled_profiles
    assert metrics["tasks"]["json_record"] == metrics["splits"]
    # the instruction template is rendered from the profile columns
    record = records[0]
    assert f"handle: {record['id']}" in record["prompt"] and record["prompt"].startswith("You score user profiles")
    assert list(record["reference"]) == ["handle", "reason", "score"]  # the reason first, then the score
    assert all(isinstance(r["reference"]["score"], float) and 0 <= r["reference"]["score"] <= 1 for r in records)
    assert metrics["leakage"]["shared_prompts"] == 0

    # held-out people are new people: names are made of syllables, so test names are (nearly) never in train
    def names(split):
        return {part for r in splits[split] for part in r["id"][:-4].split("_")}

    test_names = [r["id"][:-4].split("_") for r in splits["test"]]
    seen = sum(first in names("train") or last in names("train") for first, last in test_names)
    assert seen / len(test_names) < 0.05


def test_the_committed_profile_database_holds_the_first_generated_people(tmp_path):
    db = f"sqlite:///{ROOT / 'data/seed/profiles.sqlite'}"
    query = "SELECT handle AS id, 'json_record' AS task, * FROM profiles"
    (tmp_path / "db").mkdir()
    (tmp_path / "bundled").mkdir()
    from_db, _, _ = export(tmp_path / "db", "--source", db, "--query", query)
    generated = tmp_path / "generated.yaml"
    generated.write_text("export: {bundled_profiles: 240}\n")
    bundled, splits, _ = export(tmp_path / "bundled", "--source", "bundled:json_record", "--params", str(generated))
    assert from_db["records"] == bundled["records"] == 240 and from_db["splits"] == bundled["splits"]


# --- splits ---------------------------------------------------------------------------------------


def test_splits_follow_fractions_and_never_move_when_records_are_added(tmp_path):
    fractions = SplitFractions().model_dump()
    ids = [f"record-{n}" for n in range(4000)]
    before = {record_id: split_of(record_id, fractions, "distilloop") for record_id in ids}
    counts = {split: sum(1 for s in before.values() if s == split) for split in SPLITS}
    for split in SPLITS:  # 4000 draws: within 3 percentage points of the configured fraction
        assert abs(counts[split] / 4000 - fractions[split]) < 0.03, counts

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, small, _ = export(tmp_path / "a", "--source", str(write_jsonl(tmp_path / "a.jsonl", GOOD[:20])))
    _, grown, _ = export(tmp_path / "b", "--source", str(write_jsonl(tmp_path / "b.jsonl", GOOD)))
    where_small = {r["id"]: split for split, items in small.items() for r in items}
    where_grown = {r["id"]: split for split, items in grown.items() for r in items}
    assert len(where_small) == 20 and len(where_grown) == 40
    assert all(where_grown[record_id] == split for record_id, split in where_small.items())


def test_split_fractions_must_sum_to_one(tmp_path):
    (tmp_path / "params.yaml").write_text("export:\n  fractions: {train: 0.5, pool: 0.5, val: 0.2, test: 0.1}\n")
    result = run_cli("export", "--params", "params.yaml", "--source", "x.jsonl", cwd=tmp_path)
    assert_one_line_error(result, "export.fractions", "must sum to 1.0 (got 1.3)")


# --- bad input: every line ends as a record or a reject ----------------------------------------------


def test_bad_jsonl_lines_become_rejects_with_reasons(tmp_path):
    good = [json.dumps(row).encode() for row in GOOD[:5]]
    lines = [
        b"\xef\xbb\xbf" + good[0] + b"\r",  # BOM on the first line and CRLF endings: normalised, kept
        good[1] + b"\r",
        b'{"id": "broken", "prompt": "x"',  # malformed JSON
        b'{"id": "latin1", "prompt": "caf\xe9"}',  # invalid UTF-8
        b"",  # empty line
        b"   ",  # whitespace only
        b'{"prompt": "no id here"}',
        b'{"id": "", "prompt": "empty id"}',
        b'{"id": "no-prompt"}',
        b'{"id": "blank-prompt", "prompt": "   "}',
        good[1],  # duplicate id
        b'{"id": "huge", "prompt": "' + b"x" * 70000 + b'"}',  # oversize
        b"[1, 2, 3]",  # not an object
        b'{"id": ["list"], "prompt": "bad id type"}',
        b'{"id": "bad-task", "task": "poetry", "prompt": "a sonnet"}',
        b'{"id": "bad-checks", "prompt": "x", "checks": "not json"}',
        good[2],
        good[3],
        good[4],
    ]
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    metrics, splits, rejects = export(tmp_path, "--source", str(source))

    kept = sorted(r["id"] for items in splits.values() for r in items)
    named = {r["prompt"]: r["id"] for items in splits.values() for r in items if not r["id"].startswith("task-")}
    assert kept == sorted([f"task-{n}" for n in range(5)] + list(named.values()))
    assert sorted(named) == ["empty id", "no id here"]  # a row without an id gets a stable hash of its fields
    assert all(len(record_id) == 17 and record_id.startswith("h") for record_id in named.values())
    assert metrics["rows_read"] == len(lines) == metrics["records"] + metrics["rejects"]
    assert metrics["normalised"] == {"bom": 1, "crlf_lines": 2}
    by_line = {reject["line"]: reject["reason"] for reject in rejects}
    assert set(by_line) == set(range(3, 17)) - {7, 8}
    expected = {
        3: "malformed JSON",
        4: "invalid UTF-8",
        5: "empty line",
        6: "empty line",
        9: "missing field: 'prompt'",
        10: "missing field: 'prompt'",
        11: f"duplicate id: 'task-1' (first at {source}:2, the same record: the first is kept)",
        12: "oversize record: 70029 bytes",
        13: "not a JSON object",
        14: "bad field: 'id' must be a string or integer",
        15: "unknown task: 'poetry'",
        16: "bad field: 'checks' is not valid JSON",
    }
    for line, reason in expected.items():
        assert by_line[line].startswith(reason), (line, by_line[line])
    assert all(reject["source"] == str(source) for reject in rejects)
    assert next(r for r in rejects if r["line"] == 3)["raw"] == '{"id": "broken", "prompt": "x"'
    assert len(next(r for r in rejects if r["line"] == 12)["raw"]) <= 2000
    assert metrics["rejects_by_reason"]["missing field"] == 2


def test_csv_source_with_quoted_newlines_and_bad_rows(tmp_path):
    source = tmp_path / "rows.csv"
    rows = [
        b"id,prompt,reference,checks",
        b'a,"Write a function\nover two lines",int a(void) { return 1; },"{""function"": ""a""}"',
        b"b,Write b,,",
        b"c,caf\xe9,,",  # invalid UTF-8
        b"",  # empty line
        b"d,too,many,fields,here",
        b",no id,,",
        b"b,duplicate,,",
        b'e,bad checks,,"[1,2]"',
        b"f,Write f,,",
    ]
    source.write_bytes(b"\r\n".join(rows) + b"\r\n")
    metrics, splits, rejects = export(tmp_path, "--source", str(source))
    records = {r["id"]: r for items in splits.values() for r in items}
    hashed = [name for name in records if name.startswith("h")]
    assert sorted(records) == sorted(["a", "f", *hashed]) and [records[h]["prompt"] for h in hashed] == ["no id"]
    # the two rows "b" differ: neither is exported
    assert records["a"]["prompt"] == "Write a function\nover two lines"
    assert records["a"]["checks"] == {"function": "a"} and "reference" not in records["f"]
    assert metrics["rows_read"] == 9 == metrics["records"] + metrics["rejects"]
    reasons = {reject["line"]: reject["reason"] for reject in rejects}
    # rows are numbered by their first physical line: row "a" spans lines 2-3
    assert sorted(reasons) == [4, 5, 6, 7, 9, 10]
    assert reasons[4] == f"duplicate id: 'b' (again at {source}:9, another record: all rejected)"
    assert reasons[5].startswith("invalid UTF-8") and reasons[6] == "empty line"
    assert reasons[7].startswith("malformed CSV: 5 fields, header has 4")
    assert reasons[9] == f"duplicate id: 'b' (first at {source}:4, another record: all rejected)"
    assert reasons[10].startswith("bad field: 'checks' must be dict")


def test_parquet_source(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = GOOD[:10] + [{"id": None, "task": "c_code", "prompt": "null id", "reference": None}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "rows.parquet")
    metrics, splits, rejects = export(tmp_path, "--source", str(tmp_path / "rows.parquet"))
    assert metrics["records"] == 11 and rejects == []  # a NULL id is an id to make: a hash of the row


def test_template_renders_row_fields_and_rejects_missing_ones(tmp_path):
    (tmp_path / "params.yaml").write_text(
        "export:\n  task: json_record\n  templates:\n    json_record: 'Score {name} ({years} years).'\n"
    )
    source = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"id": 1, "name": "Ada", "years": 7, "reference": '{"handle": "1", "score": 0.5, "reason": "ok"}'},
            {"id": 2, "name": "Bob"},
            {"id": 3, "name": "Cy", "years": 2, "reference": "[0.5]"},
        ],
    )
    metrics, splits, rejects = export(tmp_path, "--params", "params.yaml", "--source", str(source))
    (record,) = [r for items in splits.values() for r in items]
    assert record["prompt"] == "Score Ada (7 years)." and record["task"] == "json_record"
    assert record["reference"]["score"] == 0.5 and record["meta"] == {"name": "Ada", "years": 7}
    reasons = sorted(r["reason"] for r in rejects)
    assert reasons[0] == "bad field: 'reference' must be dict, got list"
    assert reasons[1] == "missing field: 'years' (needed by the json_record prompt template)"


def strict_json(line: str):
    """json.loads as a strict JSON reader (jq, JavaScript, Go) reads: NaN and Infinity are errors."""

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(line, parse_constant=refuse)


def test_export_writes_strict_json_only(tmp_path):
    """NaN and Infinity anywhere (meta, an extra column, a CSV meta cell, a Parquet float) and a prompt
    that is not text reject their row with the reason; every file written parses as strict JSON."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = [
        json.dumps(GOOD[0]),
        '{"id": "nan-meta", "prompt": "Write f.", "meta": {"weight": NaN}}',
        '{"id": "inf-column", "prompt": "Write g.", "difficulty": -Infinity}',
        '{"id": "overflow", "prompt": "Write h.", "meta": {"x": 1e999}}',
        '{"id": "object-prompt", "prompt": {"x": 1}}',
        '{"id": "list-prompt", "prompt": ["Write", "i."]}',
        '{"id": "bool-prompt", "prompt": true}',
        '{"id": "number-prompt", "prompt": 42}',
    ]
    (tmp_path / "rows.jsonl").write_text("\n".join(lines) + "\n")
    metrics, splits, rejects = export(tmp_path, "--source", str(tmp_path / "rows.jsonl"))
    kept = {r["id"]: r for items in splits.values() for r in items}
    assert sorted(kept) == ["number-prompt", "task-0"] and kept["number-prompt"]["prompt"] == "42"
    reasons = {json.loads(r["raw"])["id"] if r["line"] > 4 else r["line"]: r["reason"] for r in rejects}
    assert reasons == {
        2: "malformed JSON: NaN is not a JSON number (strict JSON has no NaN or Infinity)",
        3: "malformed JSON: -Infinity is not a JSON number (strict JSON has no NaN or Infinity)",
        4: "malformed JSON: 1e999 is out of range for a JSON number",
        "object-prompt": "bad field: 'prompt' must be text or a number, got dict",
        "list-prompt": "bad field: 'prompt' must be text or a number, got list",
        "bool-prompt": "bad field: 'prompt' must be text or a number, got bool",
    }
    assert metrics["rows_read"] == len(lines) == metrics["records"] + metrics["rejects"]

    (tmp_path / "rows.csv").write_text('id,prompt,meta\na,Write a.,"{""w"": NaN}"\nb,Write b.,"{""w"": 1}"\n')
    _, splits, rejects = export(tmp_path, "--source", str(tmp_path / "rows.csv"))
    assert [r["id"] for items in splits.values() for r in items] == ["b"]
    assert [r["reason"] for r in rejects] == [
        "bad field: 'meta' is not usable JSON: NaN is not a JSON number (strict JSON has no NaN or Infinity)"
    ]

    rows = [{"id": "p1", "prompt": "Write p.", "score": 0.5}, {"id": "p2", "prompt": "Write q.", "score": float("nan")}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "rows.parquet")
    _, splits, rejects = export(tmp_path, "--source", str(tmp_path / "rows.parquet"))
    assert [r["id"] for items in splits.values() for r in items] == ["p1"]
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (2, "row.score: nan is not a JSON number (strict JSON has no NaN or Infinity)")
    ]
    for written in (tmp_path / "out").glob("*.json*"):
        for line in written.read_text().splitlines() if written.suffix == ".jsonl" else [written.read_text()]:
            strict_json(line)


def test_a_non_finite_metric_is_written_as_null(tmp_path):
    from distilloop.io import read_json, write_json

    write_json(tmp_path / "m.json", {"train_loss": float("nan"), "losses": [1.5, float("inf")], "steps": 3})
    assert strict_json((tmp_path / "m.json").read_text()) == {"losses": [1.5, None], "steps": 3, "train_loss": None}
    assert read_json(tmp_path / "m.json")["train_loss"] is None


# --- leakage ------------------------------------------------------------------------------------------


def test_leakage_reports_shared_and_near_duplicate_prompts_across_splits(tmp_path):
    base = (
        "Write a MISRA-C compliant function that packs the priority code point, the drop eligible "
        "indicator and the VLAN identifier into a 16-bit tag control information field"
    )
    rows = [{"id": f"copy-{n}", "prompt": base} for n in range(6)]
    rows += [{"id": f"near-{n}", "prompt": base + f" and name it pack_{n}"} for n in range(6)]
    rows += [
        {"id": f"other-{n}", "prompt": f"Completely unrelated request {n}: compute a CRC-{n} checksum table"}
        for n in range(6)
    ]
    metrics, splits, _ = export(tmp_path, "--source", str(write_jsonl(tmp_path / "l.jsonl", rows)))
    where = {r["id"]: split for split, items in splits.items() for r in items}
    copies = [where[f"copy-{n}"] for n in range(6)]
    expected_shared = sum(1 for i in range(6) for j in range(i + 1, 6) if copies[i] != copies[j])
    leak = metrics["leakage"]
    assert leak["shared_prompts"] == expected_shared > 0
    assert leak["near_duplicates"] > 0
    assert all(e["a_split"] != e["b_split"] for e in leak["examples"])
    assert not any(e["a"].startswith("other") or e["b"].startswith("other") for e in leak["examples"])


# --- databases ---------------------------------------------------------------------------------------


def test_postgresql_source(tmp_path, postgres_url):
    import sqlalchemy

    engine = sqlalchemy.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DROP TABLE IF EXISTS tasks"))
        connection.execute(
            sqlalchemy.text("CREATE TABLE tasks (id TEXT, prompt TEXT, reference TEXT, checks JSONB, family TEXT)")
        )
        for row in GOOD[:12]:
            connection.execute(
                sqlalchemy.text("INSERT INTO tasks VALUES (:id, :prompt, :reference, :checks, 'adders')"),
                {**row, "checks": json.dumps({"function": "add"})},
            )
        connection.execute(sqlalchemy.text("INSERT INTO tasks VALUES ('no-prompt', NULL, NULL, NULL, NULL)"))
    engine.dispose()
    metrics, splits, rejects = export(tmp_path, "--source", postgres_url, "--query", "SELECT * FROM tasks ORDER BY id")
    records = [r for items in splits.values() for r in items]
    assert metrics["records"] == 12 and metrics["rows_read"] == 13
    assert all(r["checks"] == {"function": "add"} and r["meta"] == {"family": "adders"} for r in records)
    assert [r["reason"] for r in rejects] == ["missing field: 'prompt' (needed by the c_code prompt template)"]
    assert "postgresql" in rejects[0]["source"]


def test_unreachable_database_is_one_line(tmp_path):
    url = f"postgresql+psycopg2://nobody:secret@127.0.0.1:{free_port()}/db"
    result = run_cli("export", "--source", url, "--query", "SELECT 1", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert_one_line_error(result, "database unreachable")
    assert "secret" not in result.stderr  # the password is never echoed


def test_missing_query_missing_sqlite_file_and_bad_sql(tmp_path):
    assert_one_line_error(run_cli("export", "--source", "sqlite:///x.db", cwd=tmp_path), "export.query: required")
    assert_one_line_error(
        run_cli("export", "--source", "sqlite:///nope.db", "--query", "SELECT 1", cwd=tmp_path),
        "database file not found",
    )
    db = f"sqlite:///{ROOT / 'data/seed/profiles.sqlite'}"
    assert_one_line_error(
        run_cli("export", "--source", db, "--query", "SELECT * FROM missing_table", cwd=tmp_path),
        "no such table: missing_table",
    )


# --- S3 ------------------------------------------------------------------------------------------------


def test_s3_prefix_source(tmp_path, s3_endpoint):
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket="exports")
    s3.put_object(Bucket="exports", Key="batch/one.jsonl", Body="".join(json.dumps(r) + "\n" for r in GOOD[:8]))
    with (tmp_path / "two.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "prompt"])
        writer.writeheader()
        writer.writerows({"id": r["id"], "prompt": r["prompt"]} for r in GOOD[8:12])
    s3.upload_file(str(tmp_path / "two.csv"), "exports", "batch/two.csv")
    s3.put_object(Bucket="exports", Key="batch/notes.txt", Body="not data")
    s3.put_object(Bucket="exports", Key="elsewhere/three.jsonl", Body=json.dumps(GOOD[20]) + "\n")

    env = cli_env(AWS_ENDPOINT_URL=s3_endpoint)
    out = tmp_path / "out"
    result = run_cli("export", "--source", "s3://exports/batch/", "--out", str(out), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "export-metrics.json").read_text())
    assert metrics["records"] == 12 and metrics["rejects"] == 1
    (reject,) = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert reject["source"] == "s3://exports/batch/notes.txt" and reject["reason"].startswith("unsupported file type")

    no_keys = {k: v for k, v in env.items() if not k.startswith("AWS_") or k == "AWS_ENDPOINT_URL"}
    no_keys.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    assert_one_line_error(
        run_cli("export", "--source", "s3://exports/batch/", cwd=tmp_path, env=no_keys), "no AWS credentials"
    )
    assert_one_line_error(
        run_cli("export", "--source", "s3://exports/none/", cwd=tmp_path, env=env), "no objects under this prefix"
    )


# --- one clear line for what a user can get wrong -------------------------------------------------------


def test_missing_file_and_no_valid_record(tmp_path):
    assert_one_line_error(run_cli("export", "--source", "missing.jsonl", cwd=tmp_path), "missing.jsonl: file not found")
    (tmp_path / "junk.jsonl").write_text("not json\n{}\n")
    assert_one_line_error(run_cli("export", "--source", "junk.jsonl", cwd=tmp_path), "no valid record (2 rejects")
    (tmp_path / "empty.jsonl").write_text("")
    assert_one_line_error(run_cli("export", "--source", "empty.jsonl", cwd=tmp_path), "the source is empty")
    assert_one_line_error(run_cli("export", "--source", "data.xlsx", cwd=tmp_path), "file not found")
    (tmp_path / "data.xlsx").write_text("x")
    assert_one_line_error(run_cli("export", "--source", "data.xlsx", cwd=tmp_path), "unsupported file type .xlsx")


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("export:\n  sauce: x\n", ("export.sauce: unknown key",)),
        ("quality_threshold: high\n", ("quality_threshold:", "valid number", "'high'")),
        ("quality_threshold: 11\n", ("quality_threshold:", "less than or equal to 10", "(got 11)")),
        ("export:\n  max_record_bytes: 10\n", ("export.max_record_bytes:", "greater than or equal to 256")),
        ("export: [1, 2]\n", ("export:",)),
        ("- just a list\n", ("must be a mapping",)),
        ("a: [unclosed\n", ("not valid YAML",)),
    ],
)
def test_bad_params_stop_with_one_line_naming_the_key(tmp_path, text, fragments):
    (tmp_path / "params.yaml").write_text(text)
    assert_one_line_error(run_cli("export", cwd=tmp_path), "params.yaml", *fragments)


def test_project_params_file_is_valid():
    from distilloop.config import load

    assert isinstance(load(ROOT / "params.yaml"), Params)


def test_loop_epochs_must_be_consecutive():
    from distilloop.config import parse

    with pytest.raises(UserError, match=r"loop.epochs: must map 1..N to N-1"):
        parse({"loop": {"epochs": {"1": 0, "3": 2}}})


# --- the DVC stage ------------------------------------------------------------------------------------


def test_dvc_repro_runs_export(project):
    env = cli_env()
    result = subprocess.run(["dvc", "repro", "export"], cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = json.loads((project / "metrics/export.json").read_text())
    counts = [len((project / f"data/export/{split}.jsonl").read_text().splitlines()) for split in SPLITS]
    assert sum(counts) == metrics["records"] >= 150 and metrics["rejects"] == 0
    assert metrics["tasks"]["json_record"] == metrics["splits"] and metrics["leakage"]["shared_prompts"] == 0
    again = subprocess.run(["dvc", "repro", "export"], cwd=project, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and "didn't change, skipping" in again.stdout


def test_prompts_that_differ_only_in_an_operator_are_not_shared():
    from distilloop.export import leakage

    items = [("a", "train", "Calculate 0 * 4."), ("b", "test", "Calculate 0 + 4."), ("c", "val", "calculate 0 * 4.")]
    assert leakage.report(items, threshold=0.8)["shared_prompts"] == 1  # a and c: case and spacing aside


def test_a_shared_template_neither_hides_near_duplicates_nor_floods_the_candidates():
    """4000 prompts in one instruction template (as json_record profiles come): the template's shingles
    are dropped before LSH, so the planted near-duplicates are found and the candidate pairs stay about
    linear in the prompt count (with the template in, most prompts share buckets: millions of pairs)."""
    import random

    from distilloop.export import leakage

    rng = random.Random(1)
    vocabulary = [f"w{n}" for n in range(3000)]
    template = (
        "You score user profiles for an automotive embedded software team that builds TSN AVB networking "
        "in C under MISRA C. Read the profile and answer with one JSON object and nothing else. Profile: "
    )
    items = []
    for n in range(4000):
        items.append((f"p{n}", "pool" if n % 2 else "test", template + " ".join(rng.choices(vocabulary, k=30))))
    for n in range(0, 200, 2):  # 100 planted pairs, each across splits: one word changed at the end
        items[n + 1] = (items[n + 1][0], items[n + 1][1], items[n][2].rsplit(" ", 1)[0] + " changed")
    report = leakage.report(items, threshold=0.8)
    assert report["near_duplicates"] == 100
    assert report["shared_prompts"] == 0
    assert report["candidate_pairs"] < 2 * len(items)


def test_minhash_agreement_estimates_the_jaccard_similarity():
    """The share of the 64 MinHash values two sets agree on is an unbiased estimate of their Jaccard
    similarity: over 200 pairs at J = 29/31 the mean lands within 0.02 of it."""
    import random

    import numpy as np

    from distilloop.export import leakage

    rng = random.Random(2)
    agreements = []
    for _ in range(200):
        words = [f"w{rng.randrange(10**6)}" for _ in range(32)]
        a, b = leakage.shingles(" ".join(words)), leakage.shingles(" ".join(words[:-1] + ["other"]))
        assert len(a & b) / len(a | b) == 29 / 31
        agreements.append(np.mean(leakage._signature(a) == leakage._signature(b)))
    assert abs(np.mean(agreements) - 29 / 31) < 0.02
