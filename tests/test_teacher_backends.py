"""Teacher backends against real HTTP servers on 127.0.0.1 (OpenAI, Anthropic and Bedrock Converse
shapes) with injected faults, plus the reference and llama.cpp backends."""

from __future__ import annotations

import json

import pytest

from distilloop import UserError
from distilloop.config import TeacherSettings
from distilloop.teachers import CallError, Request, make_teacher
from distilloop.teachers.cache import CallCache
from distilloop.teachers.ledger import Ledger, price_of
from distilloop.teachers.runner import Runner

API_KEY = "sk-test-0123456789abcdef"
FREE = {"input_per_mtok": 0.0, "output_per_mtok": 0.0}


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def params_for(backend: str, server, **overrides) -> TeacherSettings:
    base_url = server.url + "/v1" if backend == "openai" else server.url
    settings = dict(
        backend=backend,
        model="teacher-model",
        base_url=base_url,
        region="us-east-1",
        timeout_s=2.0,
        max_retries=0,
        backoff_base_s=0.01,
        prices={"teacher-model": FREE},
    )
    return TeacherSettings(**{**settings, **overrides})


def ask(teacher, text: str):
    return teacher.complete(Request(system="be precise", prompt=text, record={}))


@pytest.mark.parametrize("backend", ["openai", "anthropic", "bedrock"])
def test_answer_usage_and_key_reach_the_server(backend, teacher_server, credentials):
    server = teacher_server(answers={"a1": "int main_answer(void) { return 1; }"}, expected_key=API_KEY)
    teacher = make_teacher(params_for(backend, server))
    reply = ask(teacher, "please answer item:a1 now")
    assert reply.text == "int main_answer(void) { return 1; }"
    assert reply.input_tokens == 6 and reply.output_tokens == 6 and not reply.truncated
    (call,) = server.calls
    assert call["api"] == backend and call["item"] == "a1" and call["model"] == "teacher-model"
    assert call["auth"] == ("signed" if backend == "bedrock" else "ok")  # SigV4 for Bedrock, the key otherwise


@pytest.mark.parametrize("backend", ["openai", "anthropic", "bedrock"])
@pytest.mark.parametrize(
    "fault, kind, retryable",
    [
        ("429", "http 429", True),
        ("500", "http 500", True),
        ("timeout", "timeout", True),
        ("malformed", "malformed response", True),
        ("empty", "empty content", False),
    ],
)
def test_faults_become_call_errors(backend, fault, kind, retryable, teacher_server, credentials):
    server = teacher_server(answers={"x": "fine"}, stall_s=1.5, retry_after="3")
    teacher = make_teacher(params_for(backend, server, timeout_s=0.5))
    with pytest.raises(CallError) as caught:
        ask(teacher, f"item:x fault:{fault}")
    assert caught.value.kind == kind and caught.value.retryable is retryable
    assert caught.value.retry_after == (3.0 if fault == "429" else None)
    assert len(server.calls) == 1  # the client library retried nothing on its own (botocore retries are off)


@pytest.mark.parametrize("backend", ["openai", "bedrock"])
def test_retries_recover_and_honour_retry_after(backend, teacher_server, credentials, tmp_path):
    server = teacher_server(answers={"r": "recovered"}, retry_after="1")
    params = params_for(backend, server, max_retries=3)
    teacher = make_teacher(params)
    runner = Runner(
        teacher, params, Ledger(price_of(params, True), 1.0, params.max_tokens), CallCache(tmp_path / "c.sqlite")
    )
    (outcome,) = runner.run([Request("s", "item:r fault:429x1", {})])
    assert outcome.reply.text == "recovered" and outcome.error is None
    first, second = server.calls
    assert second["time"] - first["time"] >= 1.0  # waited for Retry-After: 1, not the 10 ms backoff


def test_retries_stop_at_max_retries_with_the_reason(teacher_server, credentials, tmp_path):
    server = teacher_server(answers={"f": "never"})
    params = params_for("openai", server, max_retries=2)
    runner = Runner(
        make_teacher(params), params, Ledger(price_of(params, True), 1.0, 64), CallCache(tmp_path / "c.sqlite")
    )
    (outcome,) = runner.run([Request("s", "item:f fault:500", {})])
    assert outcome.reply is None and outcome.error.kind == "http 500" and outcome.error.attempts == 3
    assert len(server.calls) == 3


