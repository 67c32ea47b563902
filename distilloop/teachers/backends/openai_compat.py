"""The `openai` teacher: any server speaking OpenAI's chat completions (OpenAI, vLLM, Ollama,
LM Studio, llama.cpp server), over plain httpx so the one retry policy in `retry` applies."""

from __future__ import annotations

import os

from distilloop.teachers import CallError, Reply, Request, Teacher, api_key, redact
from distilloop.teachers.retry import http_client, post_json

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAITeacher(Teacher):
    backend = "openai"
    remote = True

    def __init__(self, params):
        super().__init__(params)
        self.url = (params.base_url or DEFAULT_BASE_URL).rstrip("/") + "/chat/completions"
        # a local server (Ollama, vLLM, llama.cpp) may need no key; OpenAI itself always does
        name = params.api_key_env or "OPENAI_API_KEY"
        self._key = api_key(params, name)[1] if params.base_url is None or os.environ.get(name) else None
        self.client = http_client(params.timeout_s, params.concurrency)

    def complete(self, request: Request) -> Reply:
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": request.system}, {"role": "user", "content": request.prompt}],
            "temperature": self.params.temperature,
            "max_tokens": request.max_tokens or self.params.max_tokens,
        }
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        data = post_json(self.client, self.url, body, headers, self._key)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"]
            usage = data.get("usage") or {}
            input_tokens, output_tokens = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise CallError("malformed response", f"no choices[0].message.content ({exc!r})", retryable=True) from None
        if not isinstance(text, str) or not text.strip():
            raise CallError(
                "empty content", f"finish_reason {choice.get('finish_reason')!r}", usage=(input_tokens, output_tokens)
            )
        return Reply(text, input_tokens, output_tokens, truncated=choice.get("finish_reason") == "length")

    def redact(self, text: str) -> str:
        return redact(text, self._key)

    def close(self) -> None:
        self.client.close()
