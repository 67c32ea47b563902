"""`distilloop serve`: the distilled model over HTTP, with SageMaker's contract and OpenAI's chat API.

    GET  /ping                  200 once the model is loaded (SageMaker's health check)
    POST /invocations           {"inputs": prompt | messages, "parameters": {...}} -> [{"generated_text"}]
    POST /v1/chat/completions   OpenAI-compatible chat completion (no streaming)
    GET  /v1/models             the one model this server holds

A .gguf file is served by llama.cpp, an HF directory (models/merged) by transformers. One generation
runs at a time (a lock): one already saturates the cores; at most serve.max_queue requests wait behind
it (503 with Retry-After beyond). A request whose client has gone is cancelled between two tokens, or
before it starts if it was waiting, and logged as one line. Every request is checked before any work:
headers over MAX_HEADER_BYTES (431), content type (415), body size (413), JSON, null bytes and lone
surrogates (400), prompt + answer over serve.n_ctx (400), fields, types and ranges (422). With
`?score=true` the quality gate scores the answer; the code it generated is compiled and run only by the
gate's sandbox, and nothing from a request is ever run (a harness in `checks` is refused).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from distilloop import UserError
from distilloop.config import Params, ServeParams
from distilloop.io import bad_text

MAX_MESSAGES = 64
MAX_STOPS = 4
IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]{0,63}"
MAX_HEADER_BYTES = 16384  # request line and headers together; more is 431 (h11's default limit, now named)
HEADERS_TOO_LARGE = f"the request headers are over {MAX_HEADER_BYTES} bytes"
DISCONNECT_POLL_S = 0.05  # how often a generating request checks that its client is still there
log = logging.getLogger("uvicorn.error")  # the server's own log, one line per event

# --- backends: messages + settings -> an answer -----------------------------------------------------


@dataclass
class Settings:
    max_new_tokens: int
    temperature: float  # 0: greedy
    top_p: float
    top_k: int  # 0: off
    repetition_penalty: (
        float  # over the last repeat_last_n generated tokens, never the prompt (distilloop/student/decoding.py)
    )
    stop: list[str]
    seed: int
    repeat_last_n: int = 64


@dataclass
class Answer:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (end of sequence or a stop string) | "length" (max_new_tokens reached)


class RequestError(Exception):
    """A request the server refuses: the HTTP status, one line saying why, and headers to send with it."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class Cancelled(Exception):
    """The client has gone: generation stopped after `tokens` tokens (0: it never started)."""

    def __init__(self, tokens: int):
        super().__init__(f"cancelled after {tokens} tokens")
        self.tokens = tokens


class ClientGone(Exception):
    """A client that disconnected before its answer: one log line, and no answer to send."""


def context_overflow(prompt_tokens: int, n_ctx: int, max_new_tokens: int | None = None) -> RequestError:
    asked = f" and the answer may take {max_new_tokens} more" if max_new_tokens else ""
    return RequestError(
        400,
        f"the prompt is {prompt_tokens} tokens{asked}; the context window holds {n_ctx} "
        "(serve.n_ctx), prompt and answer together",
    )


class PromptTooLong(Exception):
    def __init__(self, prompt_tokens: int, max_tokens: int):
        super().__init__(f"{prompt_tokens} + {max_tokens} tokens")
        self.prompt_tokens, self.max_tokens = prompt_tokens, max_tokens


@cache
def guarded_llama():
    """llama_cpp.Llama whose completions (its chat handler calls create_completion with the prompt's
    tokens, formatted by the model's own chat template) first check prompt + max_tokens against n_ctx,
    where llama.cpp would silently shorten the answer, and stop between two tokens once `cancel` is set."""
    from llama_cpp import Llama, StoppingCriteriaList

    class GuardedLlama(Llama):
        cancel: threading.Event | None = None

        def create_completion(self, prompt, *args, **kwargs):
            tokens = len(prompt) if isinstance(prompt, list) else len(self.tokenize(prompt.encode(), special=True))
            wanted = kwargs.get("max_tokens") or 0
            if tokens + wanted > self.n_ctx():
                raise PromptTooLong(tokens, wanted)
            cancel = self.cancel
            criteria = list(kwargs.get("stopping_criteria") or [])
            kwargs["stopping_criteria"] = StoppingCriteriaList(
                [*criteria, lambda input_ids, logits: cancel is not None and cancel.is_set()]
            )
            return super().create_completion(prompt, *args, **kwargs)

    return GuardedLlama


