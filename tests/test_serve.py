"""`distilloop serve`: a real server process on 127.0.0.1, real HTTP requests, good and bad.

The model is the tiny random Llama of conftest, as GGUF (llama.cpp) and as an HF directory
(transformers). Its answers are noise, so the tests check shapes, token counts against the
tokenizer, determinism, limits, and that the server keeps serving after every bad request.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import assert_one_line_error, cli_env, free_port, run_cli, wait_for_port

from distilloop.release import gguf as llama_tools

LIMITS = {
    "n_ctx": 512,
    "max_new_tokens_limit": 32,
    "max_new_tokens": 8,
    "max_body_bytes": 16384,
    "max_message_chars": 4000,
}
PROMPT = "Write a C function that packs a VLAN tag."
SYSTEM = "You write MISRA-C."  # student.system_prompt of the GGUF server


@pytest.fixture(scope="module")
def tiny_gguf(tiny_model_dir, tmp_path_factory) -> Path:
    return llama_tools.convert_hf_to_gguf(tiny_model_dir, tmp_path_factory.mktemp("serve-gguf") / "tiny-f16.gguf")


@contextmanager
def server(model: Path, workdir: Path, params: dict | None = None, port: int | None = None, env: dict | None = None):
    """`distilloop serve --model MODEL --port PORT` in `workdir` (with `params` as its params.yaml);
    yields an httpx client once /ping answers."""
    if params:
        (workdir / "params.yaml").write_text(json.dumps(params))
    port = port or free_port()
    args = [sys.executable, "-m", "distilloop.cli", "serve", "--model", str(model)]
    args += ["--port", str(port)] if env is None else []
    log = open(workdir / "server.log", "wb")
    process = subprocess.Popen(args, cwd=workdir, env=cli_env(**(env or {})), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, timeout=120)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            deadline = time.monotonic() + 120
            while client.get("/ping").status_code != 200:  # the port is bound before the model loads
                assert time.monotonic() < deadline and process.poll() is None, (workdir / "server.log").read_text()
                time.sleep(0.2)
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def gguf_server(tiny_gguf, tmp_path_factory):
    with server(
        tiny_gguf, tmp_path_factory.mktemp("serve-gguf-run"), {"serve": LIMITS, "student": {"system_prompt": SYSTEM}}
    ) as client:
        yield client


def prompt_tokens(tokenizer_dir: Path, messages: list[dict]) -> int:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def post(client: httpx.Client, path: str, body: dict, **kwargs) -> httpx.Response:
    return client.post(path, content=json.dumps(body), headers={"content-type": "application/json"}, **kwargs)


# --- good requests ----------------------------------------------------------------------------------


def test_ping_and_models(gguf_server):
    ping = gguf_server.get("/ping")
    assert ping.status_code == 200 and ping.json() == {"status": "ok", "model": "tiny-f16", "backend": "llama.cpp"}
    models = gguf_server.get("/v1/models").json()
    assert models["object"] == "list" and [m["id"] for m in models["data"]] == ["tiny-f16"]


def test_invocations_answers_a_prompt_or_messages_greedily(gguf_server):
    by_prompt = post(gguf_server, "/invocations", {"inputs": PROMPT, "parameters": {"max_new_tokens": 6}})
    assert by_prompt.status_code == 200, by_prompt.text
    [answer] = by_prompt.json()
    assert set(answer) == {"generated_text"} and isinstance(answer["generated_text"], str) and answer["generated_text"]
    # the same conversation as a message list (in `inputs` or `messages`) gives the same greedy answer
    turn = [{"role": "user", "content": PROMPT}]
    for body in (
        {"inputs": turn, "parameters": {"max_new_tokens": 6}},
        {"messages": turn, "parameters": {"max_new_tokens": 6, "temperature": 0.0, "stop": []}},
    ):
        again = post(gguf_server, "/invocations", body)
        assert again.status_code == 200 and again.json() == [answer], again.text


def test_chat_completion_shape_and_usage(gguf_server, tiny_tokenizer_dir):
    messages = [{"role": "system", "content": "Answer in C99."}, {"role": "user", "content": PROMPT}]
    response = post(gguf_server, "/v1/chat/completions", {"model": "anything", "messages": messages, "max_tokens": 7})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-") and body["model"] == "tiny-f16"
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["prompt_tokens"] == prompt_tokens(tiny_tokenizer_dir, messages)
    assert 1 <= usage["completion_tokens"] <= 7
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert choice["finish_reason"] == ("length" if usage["completion_tokens"] == 7 else "stop")
    # the serve section's default answer length applies when a request names none (8 here)
    default = post(gguf_server, "/v1/chat/completions", {"messages": messages}).json()
    assert default["usage"]["completion_tokens"] <= LIMITS["max_new_tokens"]
    # the two endpoints share one backend: the same greedy answer
    sagemaker = post(gguf_server, "/invocations", {"messages": messages, "parameters": {"max_new_tokens": 7}}).json()
    assert sagemaker == [{"generated_text": choice["message"]["content"]}]


def test_a_request_without_a_system_turn_gets_the_students(gguf_server, tiny_tokenizer_dir):
    user = [{"role": "user", "content": PROMPT}]
    usage = post(gguf_server, "/v1/chat/completions", {"messages": user, "max_tokens": 2}).json()["usage"]
    assert usage["prompt_tokens"] == prompt_tokens(tiny_tokenizer_dir, [{"role": "system", "content": SYSTEM}, *user])
    assert usage["prompt_tokens"] != prompt_tokens(tiny_tokenizer_dir, user)


def test_a_stop_string_ends_the_answer_before_it(gguf_server):
    messages = [{"role": "user", "content": PROMPT}]
    full = post(gguf_server, "/v1/chat/completions", {"messages": messages, "max_tokens": 12}).json()
    text = full["choices"][0]["message"]["content"]
    assert len(text) > 6, text
    stop = text[len(text) // 2 : len(text) // 2 + 3]
    cut = post(gguf_server, "/v1/chat/completions", {"messages": messages, "max_tokens": 12, "stop": stop}).json()
    assert cut["choices"][0]["message"]["content"] == text[: text.find(stop)]
    assert cut["choices"][0]["finish_reason"] == "stop"


def test_the_openai_client_talks_to_the_server(gguf_server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{gguf_server.base_url}/v1", api_key="unused", max_retries=0)
    completion = client.chat.completions.create(
        model="tiny-f16", messages=[{"role": "user", "content": PROMPT}], max_tokens=5, temperature=0
    )
    assert completion.choices[0].message.role == "assistant"
    assert completion.usage.completion_tokens <= 5 and completion.usage.prompt_tokens > 5
    assert [model.id for model in client.models.list()] == ["tiny-f16"]


def test_concurrent_requests_take_turns_and_agree(gguf_server):
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": 5}}
    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(lambda _: post(gguf_server, "/invocations", body), range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].json() == responses[1].json() == responses[2].json()


# --- bad requests: a clear 4xx, then the server still serves ------------------------------------------


def chunked(data: bytes):
    for start in range(0, len(data), 4096):
        yield data[start : start + 4096]


BAD_REQUESTS = [
    # (name, path, body bytes or a dict, headers, status, fragment of the message)
    ("oversize", "/invocations", {"inputs": "x" * 20000}, {}, 413, "limit is 16384"),
    (
        "oversize chunked",
        "/invocations",
        chunked(json.dumps({"inputs": "x" * 20000}).encode()),
        {},
        413,
        "limit of 16384",
    ),
    ("raw null byte", "/invocations", b'{"inputs": "a\x00b"}', {}, 400, "null byte"),
    (
        "escaped null byte",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "a\u0000b"}]},
        {},
        400,
        "body.messages.0.content: contains a null byte",
    ),
    (
        "lone surrogate",
        "/v1/chat/completions",
        b'{"messages": [{"role": "user", "content": "a\\ud800"}]}',
        {},
        400,
        "body.messages.0.content: contains a lone surrogate",
    ),
    (
        "deep but parseable",
        "/invocations",
        b'{"inputs": "a", "x": ' + b"[" * 100 + b"]" * 100 + b"}",
        {},
        400,
        "nested more than",
    ),
    ("malformed JSON", "/invocations", b'{"inputs": "a",', {}, 400, "malformed JSON"),
    ("invalid UTF-8", "/invocations", b'{"inputs": "\xff\xfe"}', {}, 400, "malformed JSON"),
    ("NaN", "/invocations", b'{"inputs": "a", "parameters": {"temperature": NaN}}', {}, 400, "NaN is not JSON"),
    ("deep nesting", "/invocations", b"[" * 5000 + b"]" * 5000, {}, 400, "nested too deeply"),
    ("not JSON content", "/invocations", b'{"inputs": "a"}', {"content-type": "text/plain"}, 415, "application/json"),
    ("no content type", "/invocations", b'{"inputs": "a"}', {"content-type": ""}, 415, "got none"),
    ("not an object", "/invocations", [1, 2], {}, 422, "body: must be a JSON object"),
    ("missing inputs", "/invocations", {"parameters": {"max_new_tokens": 4}}, {}, 422, "give exactly one of `inputs`"),
    (
        "both inputs and messages",
        "/invocations",
        {"inputs": "a", "messages": [{"role": "user", "content": "b"}]},
        {},
        422,
        "give exactly one",
    ),
    ("missing messages", "/v1/chat/completions", {"max_tokens": 4}, {}, 422, "messages: field required"),
    (
        "missing content",
        "/v1/chat/completions",
        {"messages": [{"role": "user"}]},
        {},
        422,
        "messages.0.content: field required",
    ),
    ("inputs wrong type", "/invocations", {"inputs": 42}, {}, 422, "inputs: must be a prompt"),
    (
        "max_new_tokens as text",
        "/invocations",
        {"inputs": "a", "parameters": {"max_new_tokens": "4"}},
        {},
        422,
        "parameters.max_new_tokens: Input should be a valid integer",
    ),
    (
        "max_new_tokens over limit",
        "/invocations",
        {"inputs": "a", "parameters": {"max_new_tokens": 33}},
        {},
        422,
        "at most 32 (serve.max_new_tokens_limit)",
    ),
    (
        "max_new_tokens zero",
        "/invocations",
        {"inputs": "a", "parameters": {"max_new_tokens": 0}},
        {},
        422,
        "greater than or equal to 1",
    ),
    (
        "max_tokens over limit",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "a"}], "max_tokens": 10**6},
        {},
        422,
        "max_tokens: must be at most 32",
    ),
    (
        "temperature out of range",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "a"}], "temperature": 5},
        {},
        422,
        "temperature",
    ),
    (
        "unknown role",
        "/v1/chat/completions",
        {"messages": [{"role": "tool", "content": "a"}]},
        {},
        422,
        "messages.0.role: Input should be 'system', 'user' or 'assistant'",
    ),
    (
        "unknown field",
        "/invocations",
        {"inputs": "a", "parameters": {"best_of": 2}},
        {},
        422,
        "parameters.best_of: unknown field",
    ),
    ("boolean as number", "/invocations", {"inputs": "a", "parameters": {"top_k": True}}, {}, 422, "parameters.top_k"),
    ("empty stop string", "/invocations", {"inputs": "a", "parameters": {"stop": [""]}}, {}, 422, "parameters.stop.0"),
    (
        "too many stops",
        "/invocations",
        {"inputs": "a", "parameters": {"stop": ["a", "b", "c", "d", "e"]}},
        {},
        422,
        "parameters.stop",
    ),
    (
        "message too long",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "x" * 4001}]},
        {},
        422,
        "over the limit of 4000 (serve.max_message_chars)",
    ),
    ("prompt over the context", "/invocations", {"inputs": "the frame " * 390}, {}, 400, "context window holds 512"),
    (
        "prompt and answer over the context",  # 503 + 32 tokens: llama.cpp would cut the answer at 9, silently
        "/invocations",
        {"inputs": "the frame " * 240, "parameters": {"max_new_tokens": 32}},
        {},
        400,
        "the prompt is 503 tokens and the answer may take 32 more; the context window holds 512",
    ),
    (
        "streaming",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "a"}], "stream": True},
        {},
        400,
        "streaming is not supported",
    ),
    (
        "several choices",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "a"}], "n": 2},
        {},
        422,
        "n:",
    ),
    (
        "a harness to run",
        "/invocations?score=true",
        {"inputs": "a", "checks": {"harness": "int main(void){return 0;}"}},
        {},
        422,
        "harness is not accepted: the server runs no code from a request",
    ),
    (
        "code in a fact name",
        "/invocations?score=true",
        {"inputs": "a", "checks": {"facts": {"ethertype_ctag": "X)]; int y[(1"}}},
        {},
        422,
        "is not a C identifier",
    ),
    ("unknown task", "/invocations?score=true", {"inputs": "a", "task": "poetry"}, {}, 422, "task: Input should be"),
    ("score not a boolean", "/invocations?score=maybe", {"inputs": "a"}, {}, 422, "score"),
    ("unknown path", "/v2/generate", {"inputs": "a"}, {}, 404, "Not Found"),
]


@pytest.mark.parametrize("name,path,body,headers,status,fragment", BAD_REQUESTS, ids=[case[0] for case in BAD_REQUESTS])
def test_bad_request_gets_a_clear_4xx_and_the_server_keeps_serving(
    gguf_server, name, path, body, headers, status, fragment
):
    content = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    response = gguf_server.post(path, content=content, headers={"content-type": "application/json", **headers})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert fragment in error["message"] and error["code"] == status, error
    assert "Traceback" not in response.text
    assert gguf_server.get("/ping").status_code == 200


def test_wrong_method_and_a_good_request_after_the_bad_ones(gguf_server):
    assert gguf_server.get("/invocations").status_code == 405
    response = post(gguf_server, "/invocations", {"inputs": PROMPT, "parameters": {"max_new_tokens": 3}})
    assert response.status_code == 200 and isinstance(response.json()[0]["generated_text"], str)


def test_prompt_and_answer_that_just_fit_the_context_are_answered(gguf_server):
    response = post(gguf_server, "/invocations", {"inputs": "the frame " * 240, "parameters": {"max_new_tokens": 9}})
    assert response.status_code == 200, response.text  # 503 + 9 = 512: the whole window, no more


# --- clients that leave, a full queue, oversized headers --------------------------------------------------

LONG = 400  # tokens: the tiny model takes seconds for them, far longer than a client waits below


@pytest.fixture(scope="module")
def patient_server(tiny_gguf, tmp_path_factory):
    """A server with room for long answers and a queue of 3; yields (client, its log file)."""
    workdir = tmp_path_factory.mktemp("serve-queue")
    limits = {**LIMITS, "n_ctx": 1024, "max_new_tokens_limit": 512, "max_queue": 3}
    with server(tiny_gguf, workdir, {"serve": limits, "student": {"system_prompt": SYSTEM}}) as client:
        yield client, workdir / "server.log"


def ask_and_leave(base_url, max_tokens: int, wait_s: float) -> httpx.Response | None:
    """A chat request whose client gives up after `wait_s` seconds: None when it left, else the response."""
    body = {"messages": [{"role": "user", "content": PROMPT}], "max_tokens": max_tokens}
    with httpx.Client(base_url=base_url, timeout=wait_s) as impatient:
        try:
            return post(impatient, "/v1/chat/completions", body)
        except httpx.TimeoutException:
            return None


def gone_lines(log: Path, count: int, deadline_s: float = 60) -> list[str]:
    """The server's `client gone` lines once there are `count` of them (or whatever there is at the deadline)."""
    deadline = time.monotonic() + deadline_s
    while True:
        lines = [line for line in log.read_text().splitlines() if "client gone:" in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_abandoned_requests_are_cancelled_and_the_next_one_is_answered(patient_server):
    """Three clients ask for 400 tokens and leave after 0.3 s: each generation is cancelled (the running one
    between two tokens, the waiting ones before they start), so a 2-token request is answered next instead
    of after all three answers were generated for nobody."""
    client, log = patient_server
    before = len(gone_lines(log, 0))
    with ThreadPoolExecutor(3) as pool:
        left = list(pool.map(lambda _: ask_and_leave(client.base_url, LONG, 0.3), range(3)))
    assert left == [None, None, None]
    response = post(
        client, "/v1/chat/completions", {"messages": [{"role": "user", "content": PROMPT}], "max_tokens": 2}
    )
    assert response.status_code == 200 and response.json()["usage"]["completion_tokens"] <= 2
    lines = gone_lines(log, before + 3)[before:]
    assert len(lines) == 3, lines
    generated = [int(re.search(rf"cancelled after (\d+) of {LONG} tokens", line).group(1)) for line in lines]
    assert all(tokens < LONG for tokens in generated), lines
    assert all(line.count("POST /v1/chat/completions") == 1 for line in lines)


def test_a_full_queue_is_refused_with_503_and_retry_after(patient_server):
    """serve.max_queue 3: one generating and three waiting; of eight long requests sent together, those
    beyond are refused at once with Retry-After, the others wait (and are cancelled when their clients go)."""
    client, _ = patient_server
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: ask_and_leave(client.base_url, LONG, 3.0), range(8)))
    refused = [response for response in responses if response is not None and response.status_code == 503]
    assert len(refused) >= 4, [response and response.status_code for response in responses]
    for response in refused:
        assert int(response.headers["retry-after"]) >= 1
        error = response.json()["error"]
        assert error["code"] == 503 and "serve.max_queue 3" in error["message"]
    assert post(client, "/invocations", {"inputs": PROMPT, "parameters": {"max_new_tokens": 1}}).status_code == 200


