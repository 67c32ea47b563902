"""The one retry policy of every remote backend, and the HTTP call they share.

Retryable: 429, 408, 5xx (and 529 "overloaded"), timeouts, dropped connections, malformed bodies.
Delays grow as backoff_base_s * 2**attempt with jitter (half to full), so concurrent workers that hit
a limit together do not come back together; a server's Retry-After is a floor, never shortened.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable

import httpx

from distilloop import UserError
from distilloop.teachers import CallError

MAX_DELAY_S = 120.0
ERROR_EXCERPT_CHARS = 200


def parse_retry_after(headers) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), else None."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def delay(attempt: int, base: float, retry_after: float | None, rng: Callable[[], float] = random.random) -> float:
    backoff = min(base * 2**attempt, MAX_DELAY_S) * (0.5 + rng() / 2)
    return min(max(backoff, retry_after or 0.0), MAX_DELAY_S * 5)


def call_with_retries(call: Callable, max_retries: int, backoff_base_s: float, sleep=time.sleep):
    """call() until it returns or raises a CallError that is final; the last error carries `attempts`."""
    attempt = 0
    while True:
        try:
            return call()
        except CallError as exc:
            exc.attempts = attempt + 1
            if not exc.retryable or attempt >= max_retries:
                raise
            sleep(delay(attempt, backoff_base_s, exc.retry_after))
            attempt += 1


def error_for_status(status: int, body: str, headers, secret: str | None = None) -> Exception:
    """The exception for a non-2xx answer: a CallError, or a UserError when no retry can help (auth)."""
    excerpt = " ".join(body.split())[:ERROR_EXCERPT_CHARS]
    if secret:
        excerpt = excerpt.replace(secret, "[redacted]")
    if status in (401, 403):
        return UserError(f"the teacher server refused the credentials (HTTP {status}): {excerpt}")
    retryable = status in (408, 409, 429) or status >= 500
    return CallError(f"http {status}", excerpt, retryable, parse_retry_after(headers))


def post_json(client: httpx.Client, url: str, body: dict, headers: dict, secret: str | None = None) -> dict:
    """POST a JSON body, return the JSON object answered; every failure becomes a CallError or UserError.
    Messages never include request headers, and `secret` is scrubbed from whatever the server echoes."""
    try:
        response = client.post(url, json=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise CallError("timeout", type(exc).__name__, retryable=True) from None
    except httpx.TransportError as exc:
        raise CallError("connection error", f"{type(exc).__name__} to {url}", retryable=True) from None
    if response.status_code // 100 != 2:
        raise error_for_status(response.status_code, response.text, response.headers, secret) from None
    try:
        value = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CallError("malformed response", f"not JSON: {exc}", retryable=True) from None
    except RecursionError:  # json.loads recurses: a body nested thousands deep is a bad answer, not a crash
        raise CallError("malformed response", "not JSON: nested too deeply", retryable=True) from None
    if not isinstance(value, dict):
        raise CallError("malformed response", f"a JSON {type(value).__name__}, not an object", retryable=True)
    return value


def http_client(timeout_s: float, concurrency: int) -> httpx.Client:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)), limits=limits)