class LlamaCppBackend:
    kind = "llama.cpp"

    def __init__(self, path: Path, serve: ServeParams):
        self.n_ctx = serve.n_ctx
        try:
            self.llm = guarded_llama()(model_path=str(path), n_ctx=serve.n_ctx, n_threads=threads(serve), verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"{path}: llama.cpp cannot load this GGUF ({exc})") from None

    def chat(self, messages: list[dict], settings: Settings, cancel: threading.Event | None = None) -> Answer:
        self.llm.last_n_tokens_size = settings.repeat_last_n  # llama.cpp's penalty window: sampled tokens only
        self.llm.cancel = cancel
        try:
            result = self.llm.create_chat_completion(
                messages=messages,
                max_tokens=settings.max_new_tokens,
                temperature=settings.temperature,
                top_p=settings.top_p,
                top_k=settings.top_k,
                repeat_penalty=settings.repetition_penalty if settings.repeat_last_n else 1.0,
                stop=settings.stop or None,
                seed=settings.seed,
            )
        except PromptTooLong as exc:
            raise context_overflow(exc.prompt_tokens, self.n_ctx, exc.max_tokens) from None
        except ValueError as exc:  # llama.cpp's only complaint about a valid request: a prompt too long
            found = re.search(r"Requested tokens \((\d+)\) exceed context window", str(exc))
            if found:
                raise context_overflow(int(found.group(1)), self.n_ctx) from None
            raise
        finally:
            self.llm.cancel = None
        choice, usage = result["choices"][0], result["usage"]
        if cancel is not None and cancel.is_set():
            raise Cancelled(usage["completion_tokens"])
        return Answer(
            choice["message"]["content"] or "",
            usage["prompt_tokens"],
            usage["completion_tokens"],
            choice["finish_reason"] or "stop",
        )


class TransformersBackend:
    kind = "transformers"

    def __init__(self, path: Path, params: Params):
        from distilloop.student.model import load_student

        self.n_ctx = params.serve.n_ctx
        self.model, self.tokenizer = load_student(path, None, params.student, threads=params.serve.threads)
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = {
            *(eos if isinstance(eos, (list, tuple)) else [eos] if eos is not None else []),
            *([self.tokenizer.eos_token_id] if self.tokenizer.eos_token_id is not None else []),
        }

    def chat(self, messages: list[dict], settings: Settings, cancel: threading.Event | None = None) -> Answer:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:  # a base model without a template continues the plain text
            text = "\n\n".join(message["content"] for message in messages)
        # on student.device (load_student): the CPU, or the GPU the transformers backend found
        ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"].to(self.model.device)
        prompt_tokens = ids.shape[1]
        if prompt_tokens >= self.n_ctx:
            raise context_overflow(prompt_tokens, self.n_ctx)
        if prompt_tokens + settings.max_new_tokens > self.n_ctx:  # not a silently shorter answer
            raise context_overflow(prompt_tokens, self.n_ctx, settings.max_new_tokens)
        budget = settings.max_new_tokens
        sample = settings.temperature > 0
        from distilloop.student.decoding import logits_processors

        # transformers' own repetition_penalty would cover the prompt too: the shared rules instead
        rules = logits_processors(prompt_tokens, settings.repetition_penalty, settings.repeat_last_n)
        options = dict(
            max_new_tokens=budget,
            do_sample=sample,
            repetition_penalty=1.0,
            logits_processor=rules,
            eos_token_id=sorted(self.eos_ids),
            pad_token_id=self.tokenizer.pad_token_id,
            temperature=settings.temperature if sample else None,
            top_p=settings.top_p if sample else None,
            top_k=settings.top_k if sample else None,
        )
        if settings.stop:
            options.update(stop_strings=settings.stop, tokenizer=self.tokenizer)
        if cancel is not None:

            class UntilCancelled(StoppingCriteria):
                def __call__(self, input_ids, scores, **kwargs):
                    return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool, device=input_ids.device)

            options.update(stopping_criteria=StoppingCriteriaList([UntilCancelled()]))
        torch.manual_seed(settings.seed)
        with torch.inference_mode():
            new = self.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **options)[
                0, prompt_tokens:
            ].tolist()
        if cancel is not None and cancel.is_set():
            raise Cancelled(len(new))
        end = next((i for i, token in enumerate(new) if token in self.eos_ids), None)
        tokens = new if end is None else new[:end]
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        cut = min((text.find(stop) for stop in settings.stop if stop in text), default=None)
        stopped = end is not None or cut is not None or len(new) < budget
        return Answer(text if cut is None else text[:cut], prompt_tokens, len(tokens), "stop" if stopped else "length")


