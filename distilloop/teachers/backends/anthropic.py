"""The `anthropic` teacher: the Messages API (POST {base_url}/v1/messages) over plain httpx, so the
one retry policy in `retry` applies (the SDK would add its own)."""

from __future__ import annotations

from distilloop.teachers import CallError, Reply, Request, Teacher, api_key, redact
from distilloop.teachers.retry import http_client, post_json

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"


class AnthropicTeacher(Teacher):
    backend = "anthropic"
    remote = True

    def __init__(self, params):
        super().__init__(params)
        self.url = (params.base_url or DEFAULT_BASE_URL).rstrip("/") + "/v1/messages"
        _, self._key = api_key(params, "ANTHROPIC_API_KEY")
        self.client = http_client(params.timeout_s, params.concurrency)

    def complete(self, request: Request) -> Reply:
        body = {
            "model": self.model,
            "system": request.system,
            "messages": [{"role": "user", "content": request.prompt}],
            "max_tokens": request.max_tokens or self.params.max_tokens,
            "temperature": self.params.temperature,
        }
        headers = {"x-api-key": self._key, "anthropic-version": API_VERSION}
        data = post_json(self.client, self.url, body, headers, self._key)
        try:
            text = "".join(block.get("text", "") for block in data["content"] if block.get("type") == "text")
            usage = data.get("usage") or {}
            input_tokens, output_tokens = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise CallError("malformed response", f"no content blocks ({exc!r})", retryable=True) from None
        if not text.strip():
            raise CallError(
                "empty content", f"stop_reason {data.get('stop_reason')!r}", usage=(input_tokens, output_tokens)
            )
        return Reply(text, input_tokens, output_tokens, truncated=data.get("stop_reason") == "max_tokens")

    def redact(self, text: str) -> str:
        return redact(text, self._key)

    def close(self) -> None:
        self.client.close()
