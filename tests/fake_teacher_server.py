"""A local teacher server for tests, benchmarks and dry runs, with deterministic fault injection.

It speaks three API shapes on one port: OpenAI chat completions (POST .../chat/completions),
Anthropic Messages (POST .../v1/messages) and Bedrock Converse (POST /model/{modelId}/converse).
The answer to a request is looked up by the `item:<name>` marker in the user message (`answers`),
and the message may ask for a fault with `fault:<kind>` or `fault:<kind>x<n>` (only the first n
calls of that item):

    429       HTTP 429 with Retry-After (throttling, in each API's error shape)
    500       HTTP 500
    timeout   stall `stall_s` seconds before answering (longer than the client's timeout)
    malformed a 200 whose body is cut-off JSON
    deep      a 200 whose body is JSON nested 100k levels deep
    long      an answer of exactly the request's max_tokens words (the most it may cost)

Token counts are words. As a real server, it never answers more than the request's max_tokens: a longer
answer is cut there and reported as stopped by the length limit.
    empty     a 200 whose answer text is empty

Every request is logged (time, api, item, fault, status, whether the expected key arrived; never
the key), in memory and optionally to a JSONL file. Run by hand:
    python -m fake_teacher_server --port 8099 --answers answers.json --delay 0.1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

ITEM = re.compile(r"item:([\w.@-]+)")
FAULT = re.compile(r"fault:([a-z0-9]+?)(?:x(\d+))?\b")


class FakeTeacherServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        port: int = 0,
        answers: dict | None = None,
        delay_s: float = 0.0,
        stall_s: float = 5.0,
        retry_after: str = "1",
        expected_key: str | None = None,
        log_path: str | None = None,
    ):
        super().__init__(("127.0.0.1", port), Handler)
        self.answers = answers or {}
        self.delay_s, self.stall_s, self.retry_after = delay_s, stall_s, retry_after
        self.expected_key = expected_key
        self.log_path = log_path
        self.calls: list[dict] = []
        self.seen: dict[tuple, int] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FakeTeacherServer:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def log(self, entry: dict) -> int:
        """Record a call; return how many calls this item + fault has had before it."""
        with self.lock:
            key = (entry["item"], entry["fault"])
            count = self.seen.get(key, 0)
            self.seen[key] = count + 1
            self.calls.append(entry)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as out:
                    out.write(json.dumps(entry) + "\n")
        return count


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: FakeTeacherServer

    def log_message(self, *args) -> None:  # quiet: the call log is the record
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            return self.reply(400, {"error": {"message": "request body is not JSON"}})
        api, model, text = self.read_shape(body)
        if api is None:
            return self.reply(404, {"error": {"message": f"no such endpoint {self.path}"}})
        item = (ITEM.search(text) or [None, None])[1]
        fault_match = FAULT.search(text)
        fault, times = (fault_match[1], int(fault_match[2] or 0)) if fault_match else (None, 0)
        entry = {
            "time": time.time(),
            "api": api,
            "model": model,
            "item": item,
            "fault": fault,
            "auth": self.auth_state(),
            "max_tokens": requested_max_tokens(body),
        }
        count = self.server.log(entry)
        if self.server.delay_s:
            time.sleep(self.server.delay_s)
        if entry["auth"] == "wrong":
            return self.error(api, 401, "authentication_error", "invalid API key")
        active = fault if fault and (times == 0 or count < times) else None
        if active == "429":
            return self.error(api, 429, "rate_limit", "slow down", {"Retry-After": self.server.retry_after})
        if active == "500":
            return self.error(api, 500, "internal", "internal error")
        if active == "timeout":
            time.sleep(self.server.stall_s)
        if active == "malformed":
            return self.send_raw(200, b'{"choices": [{"message": {"content": "cut off', "application/json")
        if active == "deep":
            return self.send_raw(200, b'{"choices": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json")
        answer = "" if active == "empty" else self.server.answers.get(item, f"no answer for item {item}")
        limit = entry["max_tokens"]
        if active == "long" and limit:
            answer = " ".join(["word"] * (limit + 1))  # more than it may say: cut at the limit below
        cut = bool(limit) and len(answer.split()) > limit
        if cut:
            answer = " ".join(answer.split()[:limit])
        self.reply(200, self.shape(api, model, answer, len(text.split()), cut))

    def read_shape(self, body: dict) -> tuple[str | None, str, str]:
        """(api, model, all prompt text: system + messages) of a request in any of the three shapes."""
        path = self.path.split("?")[0]
        messages = body.get("messages", [])
        if path.endswith("/chat/completions"):
            return "openai", body.get("model", ""), " ".join(str(m.get("content", "")) for m in messages)
        if path.endswith("/v1/messages"):
            texts = [str(body.get("system", ""))] + [str(m.get("content", "")) for m in messages]
            return "anthropic", body.get("model", ""), " ".join(texts)
        match = re.fullmatch(r"/model/(.+)/converse", path)
        if match:
            blocks = body.get("system", []) + [block for m in messages for block in m.get("content", [])]
            return "bedrock", unquote(match[1]), " ".join(block.get("text", "") for block in blocks)
        return None, "", ""

    def auth_state(self) -> str:
        """'ok', 'wrong' or 'none' (no key expected or sent). Bedrock signs with SigV4: 'signed'."""
        sent = self.headers.get("x-api-key") or (self.headers.get("authorization") or "").removeprefix("Bearer ")
        if (self.headers.get("authorization") or "").startswith("AWS4-HMAC-SHA256"):
            return "signed"
        if self.server.expected_key is None:
            return "none" if not sent else "sent"
        return "ok" if sent == self.server.expected_key else "wrong"

    def shape(self, api: str, model: str, answer: str, input_tokens: int, cut: bool = False) -> dict:
        output_tokens = len(answer.split())
        if api == "openai":
            finish = "length" if cut else "stop"
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": input_tokens,
                    "completion_tokens": output_tokens,
                    "total_tokens": input_tokens + output_tokens,
                },
            }
        if api == "anthropic":
            return {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": answer}],
                "stop_reason": "max_tokens" if cut else "end_turn",
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
            }
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "max_tokens" if cut else "end_turn",
            "usage": {
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
                "totalTokens": input_tokens + output_tokens,
            },
            "metrics": {"latencyMs": 1},
        }

    def error(self, api: str, status: int, kind: str, message: str, headers: dict | None = None) -> None:
        if api == "bedrock":  # botocore reads the code from x-amzn-ErrorType and the message from the body
            code = {429: "ThrottlingException", 500: "InternalServerException", 401: "AccessDeniedException"}[status]
            return self.reply(status, {"message": message}, {**(headers or {}), "x-amzn-ErrorType": code})
        if api == "anthropic":
            return self.reply(
                status, {"type": "error", "error": {"type": f"{kind}_error", "message": message}}, headers
            )
        return self.reply(status, {"error": {"message": message, "type": kind, "code": status}}, headers)

    def reply(self, status: int, value: dict, headers: dict | None = None) -> None:
        self.send_raw(status, json.dumps(value).encode(), "application/json", headers)

    def send_raw(self, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): nothing to answer
            pass


def requested_max_tokens(body: dict) -> int | None:
    """The reply limit a request sets, in any of the three shapes."""
    config = body.get("inferenceConfig")
    value = body.get("max_tokens") or body.get("max_completion_tokens") or (config or {}).get("maxTokens")
    return value if isinstance(value, int) and value > 0 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--answers", help="JSON file: item name -> answer text")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--stall", type=float, default=5.0, help="seconds a `timeout` fault stalls")
    parser.add_argument("--retry-after", default="1")
    parser.add_argument("--key-env", help="environment variable holding the key clients must send")
    parser.add_argument("--log", help="append every call to this JSONL file")
    args = parser.parse_args()
    answers = json.loads(open(args.answers, encoding="utf-8").read()) if args.answers else {}
    server = FakeTeacherServer(
        args.port,
        answers,
        args.delay,
        args.stall,
        args.retry_after,
        os.environ.get(args.key_env) if args.key_env else None,
        args.log,
    )
    print(f"fake teacher server on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