def threads(serve: ServeParams) -> int:
    return serve.threads or len(os.sched_getaffinity(0))


def load_backend(spec: str, params: Params):
    """serve.model / --model -> a loaded backend; a one-line UserError for anything else."""
    from distilloop.student.model import BUNDLED_STUDENT, bundled_gguf

    path = bundled_gguf() if spec == BUNDLED_STUDENT else Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return LlamaCppBackend(path, params.serve)
    if path.is_dir() and (path / "config.json").exists():
        return TransformersBackend(path, params)
    if not path.exists():
        raise UserError(
            f"serve: model {spec} not found (a .gguf file, an HF model directory such as "
            f"models/merged, or {BUNDLED_STUDENT})"
        )
    raise UserError(f"serve: {spec} is neither a .gguf file nor an HF model directory (no config.json)")


# --- requests: every field typed and bounded; unknown fields are errors ------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _limits(info: ValidationInfo) -> ServeParams:
    return (info.context or {}).get("serve") or ServeParams()


class Message(Strict):
    role: Literal["system", "user", "assistant"]
    content: str

    @field_validator("content")
    @classmethod
    def _fits(cls, value: str, info: ValidationInfo) -> str:
        limit = _limits(info).max_message_chars
        if len(value) > limit:
            raise ValueError(f"{len(value)} characters is over the limit of {limit} (serve.max_message_chars)")
        return value


def _new_tokens_within_limit(value: int | None, info: ValidationInfo) -> int | None:
    limit = _limits(info).max_new_tokens_limit
    if value is not None and value > limit:
        raise ValueError(f"must be at most {limit} (serve.max_new_tokens_limit), got {value}")
    return value


def _one_or_many(value):
    return [value] if isinstance(value, str) else value


class Checks(Strict):
    """What `?score=true` checks, as in a c_code record's `checks`, without a harness: the server never
    runs code from a request."""

    family: str | None = Field(None, pattern=f"^{IDENTIFIER}$")
    function: str | None = Field(None, pattern=f"^{IDENTIFIER}$")
    signature: str | None = Field(None, max_length=300, pattern=r"^[^;{}#\n\r]*$")
    facts: dict[str, str | None] | None = Field(None, max_length=32)

    @field_validator("facts")
    @classmethod
    def _known_facts(cls, value):
        from distilloop.gate.c_code.protocol import FACTS

        for name, identifier in (value or {}).items():
            if name not in FACTS:
                raise ValueError(f"unknown protocol fact {name!r} (known: {', '.join(sorted(FACTS))})")
            if identifier is not None and not re.fullmatch(IDENTIFIER, identifier):
                raise ValueError(f"{name}: {identifier!r} is not a C identifier")
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_harness(cls, data):
        if isinstance(data, dict) and "harness" in data:
            raise ValueError("harness is not accepted: the server runs no code from a request")
        return data


class Scoring(Strict):
    """Fields for `?score=true`: the task the answer is judged as, and what it is checked against."""

    task: Literal["c_code", "json_record"] = "c_code"
    checks: Checks | None = None
    reference: Any = None


Stop = Annotated[str, Field(min_length=1, max_length=64)]


class Sampling(Strict):
    """Generation settings both APIs share; what a request leaves unset takes the serve section's default."""

    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    top_k: int | None = Field(None, ge=0, le=1000)
    repetition_penalty: float | None = Field(None, ge=1, le=2)
    stop: list[Stop] | None = Field(None, max_length=MAX_STOPS)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)

    _stops = field_validator("stop", mode="before")(_one_or_many)

    def resolve(self, serve: ServeParams, max_new_tokens: int | None, greedy: bool = False) -> Settings:
        def pick(value, default):
            return default if value is None else value

        return Settings(
            pick(max_new_tokens, serve.max_new_tokens),
            0.0 if greedy else pick(self.temperature, serve.temperature),
            pick(self.top_p, serve.top_p),
            pick(self.top_k, 0),
            pick(self.repetition_penalty, serve.repetition_penalty),
            self.stop or [],
            pick(self.seed, 0),
            serve.repeat_last_n,
        )


