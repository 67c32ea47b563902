"""The runner: concurrency with faults (every request ends once, with its own answer), the budget,
and the cache in front of both."""

from __future__ import annotations

from collections import Counter

import pytest

from distilloop.config import TeacherSettings
from distilloop.teachers import Request, make_teacher
from distilloop.teachers.cache import CallCache
from distilloop.teachers.ledger import Ledger, price_of
from distilloop.teachers.runner import Runner


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-runner-test")


def runner_for(server, tmp_path, budget=100.0, **overrides) -> Runner:
    settings = dict(
        backend="openai",
        model="m",
        base_url=server.url + "/v1",
        timeout_s=0.5,
        max_retries=3,
        backoff_base_s=0.01,
        concurrency=6,
        prices={"m": {"input_per_mtok": 0, "output_per_mtok": 0}},
    )
    params = TeacherSettings(**{**settings, **overrides})
    ledger = Ledger(price_of(params, True), budget, params.max_tokens)
    return Runner(make_teacher(params), params, ledger, CallCache(tmp_path / "cache.sqlite"))


FAULTS = ["", "", "", "fault:429x1", "fault:500x2", "fault:timeoutx1", "fault:malformed", "fault:empty"]


def test_every_request_ends_once_with_its_own_answer(teacher_server, tmp_path):
    items = [f"i{n}" for n in range(40)]
    server = teacher_server(answers={item: f"answer for {item}" for item in items}, retry_after="0", stall_s=1.0)
    prompts = {item: f"correct item:{item} {FAULTS[n % len(FAULTS)]}" for n, item in enumerate(items)}
    runner = runner_for(server, tmp_path)
    outcomes = runner.run([Request("s", prompts[item], {}) for item in items])

    assert len(outcomes) == len(items)
    for item, outcome in zip(items, outcomes):
        fault = FAULTS[items.index(item) % len(FAULTS)]
        if fault in ("fault:malformed", "fault:empty"):
            assert outcome.reply is None
            assert outcome.error.kind == ("malformed response" if "malformed" in fault else "empty content")
        else:
            assert outcome.error is None and outcome.reply.text == f"answer for {item}"  # never another item's
    calls = Counter(call["item"] for call in server.calls)
    expected = {"": 1, "fault:429x1": 2, "fault:500x2": 3, "fault:timeoutx1": 2, "fault:malformed": 4, "fault:empty": 1}
    assert calls == {item: expected[FAULTS[n % len(FAULTS)]] for n, item in enumerate(items)}
    assert runner.calls == len(items) and runner.cache_hits == 0

    again = runner_for(server, tmp_path)
    before = len(server.calls)
    second = again.run([Request("s", prompts[item], {}) for item in items])
    failed = sum(outcome.reply is None for outcome in outcomes)
    # the re-run asks only for what failed (failures are not cached), everything else is a cache hit
    assert again.cache_hits == len(items) - failed and again.calls == failed
    assert failed == 10 and len(server.calls) - before == 5 * 4 + 5 * 1  # malformed retried 3 times, empty not
    assert [o.reply.text for o in second if o.reply] == [o.reply.text for o in outcomes if o.reply]


def test_budget_stops_sending_before_it_is_exceeded(teacher_server, tmp_path):
    # one USD per output token; max_tokens 10 -> each call may cost 10; each answer is 1 token (1 USD)
    server = teacher_server(answers={f"b{n}": "ok" for n in range(30)})
    runner = runner_for(
        server,
        tmp_path,
        budget=35.0,
        concurrency=1,
        max_tokens=10,
        prices={"m": {"input_per_mtok": 0, "output_per_mtok": 1_000_000}},
    )
    outcomes = runner.run([Request("s", f"item:b{n}", {}) for n in range(30)])
    sent = [o for o in outcomes if not o.skipped]
    # a call is made only while spend + its worst case (10) fits: after 26 calls spend is 26, 26 + 10 > 35
    assert len(sent) == 26 and all(o.reply.text == "ok" for o in sent)
    assert [o.skipped for o in outcomes[26:]] == ["budget"] * 4  # worst first: the tail is what is skipped
    assert runner.ledger.spent_usd == pytest.approx(26.0) and runner.ledger.spent_usd <= 35.0
    assert len(server.calls) == 26


def test_budget_under_concurrency_sends_what_a_sequential_run_sends(teacher_server, tmp_path):
    """Concurrency 1, 4 and 8 send exactly the same items and spend the same: a reservation that does not
    fit while others are in flight waits for them instead of closing the budget."""
    sent = {}
    for concurrency in (1, 4, 8):
        server = teacher_server(answers={f"q{n}": "ok" for n in range(30)}, delay_s=0.02)
        runner = runner_for(
            server,
            tmp_path / str(concurrency),
            budget=35.0,
            concurrency=concurrency,
            max_tokens=10,
            prices={"m": {"input_per_mtok": 0, "output_per_mtok": 1_000_000}},
        )
        outcomes = runner.run([Request("s", f"item:q{n}", {}) for n in range(30)])
        sent[concurrency] = ([n for n, o in enumerate(outcomes) if not o.skipped], runner.ledger.spent_usd)
        assert runner.ledger.spent_usd <= 35.0
    assert sent[4] == sent[8] == sent[1] and len(sent[1][0]) == 26


def test_cache_hits_are_free_when_the_budget_is_spent(teacher_server, tmp_path):
    server = teacher_server(answers={f"c{n}": f"cached {n}" for n in range(5)})
    requests = [Request("s", f"item:c{n}", {}) for n in range(5)]
    runner_for(server, tmp_path).run(requests)
    broke = runner_for(server, tmp_path, budget=0.0, prices={"m": {"input_per_mtok": 5, "output_per_mtok": 5}})
    outcomes = broke.run(requests + [Request("s", "item:new", {})])
    assert [o.reply.text for o in outcomes[:5]] == [f"cached {n}" for n in range(5)]
    assert outcomes[5].skipped == "budget" and broke.calls == 0 and len(server.calls) == 5
