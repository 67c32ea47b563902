"""verdict.py: the score, the pass and the accept rule are computed in one place for every task."""

from __future__ import annotations

import pytest

from distilloop.gate.verdict import AcceptRule, verdict, weighted_score


def test_weighted_score_renormalises_over_the_axes_present_and_caps():
    weights = {"a": 0.5, "b": 0.3, "c": 0.2}
    assert weighted_score({"a": 10.0, "b": 0.0, "c": 5.0}, weights) == pytest.approx(6.0)
    assert weighted_score({"a": 10.0, "b": 0.0}, weights) == pytest.approx(6.25)  # c does not apply
    assert weighted_score({"a": 10.0, "b": 10.0}, weights, cap=3.0) == 3.0
    assert weighted_score({"d": 10.0}, weights) == 0.0  # no weighted axis applies


def test_verdict_needs_every_minimum_the_pass_score_and_no_block():
    axes = {"parse": 10.0, "schema": 7.5}
    assert verdict(9.123, axes, 7.0) == {"score": 9.12, "axes": axes, "passed": True}
    assert not verdict(9.0, axes, 7.0, {"schema": 10.0})["passed"]  # one axis under its minimum
    assert not verdict(6.99, axes, 7.0)["passed"]
    assert not verdict(10.0, axes, 7.0, blocked=True)["passed"]


def test_accept_rule_sends_to_the_teacher_exactly_what_it_does_not_accept():
    rule = AcceptRule(7.5)
    answers = [
        {"score": 9.0, "passed": True},
        {"score": 7.2, "passed": True},  # passes the gate (pass_score 7) but is under the threshold
        {"score": 9.0, "passed": False},  # scores high but fails an axis minimum
        {"score": 7.5, "passed": True},
        {"score": 8.0},  # a scored file that does not say: not accepted
    ]
    assert [rule.accepts(a) for a in answers] == [True, False, False, True, False]
    assert [rule.needs_teacher(a) for a in answers] == [False, True, True, False, True]
    assert rule.reaches(7.5) and not rule.reaches(7.49)


def test_rejection_reason_names_the_most_basic_failure_first():
    rule = AcceptRule(7.0)
    findings = [{"id": "json-schema"}, {"id": "json-parse"}]
    assert rule.rejection_reason({"score": 2.0, "passed": False, "findings": findings}).startswith(
        "json-parse: score 2.00 (threshold 7); findings json-schema, json-parse"
    )
    assert rule.rejection_reason({"score": 5.0, "passed": True, "truncated": True}).startswith("truncated:")
    assert rule.rejection_reason({"score": 6.0, "passed": True}) == "below threshold: score 6.00 (threshold 7)"
    assert rule.rejection_reason({"score": 9.0, "passed": False}) == "gate: score 9.00 (threshold 7)"