class GenerationParameters(Sampling):
    """SageMaker's (the Hugging Face LLM container's) `parameters`."""

    max_new_tokens: int | None = Field(None, ge=1)
    do_sample: bool | None = None

    _limit = field_validator("max_new_tokens")(_new_tokens_within_limit)


class InvocationRequest(Scoring):
    inputs: list[Message] | None = Field(None, min_length=1, max_length=MAX_MESSAGES)
    messages: list[Message] | None = Field(None, min_length=1, max_length=MAX_MESSAGES)
    parameters: GenerationParameters = Field(default_factory=GenerationParameters)

    @field_validator("inputs", mode="before")
    @classmethod
    def _prompt_is_one_user_turn(cls, value):
        if isinstance(value, str):
            return [{"role": "user", "content": value}]
        if value is not None and not isinstance(value, list):
            raise ValueError("must be a prompt (a string) or a list of messages")
        return value

    @model_validator(mode="after")
    def _one_conversation(self):
        if (self.inputs is None) == (self.messages is None):
            raise ValueError("give exactly one of `inputs` (a prompt or a list of messages) and `messages`")
        return self

    def conversation(self) -> list[Message]:
        return self.inputs or self.messages

    def settings(self, serve: ServeParams) -> Settings:
        return self.parameters.resolve(serve, self.parameters.max_new_tokens, greedy=self.parameters.do_sample is False)


class ChatRequest(Scoring, Sampling):
    model: str | None = Field(None, max_length=256, description="accepted; this server holds one model")
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    n: int = Field(1, ge=1, le=1, description="one choice per request")
    stream: bool = False
    user: str | None = Field(None, max_length=256)

    _limit = field_validator("max_tokens", "max_completion_tokens")(_new_tokens_within_limit)

    def conversation(self) -> list[Message]:
        return self.messages

    def settings(self, serve: ServeParams) -> Settings:
        return self.resolve(serve, self.max_completion_tokens or self.max_tokens)


def describe(error: ValidationError) -> str:
    """The first validation problem as one line naming the field, e.g. `messages.0.role: Input should be ...`."""
    errors = error.errors(include_url=False)
    first = errors[0]
    key = ".".join(str(part) for part in first["loc"]) or "body"
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "field required"
    else:
        message = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{key}: {message}{more}"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


async def read_request(request: Request, model: type[BaseModel], serve: ServeParams):
    """Content type, size, JSON, null bytes, then the pydantic model; a RequestError for the first failure."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise RequestError(415, f"Content-Type must be application/json (got {content_type or 'none'})")
    limit = serve.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"the body is {declared} bytes; the limit is {limit} (serve.max_body_bytes)")
    body = bytearray()
    try:
        async for chunk in request.stream():  # also bounds a chunked body that declares no length
            body += chunk
            if len(body) > limit:
                raise RequestError(413, f"the body is over the limit of {limit} bytes (serve.max_body_bytes)")
    except ClientDisconnect:
        raise ClientGone(f"after {len(body)} of {declared or 'an undeclared number of'} body bytes") from None
    if b"\x00" in body:
        raise RequestError(400, "the body contains a null byte")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise RequestError(400, "malformed JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, invalid UTF-8, NaN/Infinity, an integer of thousands of digits
        raise RequestError(400, f"malformed JSON: {str(exc).splitlines()[0]}") from None
    problem = bad_text(data, "body")  # null bytes, lone surrogates, deep nesting
    if problem:
        raise RequestError(400, problem)
    if not isinstance(data, dict):
        raise RequestError(422, f"body: must be a JSON object (got {type(data).__name__})")
    try:
        return model.model_validate(data, context={"serve": serve})
    except ValidationError as exc:
        raise RequestError(422, describe(exc)) from None


# --- the app ------------------------------------------------------------------------------------------


def model_name(spec: str) -> str:
    path = Path(spec)
    return path.stem if path.suffix == ".gguf" else path.name or spec


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = {"error": {"message": message, "type": kind, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


class HeaderLimit:
    """ASGI middleware: 431 for a request line and headers over MAX_HEADER_BYTES. uvicorn's h11 limit
    (h11_max_incomplete_event_size) holds only for headers that arrive in several reads; this one holds
    for headers that arrived whole."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in scope["headers"])  # ": " and CRLF
            if size > MAX_HEADER_BYTES:
                return await error_response(431, HEADERS_TOO_LARGE, {"connection": "close"})(scope, receive, send)
        await self.app(scope, receive, send)