def test_a_refused_key_stops_the_run_with_one_line_and_no_key(teacher_server, monkeypatch, tmp_path):
    wrong = "sk-wrong-9999999999"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    server = teacher_server(expected_key=API_KEY)
    params = params_for("openai", server, concurrency=2)
    runner = Runner(
        make_teacher(params), params, Ledger(price_of(params, True), 1.0, 64), CallCache(tmp_path / "c.sqlite")
    )
    with pytest.raises(UserError) as caught:
        runner.run([Request("s", f"item:{n}", {}) for n in range(20)])
    assert "HTTP 401" in str(caught.value) and wrong not in str(caught.value)
    assert len(server.calls) < 20  # it stopped instead of failing every item


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("MY_TEACHER_KEY", raising=False)
    with pytest.raises(UserError, match="MY_TEACHER_KEY"):
        make_teacher(TeacherSettings(backend="anthropic", model="m", api_key_env="MY_TEACHER_KEY"))


def test_unreachable_server_is_one_clear_error(credentials, tmp_path):
    from conftest import free_port

    params = TeacherSettings(
        backend="openai",
        model="m",
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        max_retries=1,
        backoff_base_s=0.01,
        concurrency=2,
        prices={"m": FREE},
    )
    runner = Runner(
        make_teacher(params), params, Ledger(price_of(params, True), 1.0, 64), CallCache(tmp_path / "c.sqlite")
    )
    with pytest.raises(UserError, match="cannot reach the server at http://127.0.0.1"):
        runner.run([Request("s", f"item:{n}", {}) for n in range(50)])


def test_credentials_in_the_url_are_never_printed(credentials, tmp_path):
    from conftest import free_port

    url = f"http://user:hunter2-secret@127.0.0.1:{free_port()}/v1"
    params = TeacherSettings(
        backend="openai", model="m", base_url=url, max_retries=1, backoff_base_s=0.01, concurrency=2, prices={"m": FREE}
    )
    runner = Runner(
        make_teacher(params), params, Ledger(price_of(params, True), 1.0, 64), CallCache(tmp_path / "c.sqlite")
    )
    with pytest.raises(UserError) as failed:
        runner.run([Request("s", f"item:{n}", {}) for n in range(4)])
    assert "hunter2-secret" not in str(failed.value) and "http://***@127.0.0.1" in str(failed.value)


@pytest.mark.parametrize(
    "value",
    [
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "AKIAIOSFODNN7EXAMPLE",
        "xoxb_1234567890abc",
        "sk_live_abcdef",
        "Zx8Qw2Lm4Np6Rt8Vb0Cd",
        "abcdefghijklmnopqrstuvwxyz0123456789",
    ],
)
def test_key_shaped_api_key_env_is_refused_without_echo(value):
    from distilloop.config import parse

    with pytest.raises(UserError) as refused:
        parse({"teacher": {"backend": "openai", "model": "m", "api_key_env": value}})
    assert value not in str(refused.value) and "api_key_env" in str(refused.value)


def test_variable_names_are_still_accepted():
    for name in ("OPENAI_API_KEY", "MY_TEACHER_KEY_2", "AWS_SECRET_ACCESS_KEY", "HUGGING_FACE_HUB_TOKEN"):
        assert TeacherSettings(backend="openai", model="m", api_key_env=name).api_key_env == name


def test_remote_model_without_a_price_is_refused():
    with pytest.raises(UserError, match="teacher.prices has no entry for model 'gpt-x'"):
        price_of(TeacherSettings(backend="openai", model="gpt-x"), remote=True)


def test_reference_backend():
    teacher = make_teacher(TeacherSettings())
    assert teacher.complete(Request("s", "p", {"reference": "int f(void);"})).text == "int f(void);"
    reply = teacher.complete(Request("s", "p", {"reference": {"handle": "h1", "score": 0.5}}))
    assert json.loads(reply.text) == {"handle": "h1", "score": 0.5}
    with pytest.raises(CallError) as caught:
        teacher.complete(Request("s", "p", {"id": "no-ref"}))
    assert caught.value.kind == "no reference" and not caught.value.retryable


def test_llamacpp_backend_with_the_bundled_gguf_and_the_cache(tmp_path):
    params = TeacherSettings(backend="llamacpp", model="bundled", max_tokens=8, n_ctx=512, threads=1)
    teacher = make_teacher(params)
    requests = [Request("You are terse.", "Name one colour.", {}), Request("You are terse.", "Count to three.", {})]
    ledger = Ledger(price_of(params, teacher.remote), 0.0, params.max_tokens)
    first = Runner(teacher, params, ledger, CallCache(tmp_path / "c.sqlite")).run(requests)
    assert all(o.reply and o.reply.text.strip() and 0 < o.reply.output_tokens <= 8 for o in first)
    again = Runner(teacher, params, ledger, CallCache(tmp_path / "c.sqlite"))
    second = again.run(requests)
    assert again.calls == 0 and again.cache_hits == 2
    assert [o.reply.text for o in second] == [o.reply.text for o in first]
