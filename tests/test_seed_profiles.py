"""The bundled profile-scoring data: generated reproducibly, SQLite built from the CSV, references valid."""

from __future__ import annotations

import csv
import importlib.util
import json
import sqlite3

from conftest import ROOT

SEED = ROOT / "data" / "seed"
spec = importlib.util.find_spec("distilloop.data.profiles")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


def csv_rows() -> list[dict]:
    with (SEED / "profiles.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_committed_csv_is_what_the_generator_writes(tmp_path):
    build.write(build.build(), tmp_path / "p.csv", tmp_path / "p.sqlite")
    assert (tmp_path / "p.csv").read_bytes() == (SEED / "profiles.csv").read_bytes()


def test_sqlite_holds_exactly_the_csv_rows():
    with sqlite3.connect(SEED / "profiles.sqlite") as connection:
        connection.row_factory = sqlite3.Row
        db_rows = [dict(row) for row in connection.execute("SELECT * FROM profiles ORDER BY handle")]
    rows = sorted(csv_rows(), key=lambda row: row["handle"])
    assert len(db_rows) == len(rows) >= 200
    for db_row, row in zip(db_rows, rows):
        assert {key: str(value) for key, value in db_row.items()} == row


def test_references_are_valid_and_follow_the_rubric():
    rows = csv_rows()
    scores = []
    for row in rows:
        reference = json.loads(row["reference"])
        assert set(reference) == {"handle", "score", "reason"}
        assert reference["handle"] == row["handle"]
        assert 0.0 <= reference["score"] <= 1.0 and round(reference["score"], 2) == reference["score"]
        assert (reference["score"], reference["reason"]) == build.score_profile(row)
        scores.append(reference["score"])
    assert len({row["handle"] for row in rows}) == len(rows)
    # a useful spread: clear fits, clear misfits and everything between
    assert sum(s >= 0.7 for s in scores) >= 10 and sum(s < 0.2 for s in scores) >= 30
    assert len(set(scores)) >= 50


def test_rubric_ranks_a_tsn_engineer_above_a_web_developer():
    engineer = {
        "languages": "C; Python",
        "skills": "TSN; gPTP (802.1AS); 802.1Qbv; MISRA-C",
        "certifications": "ISO 26262 functional safety",
        "industry": "automotive",
        "years_experience": "9",
    }
    web = {
        "languages": "JavaScript; TypeScript",
        "skills": "React; Node.js",
        "certifications": "none",
        "industry": "e-commerce",
        "years_experience": "9",
    }
    high, reason = build.score_profile(engineer)
    low, web_reason = build.score_profile(web)
    assert (high, reason) == (
        0.82,
        "9 years +14 = 14; C +20 = 34; TSN +6 = 40; gPTP (802.1AS) +6 = 46; 802.1Qbv +6 = 52; MISRA-C +12 = 64; "
        "no AUTOSAR +0 = 64; ISO 26262 +8 = 72; automotive +10 = 82 points: strong fit.",
    )
    assert low == 0.14 and web_reason.startswith("9 years +14 = 14; no C +0 = 14; no TSN/AVB +0 = 14;")
    assert web_reason.endswith("e-commerce +0 = 14 points: weak fit.")
