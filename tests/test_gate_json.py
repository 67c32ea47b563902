"""The json_record gate: parsing (bare, fenced, in prose), truncation, schema and agreement from params,
and the score correlation in the summary."""

from __future__ import annotations

import json

import pytest

from distilloop import UserError
from distilloop.config import Params, parse
from distilloop.gate.scoring import score_records, summarise

REFERENCE = {"handle": "anna_k", "score": 0.8, "reason": "AUTOSAR and TSN in C."}


def record(output: str, reference=REFERENCE, **extra) -> dict:
    item = {
        "id": extra.pop("id", "r"),
        "task": "json_record",
        "prompt": "Score the profile.",
        "output": output,
        **extra,
    }
    if reference is not None:
        item["reference"] = reference
    return item


def score_one(output: str, params: Params | None = None, **extra) -> dict:
    return score_records([record(output, **extra)], (params or Params()).gate)[0]


def ids(result: dict) -> set[str]:
    return {f["id"] for f in result["findings"]}


def test_exact_answer_passes():
    result = score_one(json.dumps({"handle": "anna_k", "score": 0.8, "reason": "Strong match."}))
    assert result["passed"] and result["score"] == 10
    assert result["axes"] == {"parse": 10, "schema": 10, "agreement": 10} and result["findings"] == []


@pytest.mark.parametrize(
    "output",
    [
        'Here is my assessment:\n```json\n{"handle": "anna_k", "score": 0.75, "reason": "Good."}\n```\nThanks!',
        'My answer is {"handle": "anna_k", "score": 0.85, "reason": "Uses {braces} in text."} as requested.',
        '```\n{"handle": "anna_k", "score": 0.7, "reason": "ok"}\n```',
    ],
)
def test_json_inside_fences_and_prose(output):
    result = score_one(output)
    assert result["axes"]["parse"] == 10 and result["passed"], result["findings"]


def test_unparseable_and_empty():
    for output in ("I think this candidate is great.", "", '{"handle": "anna_k", "score": 0.8,}'):
        result = score_one(output)
        assert result["score"] == 0 and not result["passed"] and "json-parse" in ids(result)
        assert not result["truncated"]


def test_truncated_object_and_fence():
    result = score_one('```json\n{"handle": "anna_k", "score": 0.8, "reason": "Strong')
    assert result["truncated"] and {"truncated", "json-parse"} <= ids(result) and not result["passed"]
    cut = score_one('{"handle": "anna_k", "score": 0.8, "reason": "x"', id="cut")
    assert cut["truncated"] and "json-parse" in ids(cut)
    flagged = score_one(json.dumps(REFERENCE), truncated=True)
    assert flagged["truncated"] and flagged["passed"]  # the generator's flag is kept; the answer is complete


def test_schema_from_params():
    result = score_one(json.dumps({"handle": 7, "score": 1.4}))
    messages = sorted(f["message"] for f in result["findings"] if f["id"] == "json-schema")
    assert messages == ["'handle' must be a string, got int", "'score' = 1.4 is outside [0, 1]", "missing key 'reason'"]
    assert result["axes"]["schema"] == 2.5 and not result["passed"]
    custom = parse({"gate": {"json_record": {"required": {"handle": "string"}, "ranges": {}, "match_keys": []}}})
    relaxed = score_one(json.dumps({"handle": "x", "score": 1.4}), custom)
    assert relaxed["axes"]["schema"] == 10


def test_agreement_with_the_reference():
    near = score_one(json.dumps({**REFERENCE, "score": 0.9}))
    assert near["axes"]["agreement"] == 10 and near["passed"]
    far = score_one(json.dumps({**REFERENCE, "score": 0.2}))
    assert far["axes"]["agreement"] == 0 and "json-reference" in ids(far) and not far["passed"]
    between = score_one(json.dumps({**REFERENCE, "score": 0.6}))  # 0.2 away: 0.1 past the tolerance of 0.1
    assert between["axes"]["agreement"] == pytest.approx(10 * (1 - 0.1 / 0.3), abs=0.01)
    assert not between["passed"]  # a pass needs the score within the tolerance (agreement minimum 10)
    other = score_one(json.dumps({**REFERENCE, "handle": "someone_else"}))
    assert other["axes"]["agreement"] == 0 and "json-reference" in ids(other)
    tight = parse({"gate": {"json_record": {"score_tolerance": 0.01}}})
    assert score_one(json.dumps({**REFERENCE, "score": 0.9}), tight)["axes"]["agreement"] < 10


