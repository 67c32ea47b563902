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
    expected = {"": 1, "fault:429x1": 2, "fault:500x2": 3, "fault:timeoutx1": 2, "fault:malformed": 4, "fault:empty": 2}
    assert calls == {item: expected[FAULTS[n % len(FAULTS)]] for n, item in enumerate(items)}
    assert runner.calls == len(items) and runner.cache_hits == 0

    again = runner_for(server, tmp_path)
    before = len(server.calls)
    second = again.run([Request("s", prompts[item], {}) for item in items])
    failed = sum(outcome.reply is None for outcome in outcomes)
    # the re-run asks only for what failed (failures are not cached), everything else is a cache hit
    assert again.cache_hits == len(items) - failed and again.calls == failed
    assert failed == 10 and len(server.calls) - before == 5 * 4 + 5 * 2  # malformed retried 3 times, empty once
    assert [o.reply.text for o in second if o.reply] == [o.reply.text for o in outcomes if o.reply]


def test_budget_lowers_max_tokens_to_the_remainder_and_stops_before_it_is_exceeded(teacher_server, tmp_path):
    # one USD per output token; max_tokens 10: a full call may cost 10; each answer is 1 token (1 USD)
    server = teacher_server(answers={f"b{n}": "ok" for n in range(40)})
    runner = runner_for(
        server,
        tmp_path,
        budget=35.0,
        concurrency=1,
        max_tokens=10,
        prices={"m": {"input_per_mtok": 0, "output_per_mtok": 1_000_000}},
    )
    outcomes = runner.run([Request("s", f"item:b{n}", {}) for n in range(40)])
    sent = [o for o in outcomes if not o.skipped]
    # full calls while 10 fit (26 of them); then each call may say what is left (9, 8, ... 1 tokens), which
    # still pays for the likely reply (the longest so far: 1 token); at 35 nothing is left
    assert len(sent) == 35 and all(o.reply.text == "ok" for o in sent)
    assert [o.skipped for o in outcomes[35:]] == ["budget"] * 5  # worst first: the tail is what is skipped
    assert [call["max_tokens"] for call in server.calls] == [10] * 26 + list(range(9, 0, -1))
    assert runner.ledger.spent_usd == pytest.approx(35.0) and runner.ledger.spent_usd <= 35.0


def test_budget_under_concurrency_sends_what_a_sequential_run_sends(teacher_server, tmp_path):
    """Concurrency 1, 4 and 8 send exactly the same items with the same max_tokens and spend the same: a
    reservation that does not fit while others are in flight waits for them instead of closing the budget."""
    sent = {}
    for concurrency in (1, 4, 8):
        server = teacher_server(answers={f"q{n}": "ok" for n in range(40)}, delay_s=0.02)
        runner = runner_for(
            server,
            tmp_path / str(concurrency),
            budget=35.0,
            concurrency=concurrency,
            max_tokens=10,
            prices={"m": {"input_per_mtok": 0, "output_per_mtok": 1_000_000}},
        )
        outcomes = runner.run([Request("s", f"item:q{n}", {}) for n in range(40)])
        limits = sorted((call["item"], call["max_tokens"]) for call in server.calls)
        sent[concurrency] = ([n for n, o in enumerate(outcomes) if not o.skipped], limits, runner.ledger.spent_usd)
        assert runner.ledger.spent_usd <= 35.0
    assert sent[4] == sent[8] == sent[1] and len(sent[1][0]) == 35


# a $0.10 cap as in the issue: $5 / $20 per million input / output tokens, max_tokens 2000, so a call
# may cost $0.04 + its prompt; the server counts words as tokens
SMALL_CAP = dict(
    budget=0.10,
    concurrency=4,
    max_tokens=2000,
    prices={"m": {"input_per_mtok": 5, "output_per_mtok": 20}},
)
PROMPT_PADDING = " ".join(f"field{n}: value" for n in range(30))  # about 60 words, 450 bytes


def test_a_small_cap_is_mostly_used_and_never_exceeded(teacher_server, tmp_path):
    """Replies of 150 tokens against a worst case of 2000: reserving the worst case for every call spent
    58% of the cap and skipped the rest; lowering the last calls' max_tokens to what is left uses it."""
    answer = " ".join(["token"] * 150)
    server = teacher_server(answers={f"s{n}": answer for n in range(60)})
    runner = runner_for(server, tmp_path, **SMALL_CAP)
    outcomes = runner.run([Request("system", f"item:s{n} {PROMPT_PADDING}", {}) for n in range(60)])
    spent, sent = runner.ledger.spent_usd, [o for o in outcomes if not o.skipped]
    assert 0.85 * 0.10 <= spent <= 0.10, spent
    assert all(o.reply.text == answer and not o.reply.truncated for o in sent)  # every lowered call still fit
    assert any(o.skipped == "budget" for o in outcomes) and sum(o.cost_usd for o in sent) == pytest.approx(spent)


