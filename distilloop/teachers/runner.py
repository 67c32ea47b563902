"""Run many teacher calls: cache first, then budget, then the call with retries, `concurrency` at once.

Every request ends as exactly one Outcome, in input order: a reply (fresh or from the cache), a
failure with its reason, or a skip (budget spent). A UserError in any call (bad credentials, server
unreachable from the start) stops the run after the calls in flight; what they cached is kept.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from rich.progress import TextColumn

from distilloop import UserError
from distilloop.config import Connection
from distilloop.console import progress
from distilloop.teachers import CallError, Reply, Request, Teacher, redact_url
from distilloop.teachers.cache import CallCache, cache_key
from distilloop.teachers.ledger import Ledger
from distilloop.teachers.retry import call_with_retries

FIGURES = TextColumn(
    "calls {task.fields[calls]}  cache hits {task.fields[hits]}  tokens {task.fields[tokens]}  ${task.fields[cost]:.4f}"
)


@dataclass
class Outcome:
    reply: Reply | None = None
    error: CallError | None = None
    cache_key: str | None = None
    cached: bool = False
    cost_usd: float = 0.0  # what the reply cost when it was made (also for a cache hit, which is free now)
    skipped: str | None = None  # "budget": never sent


class Runner:
    def __init__(self, teacher: Teacher, params: Connection, ledger: Ledger, cache: CallCache | None):
        self.teacher, self.params, self.ledger, self.cache = teacher, params, ledger, cache
        self.lock = threading.Lock()
        self.calls = self.cache_hits = self.successes = self.unreachable = self.empty_retries = 0
        self.budget_spent = False
        self.fatal: UserError | None = None

    def key(self, request: Request) -> str | None:
        teacher = self.teacher
        return (
            cache_key(teacher.backend, teacher.model, request.system, request.prompt, teacher.settings())
            if teacher.cached
            else None
        )

    def cached(self, key: str | None) -> Outcome | None:
        if key is not None and (hit := self.cache.get(key)) is not None:
            with self.lock:
                self.cache_hits += 1
            return Outcome(reply=hit[0], cache_key=key, cached=True, cost_usd=hit[1])
        return None

    def one(self, request: Request, index: int) -> Outcome:
        """Item `index` of the run (the ledger admits items in this order, as a sequential run would)."""
        teacher = self.teacher
        key = self.key(request)
        if (hit := self.cached(key)) is not None or self.fatal is not None:
            self.ledger.admit(index, None)
            return hit or Outcome(cache_key=key, skipped="stopped")
        # worst first: once one call does not fit the budget, no later (better-scored) item is sent
        grant = self.ledger.admit(index, self.ledger.request_tokens(request.system, request.prompt))
        if grant is None:
            self.budget_spent = True
            return Outcome(cache_key=key, skipped="budget")
        lowered = grant.max_tokens < self.params.max_tokens  # the budget's remainder pays for no more
        if lowered:
            request = replace(request, max_tokens=grant.max_tokens)
        with self.lock:
            self.calls += 1
        paid = 0.0  # for an empty reply asked again
        try:
            try:
                reply = self._call(request)
            except CallError as exc:
                # a billed empty reply is asked again once, if the budget still has room for it
                if exc.kind != "empty content" or (paid := self.ledger.rebook(grant, *exc.usage)) is None:
                    paid = 0.0
                    raise
                with self.lock:
                    self.empty_retries += 1
                reply = self._call(request)
        except CallError as exc:
            cost = paid + self.ledger.settle(grant.reserved_usd, *exc.usage)  # an empty answer may be billed
            exc.detail = teacher.redact(exc.detail)
            self._note_failure(exc)
            return Outcome(error=exc, cache_key=key, cost_usd=cost)
        except UserError as exc:
            self.ledger.settle(grant.reserved_usd)
            with self.lock:
                self.fatal = self.fatal or UserError(teacher.redact(str(exc)))
            return Outcome(cache_key=key, skipped="stopped", cost_usd=paid)
        cost = paid + self.ledger.settle(grant.reserved_usd, reply.input_tokens, reply.output_tokens)
        # a reply cut short by a lowered max_tokens is not what a full call answers: not cached
        if key is not None and not (lowered and reply.truncated):
            self.cache.put(key, teacher.backend, teacher.model, reply, cost)
        with self.lock:
            self.successes += 1
        return Outcome(reply=reply, cache_key=key, cost_usd=cost)

    def _call(self, request: Request) -> Reply:
        return call_with_retries(
            lambda: self.teacher.complete(request), self.params.max_retries, self.params.backoff_base_s
        )

    def _note_failure(self, exc: CallError) -> None:
        with self.lock:
            if exc.kind != "connection error" or self.successes:
                return
            self.unreachable += 1
            # every worker failed to connect and none ever succeeded: the server is down or the URL wrong
            if self.unreachable >= max(2, self._workers()) and self.fatal is None:
                where = redact_url(self.params.base_url) if self.params.base_url else "its default URL"
                self.fatal = UserError(
                    f"teacher {self.teacher.backend}: cannot reach the server at {where}: {exc.detail}"
                )

    def _workers(self) -> int:
        return min(self.params.concurrency, self.teacher.max_concurrency or self.params.concurrency)

    def run(self, requests: list[Request], description: str = "teacher") -> list[Outcome]:
        self.ledger.begin_run()  # a ledger shared by two runs would otherwise wait forever for turn 0
        if hasattr(self.teacher, "complete_many"):
            return self.run_batched(requests, description)
        outcomes: list[Outcome | None] = [None] * len(requests)
        with progress(FIGURES) as bar, ThreadPoolExecutor(max_workers=self._workers()) as pool:
            task = bar.add_task(description, total=len(requests), calls=0, hits=0, tokens=0, cost=0.0)

            def work(index: int) -> None:
                try:
                    outcomes[index] = self.one(requests[index], index)
                finally:
                    self.ledger.finish_turn(index)
                with self.lock:
                    self._show(bar, task, 1)

            futures = [pool.submit(work, index) for index in range(len(requests))]
            try:
                for future in futures:
                    future.result()
            except KeyboardInterrupt:  # finish the calls in flight (their answers are cached), start no more
                self.fatal = UserError("interrupted")
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if self.fatal is not None:
            raise self.fatal
        return outcomes

    def run_batched(self, requests: list[Request], description: str) -> list[Outcome]:
        """A local model that generates many prompts at once (hf): cache hits first, then batches of
        `concurrency` prompts, each batch cached as soon as it is done."""
        keys = [self.key(request) for request in requests]
        outcomes: list[Outcome | None] = [self.cached(key) for key in keys]
        misses = [index for index, outcome in enumerate(outcomes) if outcome is None]
        with progress(FIGURES) as bar:
            task = bar.add_task(description, total=len(requests), calls=0, hits=0, tokens=0, cost=0.0)
            self._show(bar, task, len(requests) - len(misses))
            for start in range(0, len(misses), self.params.concurrency):
                batch = []
                for index in misses[start : start + self.params.concurrency]:
                    estimate = self.ledger.estimate(requests[index].system, requests[index].prompt)
                    if self.budget_spent or not self.ledger.reserve(estimate):
                        self.budget_spent = True
                        outcomes[index] = Outcome(cache_key=keys[index], skipped="budget")
                    else:
                        batch.append((index, estimate))
                results = self.teacher.complete_many([requests[index] for index, _ in batch]) if batch else []
                self.calls += len(batch)
                for (index, estimate), result in zip(batch, results):
                    if isinstance(result, CallError):
                        cost = self.ledger.settle(estimate, *result.usage)
                        outcomes[index] = Outcome(error=result, cache_key=keys[index], cost_usd=cost)
                        continue
                    cost = self.ledger.settle(estimate, result.input_tokens, result.output_tokens)
                    if keys[index] is not None:
                        self.cache.put(keys[index], self.teacher.backend, self.teacher.model, result, cost)
                    outcomes[index] = Outcome(reply=result, cache_key=keys[index], cost_usd=cost)
                self._show(bar, task, len(misses[start : start + self.params.concurrency]))
        return outcomes

    def _show(self, bar, task, advance: int) -> None:
        bar.update(
            task,
            advance=advance,
            calls=self.calls,
            hits=self.cache_hits,
            tokens=self.ledger.input_tokens + self.ledger.output_tokens,
            cost=self.ledger.spent_usd,
        )