def test_without_a_reference_agreement_does_not_apply():
    result = score_one(json.dumps(REFERENCE), reference=None)
    assert set(result["axes"]) == {"parse", "schema"} and result["score"] == 10
    as_text = score_one(json.dumps(REFERENCE), reference=json.dumps(REFERENCE))  # CSV/SQL sources carry text
    assert as_text["axes"]["agreement"] == 10


def test_summary_correlates_predicted_and_reference_scores():
    pairs = [(0.9, 0.8), (0.2, 0.3), (0.5, 0.6), (0.7, 0.65)]
    records = [
        record(
            json.dumps({"handle": f"h{i}", "score": got, "reason": "r"}), {"handle": f"h{i}", "score": want}, id=f"r{i}"
        )
        for i, (got, want) in enumerate(pairs)
    ]
    records.append(record("no json here", {"handle": "h9", "score": 0.5}, id="bad"))
    params = Params()
    scored = score_records(records, params.gate)
    summary = summarise(scored, params.gate)
    xs, ys = zip(*pairs)
    mean_x, mean_y = sum(xs) / 4, sum(ys) / 4
    expected = sum((x - mean_x) * (y - mean_y) for x, y in pairs) / (
        sum((x - mean_x) ** 2 for x in xs) ** 0.5 * sum((y - mean_y) ** 2 for y in ys) ** 0.5
    )
    assert summary["pearson_r"] == pytest.approx(expected, abs=1e-4)
    assert summary["judged"] == 4 and summary["mae"] == pytest.approx((0.1 + 0.1 + 0.1 + 0.05) / 4)
    # ranks: answers 0.2 < 0.5 < 0.7 < 0.9, references 0.3 < 0.6 < 0.65 < 0.8: the same order
    assert summary["spearman_r"] == 1.0
    assert summary["count"] == 5 and summary["findings"]["json-parse"] == 1
    assert summarise(scored[:1], params.gate)["pearson_r"] is None  # one pair has no correlation


def test_spearman_ranks_ties_by_their_mean_position():
    from distilloop.gate.agreement import judgment

    # answers tie on 0.5: ranks 0, 1.5, 1.5, 3 against 0, 1, 2, 3
    figures = judgment([(0.1, 0.1), (0.5, 0.2), (0.5, 0.3), (0.9, 0.4)])
    assert figures["spearman_r"] == pytest.approx(0.9487, abs=1e-4)
    assert judgment([(0.4, 0.1), (0.4, 0.9)])["pearson_r"] is None  # a constant answer correlates with nothing
    # two scores out of five answers: too few to say anything about the judgment
    assert judgment([(0.1, 0.1), (0.9, 0.9)], records=5) == {
        "judged": 2,
        "pearson_r": None,
        "spearman_r": None,
        "mae": 0.0,
    }


def bundled_profiles(tmp_path, params: Params) -> list[dict]:
    """Every record bundled:json_record exports, all splits."""
    from distilloop import export

    export.run(params, "bundled:json_record", out_dir=tmp_path, metrics_path=None)
    return [
        json.loads(line)
        for split in ("train", "pool", "val", "test")
        for line in (tmp_path / f"{split}.jsonl").read_text().splitlines()
    ]


def test_a_constant_answer_at_the_mean_fails_most_bundled_profiles(tmp_path):
    params = Params()
    records = bundled_profiles(tmp_path, params)
    mean = sum(r["reference"]["score"] for r in records) / len(records)
    answers = [{**r, "output": json.dumps({**r["reference"], "score": round(mean, 2)})} for r in records]
    summary = summarise(score_records(answers, params.gate), params.gate)
    assert summary["pass_rate"] < 0.35 and summary["pearson_r"] is None


def test_unknown_task_is_a_user_error():
    with pytest.raises(UserError, match="unknown task 'yaml'"):
        score_records([{"id": "x", "task": "yaml", "output": "a: 1"}], Params().gate)


def test_every_bundled_json_reference_passes_its_own_gate(tmp_path):
    params = Params()
    records = bundled_profiles(tmp_path, params)
    assert len(records) >= 100
    scored = score_records([{**r, "output": json.dumps(r["reference"])} for r in records], params.gate)
    assert all(r["passed"] and r["score"] == 10 for r in scored), [r["findings"] for r in scored if not r["passed"]][:3]
    assert summarise(scored, params.gate)["pearson_r"] == 1.0