class Turns:
    """One generation (and gate run) at a time, and at most `max_queue` requests waiting behind it."""

    def __init__(self, max_queue: int):
        self.lock = threading.Lock()
        self.max_queue = max_queue
        self.admitted = 0  # generating or waiting; only ever changed on the event loop
        self.seconds = deque(maxlen=16)  # recent generation times, for Retry-After

    def admit(self) -> None:
        if self.admitted > self.max_queue:
            raise RequestError(
                503,
                f"busy: {self.admitted} requests are generating or waiting (serve.max_queue {self.max_queue} "
                "may wait); retry after the Retry-After seconds",
                {"Retry-After": str(self.retry_after())},
            )
        self.admitted += 1

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the recent time per generation times those ahead."""
        mean = sum(self.seconds) / len(self.seconds) if self.seconds else 1.0
        return max(1, min(3600, math.ceil(mean * self.admitted)))


async def watch_disconnect(request: Request, cancel: threading.Event, on_gone) -> None:
    """Set `cancel` once the client has gone (the body is read by now, so the next event is a disconnect)."""
    while not await request.is_disconnected():
        await asyncio.sleep(DISCONNECT_POLL_S)
    cancel.set()
    on_gone()


def create_app(backend, params: Params, name: str):
    """The FastAPI app around a loaded backend."""
    serve, system = params.serve, params.student.system_prompt
    turns = Turns(serve.max_queue)
    app = FastAPI(title="distilloop", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(HeaderLimit)
    created = int(time.time())
    error = error_response

    @app.exception_handler(RequestError)
    async def _refused(request, exc: RequestError):
        return error(exc.status, exc.message, exc.headers)

    @app.exception_handler(ClientGone)
    async def _gone(request, exc: ClientGone):
        # one line, not starlette's traceback: a client that leaves is not a server error
        log.info("client gone: %s %s %s", request.method, request.url.path, exc)
        return Response(status_code=499)  # nobody is there to read it

    @app.exception_handler(HTTPException)
    async def _http(request, exc: HTTPException):
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _query(request, exc: RequestValidationError):
        first = exc.errors()[0]
        return error(422, f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}")

    @app.exception_handler(Exception)
    async def _unexpected(request, exc: Exception):
        return error(500, f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")

    def answer(
        body: InvocationRequest | ChatRequest, settings: Settings, score: bool, cancel: threading.Event
    ) -> tuple[Answer, dict]:
        messages = [message.model_dump() for message in body.conversation()]
        if system and not any(message["role"] == "system" for message in messages):
            messages.insert(0, {"role": "system", "content": system})  # as the student was trained and evaluated
        while not turns.lock.acquire(timeout=DISCONNECT_POLL_S):
            if cancel.is_set():
                raise Cancelled(0)  # its client left while it waited: it leaves the queue, nothing generated
        try:
            started = time.perf_counter()
            result = backend.chat(messages, settings, cancel)
            seconds = time.perf_counter() - started
            turns.seconds.append(seconds)
            verdict = judge(body, messages, result, seconds, params) if score else {}
        finally:
            turns.lock.release()
        return result, verdict

    async def generate(request: Request, body: InvocationRequest | ChatRequest, score: bool) -> tuple[Answer, dict]:
        """Wait for the turn and generate; stop (between two tokens) once the client has gone."""
        settings = body.settings(serve)
        turns.admit()
        cancel, place = threading.Event(), [True]  # place: still counted in the queue

        def leave_queue() -> None:  # at once when the client goes: its generation stops at the next token
            if place.pop() if place else False:
                turns.admitted -= 1

        watcher = asyncio.create_task(watch_disconnect(request, cancel, leave_queue))
        try:
            return await run_in_threadpool(answer, body, settings, score, cancel)
        except Cancelled as exc:
            raise ClientGone(f"cancelled after {exc.tokens} of {settings.max_new_tokens} tokens") from None
        finally:
            watcher.cancel()
            leave_queue()

    @app.get("/ping")
    async def ping():
        return {"status": "ok", "model": name, "backend": backend.kind}

    @app.get("/v1/models")
    async def models():
        return {
            "object": "list",
            "data": [{"id": name, "object": "model", "created": created, "owned_by": "distilloop"}],
        }

    @app.post("/invocations")
    async def invocations(request: Request, score: bool = False):
        body = await read_request(request, InvocationRequest, serve)
        result, verdict = await generate(request, body, score)
        return [{"generated_text": result.text, **verdict}]

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request, score: bool = False):
        body = await read_request(request, ChatRequest, serve)
        if body.stream:
            raise RequestError(400, 'stream: streaming is not supported; send "stream": false')
        result, verdict = await generate(request, body, score)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.text},
                    "finish_reason": result.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "total_tokens": result.prompt_tokens + result.completion_tokens,
            },
            **verdict,
        }

    return app


def judge(body: Scoring, messages: list[dict], result: Answer, seconds: float, params: Params) -> dict:
    """The gate's verdict on one answer: score, passed, axes, findings."""
    from distilloop.gate.scoring import score_records

    prompt = next((message["content"] for message in reversed(messages) if message["role"] == "user"), "")
    record = {
        "id": "serve",
        "task": body.task,
        "prompt": prompt,
        "output": result.text,
        "truncated": result.finish_reason == "length",
        "gen": {"tokens": result.completion_tokens, "seconds": round(seconds, 4)},
    }
    if body.checks is not None:
        record["checks"] = body.checks.model_dump(exclude_none=True)
    if body.reference is not None:
        record["reference"] = body.reference
    [scored] = score_records([record], params.gate)
    return {key: scored[key] for key in ("score", "passed", "axes", "findings")}