def test_the_cap_holds_when_replies_grow_to_max_tokens(teacher_server, tmp_path):
    """A server that answers max_tokens every time, and one that answers short and then max_tokens
    (after the ledger has learnt to expect short replies): never a cent over the cap. A reply cut by a
    lowered max_tokens is returned as truncated and not cached, so a later run with budget asks again."""
    requests = [Request("system", f"item:l{n} fault:long {PROMPT_PADDING}", {}) for n in range(10)]
    always = runner_for(teacher_server(), tmp_path / "always", **SMALL_CAP)
    outcomes = always.run(requests)
    assert always.ledger.spent_usd <= 0.10
    # $0.0403 a call: two fit; the third would need a full 2000 tokens and only ~970 are left
    assert [o.reply.output_tokens for o in outcomes if o.reply] == [2000, 2000]
    assert [o.skipped for o in outcomes[2:]] == ["budget"] * 8

    short = " ".join(["token"] * 150)
    server = teacher_server(answers={f"m{n}": short for n in range(40)})
    mixed = runner_for(server, tmp_path / "mixed", **SMALL_CAP)
    requests = [
        Request("system", f"item:m{n} {'fault:long' if n >= 20 else ''} {PROMPT_PADDING}", {}) for n in range(40)
    ]
    outcomes = mixed.run(requests)
    assert 0.85 * 0.10 <= mixed.ledger.spent_usd <= 0.10, mixed.ledger.spent_usd
    long_replies = [
        (o.reply, call["max_tokens"])
        for o, call in zip(outcomes, server.calls)
        if o.reply and o.reply.output_tokens > 150
    ]
    assert long_replies and all(reply.output_tokens == limit for reply, limit in long_replies)
    cut = [o for o in outcomes if o.reply and o.reply.truncated]
    assert cut and all(mixed.cache.get(o.cache_key) is None for o in cut)


def test_a_billed_empty_reply_is_asked_again_once(teacher_server, tmp_path):
    server = teacher_server(answers={"e1": "second time lucky", "e2": "never"})
    runner = runner_for(server, tmp_path, prices={"m": {"input_per_mtok": 1_000_000, "output_per_mtok": 0}})
    lucky, empty = runner.run([Request("s", "item:e1 fault:emptyx1", {}), Request("s", "item:e2 fault:empty", {})])
    assert lucky.reply.text == "second time lucky" and empty.error.kind == "empty content"
    assert Counter(call["item"] for call in server.calls) == {"e1": 2, "e2": 2} and runner.empty_retries == 2
    # each attempt billed its prompt (3 words, $1 a token): both attempts are in the cost and the spend
    assert lucky.cost_usd == empty.cost_usd == 6.0 and runner.ledger.spent_usd == 12.0


def test_cache_hits_are_free_when_the_budget_is_spent(teacher_server, tmp_path):
    server = teacher_server(answers={f"c{n}": f"cached {n}" for n in range(5)})
    requests = [Request("s", f"item:c{n}", {}) for n in range(5)]
    runner_for(server, tmp_path).run(requests)
    broke = runner_for(server, tmp_path, budget=0.0, prices={"m": {"input_per_mtok": 5, "output_per_mtok": 5}})
    outcomes = broke.run(requests + [Request("s", "item:new", {})])
    assert [o.reply.text for o in outcomes[:5]] == [f"cached {n}" for n in range(5)]
    assert outcomes[5].skipped == "budget" and broke.calls == 0 and len(server.calls) == 5


def test_a_reply_body_nested_too_deep_is_a_failed_call_not_a_crash(teacher_server, tmp_path):
    server = teacher_server(answers={"fine": "fine answer"})
    runner = runner_for(server, tmp_path, max_retries=1)
    deep, fine = runner.run([Request("s", "item:deep fault:deep", {}), Request("s", "item:fine", {})])
    assert deep.reply is None and deep.error.kind == "malformed response" and "nested too deeply" in deep.error.detail
    assert fine.reply.text == "fine answer"
    assert Counter(call["item"] for call in server.calls) == {"deep": 2, "fine": 1}  # retried once, as malformed