def raw_http(port: int, data: bytes, read: bool = True, piece: int = 0) -> bytes:
    """Send bytes on a fresh connection (in `piece`-byte writes a moment apart, so the server reads them
    one by one); the whole answer (until the server closes), or b"" unread."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(data), piece or len(data)):
            sock.sendall(data[start : start + (piece or len(data))])
            if piece:
                time.sleep(0.005)
        if not read:
            return b""
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


@pytest.mark.parametrize("piece", [0, 2048], ids=["in-one-read", "in-pieces"])
def test_a_100_kb_header_is_431(patient_server, piece):
    """Whether the headers arrive at once (the app's limit) or in pieces (h11's limit on what it buffers)."""
    client, _ = patient_server
    port = client.base_url.port
    request = b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100_000 + b"\r\n\r\n"
    answer = raw_http(port, request, piece=piece)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert json.loads(body)["error"] == {
        "message": "the request headers are over 16384 bytes",
        "type": "invalid_request_error",
        "code": 431,
    }
    small = raw_http(
        port, b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 8000 + b"\r\nConnection: close\r\n\r\n"
    )
    assert small.startswith(b"HTTP/1.1 200 ")
    assert client.get("/ping").status_code == 200


def test_a_client_that_leaves_mid_body_is_one_log_line(patient_server):
    client, log = patient_server
    before = len(gone_lines(log, 0))
    head = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
    raw_http(client.base_url.port, head + b'{"inputs": "' + b"x" * 100, read=False)
    lines = gone_lines(log, before + 1)[before:]
    # uvicorn may see the close before the app reads the 112 bytes that came with it
    assert len(lines) == 1 and re.search(r"client gone: POST /invocations after (0|112) of 10000 body bytes$", lines[0])
    text = log.read_text()
    assert "Traceback" not in text and "ClientDisconnect" not in text, text[-3000:]
    assert client.get("/ping").status_code == 200


# --- scoring -------------------------------------------------------------------------------------------


def test_score_true_runs_the_gate_on_the_answer(gguf_server):
    checks = {
        "family": "vlan_tag",
        "function": "vlan_tci_pack",
        "signature": "uint16_t vlan_tci_pack(uint8_t pcp, uint8_t dei, uint16_t vid)",
        "facts": {"ethertype_ctag": "VLAN_TPID", "vlan_tci_layout": None},
    }
    response = post(
        gguf_server,
        "/invocations?score=true",
        {"inputs": PROMPT, "parameters": {"max_new_tokens": 8}, "task": "c_code", "checks": checks},
    )
    assert response.status_code == 200, response.text
    [answer] = response.json()
    assert set(answer) == {"generated_text", "score", "passed", "axes", "findings"}
    # a random model writes no C: the gate says so, it does not just return a number
    assert 0 <= answer["score"] < 5 and answer["passed"] is False
    assert {"syntax", "function", "protocol"} <= set(answer["axes"])
    assert answer["axes"]["function"] == 0
    assert "function-missing" in {finding["id"] for finding in answer["findings"]}
    # without ?score the answer is the same and carries no verdict
    plain = post(gguf_server, "/invocations", {"inputs": PROMPT, "parameters": {"max_new_tokens": 8}}).json()
    assert plain == [{"generated_text": answer["generated_text"]}]


def test_score_true_on_a_chat_completion_for_a_profile(gguf_server):
    reference = {"handle": "luca_zhang002", "score": 0.61, "reason": "strong fit"}
    response = post(
        gguf_server,
        "/v1/chat/completions?score=true",
        {
            "messages": [{"role": "user", "content": "Score this profile as JSON."}],
            "max_tokens": 8,
            "task": "json_record",
            "reference": reference,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["passed"] is False
    assert "parse" in body["axes"] and body["axes"]["parse"] == 0
    assert any(finding["id"].startswith("json-") or finding["id"] == "truncated" for finding in body["findings"])


# --- the command ----------------------------------------------------------------------------------------


def test_missing_or_unreadable_model_is_one_line_error(tmp_path):
    assert_one_line_error(
        run_cli("serve", "--model", str(tmp_path / "missing.gguf"), "--port", str(free_port()), cwd=tmp_path),
        "missing.gguf not found",
    )
    (tmp_path / "broken.gguf").write_bytes(b"GGUF" + b"\x00" * 64)
    assert_one_line_error(
        run_cli("serve", "--model", str(tmp_path / "broken.gguf"), "--port", str(free_port()), cwd=tmp_path),
        "llama.cpp cannot load this GGUF",
    )
    (tmp_path / "empty").mkdir()
    assert_one_line_error(
        run_cli("serve", "--model", str(tmp_path / "empty"), "--port", str(free_port()), cwd=tmp_path), "no config.json"
    )


def test_bad_serve_params_and_a_taken_port_are_one_line_errors(tmp_path, tiny_gguf):
    (tmp_path / "params.yaml").write_text(json.dumps({"serve": {"max_new_tokens": 100, "max_new_tokens_limit": 50}}))
    assert_one_line_error(
        run_cli("serve", "--model", str(tiny_gguf), cwd=tmp_path),
        "serve: max_new_tokens 100 is above max_new_tokens_limit 50",
    )
    (tmp_path / "params.yaml").unlink()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(
            run_cli("serve", "--model", str(tiny_gguf), "--port", str(port), cwd=tmp_path),
            f"cannot listen on 127.0.0.1:{port}",
        )
    assert_one_line_error(
        run_cli("serve", "--model", str(tiny_gguf), cwd=tmp_path, env=cli_env(SAGEMAKER_BIND_TO_PORT="eighty")),
        "SAGEMAKER_BIND_TO_PORT",
    )


def test_sagemaker_port_variable_and_the_transformers_backend(tiny_model_dir, tiny_tokenizer_dir, tmp_path):
    """An HF directory is served by transformers, with the same answers as generating in-process."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    port = free_port()
    messages = [{"role": "user", "content": PROMPT}]
    params = {"student": {"dtype": "float32"}}  # the same arithmetic as the reference below
    with server(tiny_model_dir, tmp_path, params, port=port, env={"SAGEMAKER_BIND_TO_PORT": str(port)}) as client:
        assert client.get("/ping").json()["backend"] == "transformers"
        body = post(
            client, "/v1/chat/completions", {"messages": messages, "max_tokens": 6, "repetition_penalty": 1.0}
        ).json()
        sagemaker = post(
            client, "/invocations", {"inputs": PROMPT, "parameters": {"max_new_tokens": 6, "repetition_penalty": 1.0}}
        ).json()
        # the transformers backend checks prompt + answer against n_ctx (4096) too, before generating
        over = post(client, "/invocations", {"inputs": "the frame " * 1100, "parameters": {"max_new_tokens": 2000}})
        assert over.status_code == 400 and "the context window holds 4096" in over.json()["error"]["message"]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        new = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=6,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
        )[0, ids.shape[1] :].tolist()
    eos = [i for i, token in enumerate(new) if token == tokenizer.eos_token_id]
    new = new[: eos[0]] if eos else new
    assert body["usage"] == {
        "prompt_tokens": prompt_tokens(tiny_tokenizer_dir, messages),
        "completion_tokens": len(new),
        "total_tokens": ids.shape[1] + len(new),
    }
    assert body["choices"][0]["message"]["content"] == tokenizer.decode(new, skip_special_tokens=True)
    assert sagemaker == [{"generated_text": body["choices"][0]["message"]["content"]}]