# --- the command ----------------------------------------------------------------------------------------


def listen(host: str, port: int) -> socket.socket:
    """Bind before serving, so a taken port or a bad address is one clear line, not a server log."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"serve: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def run(params: Params, model: str | None = None, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    from distilloop.console import console

    serve = params.serve
    spec = model or serve.model
    if port is None and os.environ.get("SAGEMAKER_BIND_TO_PORT"):
        value = os.environ["SAGEMAKER_BIND_TO_PORT"]
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            raise UserError(f"SAGEMAKER_BIND_TO_PORT: not a port number (got {value!r})")
        port = int(value)
    host, port = host or serve.host, port or serve.port
    sock = listen(host, port)
    with console.status(f"loading {spec}"):
        backend = load_backend(spec, params)
    name = model_name(spec)
    console.print(
        f"serving [bold]{name}[/] ({backend.kind}, n_ctx {serve.n_ctx}, {threads(serve)} threads) on "
        f"http://{host}:{port}: GET /ping, POST /invocations, POST /v1/chat/completions, GET /v1/models",
        soft_wrap=True,
    )
    config = uvicorn.Config(
        create_app(backend, params, name),
        log_level="info",
        http=header_limited_h11(),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
    uvicorn.Server(config).run(sockets=[sock])


@cache
def header_limited_h11():
    """uvicorn's h11 protocol, answering headers that arrive in pieces and pass MAX_HEADER_BYTES (h11's
    limit on an incomplete event) with 431 where uvicorn says 400."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderLimitedH11(H11Protocol):
        draining = False

        def send_400_response(self, msg: str) -> None:
            if len(self.conn.trailing_data[0]) <= MAX_HEADER_BYTES:  # another bad request: uvicorn's 400
                return super().send_400_response(msg)
            body = json.dumps({"error": {"message": HEADERS_TOO_LARGE, "type": "invalid_request_error", "code": 431}})
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n{body}".encode()
            )
            # read and drop what the client still sends before closing: closing on unread data resets
            # the connection, and the reset can destroy this answer before the client reads it
            self.draining = True
            self.transport.write_eof()
            asyncio.get_running_loop().call_later(5.0, self.transport.close)

        def data_received(self, data: bytes) -> None:
            if not self.draining:
                super().data_received(data)

    return HeaderLimitedH11
