"""Teachers: one interface, many backends.

A teacher answers a Request (system prompt + user prompt, and the record it is about) with a Reply
(text + token usage) or raises CallError with a short reason. Backends only talk to their model; the
call cache, budget, retries and concurrency live once, in `runner`, for all of them.

    reference   the record's reference answer (offline default, free, not cached)
    llamacpp    a local GGUF through llama-cpp-python
    hf          a local transformers model, through the student's generation code
    openai      any OpenAI-compatible server (OpenAI, vLLM, Ollama, LM Studio, llama.cpp server)
    bedrock     AWS Bedrock Converse through boto3
    anthropic   the Anthropic Messages API
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass

from distilloop import UserError
from distilloop.config import Connection

BACKENDS = {
    "reference": "distilloop.teachers.backends.reference:ReferenceTeacher",
    "llamacpp": "distilloop.teachers.backends.llamacpp:LlamaCppTeacher",
    "hf": "distilloop.teachers.backends.hf:HFTeacher",
    "openai": "distilloop.teachers.backends.openai_compat:OpenAITeacher",
    "bedrock": "distilloop.teachers.backends.bedrock:BedrockTeacher",
    "anthropic": "distilloop.teachers.backends.anthropic:AnthropicTeacher",
}


@dataclass(frozen=True)
class Request:
    system: str
    prompt: str
    record: dict  # the scored record the request is about (the reference backend answers from it)
    max_tokens: int | None = None  # below teacher.max_tokens when the budget's remainder pays for no more


@dataclass
class Reply:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool = False  # the model stopped at max_tokens


class CallError(Exception):
    """A call that gave no usable answer. `kind` groups failures in the metrics ("http 500", "timeout",
    "malformed response", "empty content", ...); `retryable` and `retry_after` (seconds) drive retries;
    `usage` is (input, output) tokens when the server billed the useless answer."""

    def __init__(
        self,
        kind: str,
        detail: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
        usage: tuple[int, int] = (0, 0),
    ):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after
        self.usage = usage
        self.attempts = 1


class Teacher:
    """The interface. Subclasses set the class attributes and implement `complete`."""

    backend = ""
    remote = False  # a paid remote API: needs a price, counts against budget_usd
    cached = True  # calls go through the persistent call cache
    max_concurrency = 0  # 0: runtime.teacher.concurrency; local models run one call at a time

    def __init__(self, params: Connection):
        self.params = params
        self.backend = self.backend or params.backend
        self.model = params.model

    def settings(self) -> dict:
        """Generation settings that change the answer: part of the cache key."""
        return {"temperature": self.params.temperature, "max_tokens": self.params.max_tokens}

    def complete(self, request: Request) -> Reply:
        raise NotImplementedError

    def redact(self, text: str) -> str:
        """Remove any secret this teacher holds from a message before it is shown or written."""
        return redact(text, None)

    def close(self) -> None:
        pass


def api_key(params: Connection, default_env: str) -> tuple[str, str]:
    """(name, value) of the API key variable; a missing key is a one-line user error naming the variable."""
    name = params.api_key_env or default_env
    value = os.environ.get(name, "").strip()
    if not value:
        raise UserError(
            f"teacher {params.backend}: the API key is missing: set the environment variable {name} "
            f"(teacher.api_key_env names it)"
        )
    return name, value


URL_CREDENTIALS = re.compile(r"(?<=//)[^/@\s]+@")


def redact_url(text: str) -> str:
    """`scheme://user:password@host` -> `scheme://***@host`, anywhere in `text`."""
    return URL_CREDENTIALS.sub("***@", text)


def redact(text: str, secret: str | None) -> str:
    text = redact_url(text)
    return text.replace(secret, "[redacted]") if secret else text


def make_teacher(params: Connection) -> Teacher:
    module_name, class_name = BACKENDS[params.backend].split(":")
    return getattr(importlib.import_module(module_name), class_name)(params)
