"""Prices and the budget of one run.

Each call reserves what it can cost at most: its request counted as one token per byte (byte-level BPE
tokens cover at least one byte), plus the reply tokens the call is allowed. A call is allowed
teacher.max_tokens while the budget has room for that; once it has not, a call is still sent when the
room left pays for the likely reply (the longest reply so far; max_tokens before any), with its
max_tokens lowered to what the room pays for. So a reply can never cost more than was reserved, the
cap is never exceeded (even by a server that always answers max_tokens), and a small cap is mostly
used instead of stopping once a worst case no longer fits. Afterwards the reservation is replaced by
the usage the server reported. Cache hits cost nothing.

Under concurrency, `admit` decides in input order what a sequential run would: item i is sent iff
it fits. A call that fits at full max_tokens while others are in flight fits in the sequential run too
(their actual costs are at most their reservations); any other decision waits until nothing is in
flight, when the ledger is where a sequential run's would be, and only a refusal then closes the
budget for every later item. So the same items are sent at every concurrency, with the same limits.
A billed empty reply is asked again once if the room left pays for it (`rebook`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from distilloop import UserError
from distilloop.config import Connection, Price

CHAT_OVERHEAD_TOKENS = 64  # role markers and template tokens around system + user prompt


def price_of(params: Connection, remote: bool) -> Price:
    price = params.prices.get(params.model)
    if price is not None:
        return price
    if remote:
        raise UserError(
            f"teacher.prices has no entry for model {params.model!r}: add "
            f"{{input_per_mtok: ..., output_per_mtok: ...}} (USD per million tokens; 0 for a free "
            f"local server) so correct.budget_usd can hold"
        )
    return Price(input_per_mtok=0.0, output_per_mtok=0.0)  # local models cost nothing per call


def cost(price: Price, input_tokens: int, output_tokens: int) -> float:
    return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1e6


@dataclass
class Grant:
    """A call admitted by the ledger: the reply tokens it may use and the USD reserved for it."""

    max_tokens: int
    reserved_usd: float


class Ledger:
    def __init__(self, price: Price, budget_usd: float, max_tokens: int):
        self.price = price
        self.budget_usd = budget_usd
        self.max_tokens = max_tokens
        self.spent_usd = 0.0
        self.reserved_usd = 0.0
        self.input_tokens = 0
        self.output_tokens = 0
        self.longest_reply = 0  # tokens of the longest reply so far: what the next one likely needs
        self.lock = threading.Condition()
        self.in_flight = 0
        self.turn = 0  # the index of the next item `admit` decides
        self.closed = False  # an item did not fit with nothing in flight: no later item is sent

    def request_tokens(self, system: str, prompt: str) -> int:
        """At least the request's input tokens: one per byte, plus the chat template's."""
        return len(system.encode()) + len(prompt.encode()) + CHAT_OVERHEAD_TOKENS

    def estimate(self, system: str, prompt: str) -> float:
        """The most a call at full max_tokens can cost."""
        return cost(self.price, self.request_tokens(system, prompt), self.max_tokens)

    def likely_reply_tokens(self) -> int:
        return min(self.max_tokens, self.longest_reply or self.max_tokens)

    def reserve(self, estimate: float) -> bool:
        with self.lock:
            if self.closed or self.spent_usd + self.reserved_usd + estimate > self.budget_usd + 1e-12:
                return False
            self.reserved_usd += estimate
            self.in_flight += 1
            return True

    def _affordable_reply_tokens(self, input_tokens: int) -> int:
        """Reply tokens the budget not yet spent or reserved pays for after this request's input."""
        room = self.budget_usd - self.spent_usd - self.reserved_usd - cost(self.price, input_tokens, 0)
        if room < -1e-12:
            return -1
        if self.price.output_per_mtok <= 0:
            return self.max_tokens
        return min(self.max_tokens, math.floor(room * 1e6 / self.price.output_per_mtok + 1e-9))

    def _grant(self, input_tokens: int, full_only: bool) -> Grant | None:
        if self.closed:
            return None
        tokens = self._affordable_reply_tokens(input_tokens)
        if tokens < self.max_tokens and (full_only or tokens < max(1, self.likely_reply_tokens())):
            return None
        grant = Grant(tokens, cost(self.price, input_tokens, tokens))
        self.reserved_usd += grant.reserved_usd
        self.in_flight += 1
        return grant

    def begin_run(self) -> None:
        """Item indices count from 0 in every run; spend, reservations and a closed budget carry over."""
        with self.lock:
            self.turn = 0

    def admit(self, index: int, input_tokens: int | None) -> Grant | None:
        """Item `index`'s decision, taken after every earlier item's; `input_tokens` None passes the turn
        (a cache hit, a stopped run). A Grant: reserved, the call may go with its max_tokens."""
        with self.lock:
            self.lock.wait_for(lambda: self.turn == index)
            try:
                if input_tokens is None:
                    return None
                while True:
                    # with calls in flight only a full grant is what a sequential run would give for sure
                    grant = self._grant(input_tokens, full_only=self.in_flight > 0)
                    if grant is not None:
                        return grant
                    if self.closed or self.in_flight == 0:
                        self.closed = True
                        return None
                    self.lock.wait()  # earlier calls still hold reservations: wait for one to settle
            finally:
                self.turn += 1
                self.lock.notify_all()

    def finish_turn(self, index: int) -> None:
        """Pass item `index`'s turn if it never took it (it failed before asking), so later items go on."""
        with self.lock:
            if self.turn <= index:
                self.lock.wait_for(lambda: self.turn == index)
                self.turn += 1
                self.lock.notify_all()

    def rebook(self, grant: Grant, input_tokens: int, output_tokens: int) -> float | None:
        """Book a billed attempt that gave nothing (an empty reply) and keep the grant's reservation for
        one more attempt: the cost booked, or None (nothing booked) when the room left cannot pay it."""
        actual = cost(self.price, input_tokens, output_tokens)
        with self.lock:
            if self.spent_usd + self.reserved_usd + actual > self.budget_usd + 1e-12:
                return None
            self._book(input_tokens, output_tokens, actual)
            return actual

    def settle(self, reserved_usd: float, input_tokens: int = 0, output_tokens: int = 0) -> float:
        """Book a finished call (a failed one books what the server reported, usually nothing) and release
        its reservation."""
        actual = cost(self.price, input_tokens, output_tokens)
        with self.lock:
            self.reserved_usd -= reserved_usd
            self.in_flight -= 1
            self._book(input_tokens, output_tokens, actual)
            self.lock.notify_all()
        return actual

    def _book(self, input_tokens: int, output_tokens: int, actual: float) -> None:
        self.spent_usd += actual
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.longest_reply = max(self.longest_reply, output_tokens)
