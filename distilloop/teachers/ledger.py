"""Prices and the budget of one run.

Before a call the ledger reserves a worst-case cost: every byte of the request counted as a token
(byte-level BPE tokens cover at least one byte) plus max_tokens of output. A call is made only when
spend + reservations + that estimate stays within budget_usd; afterwards the reservation is replaced
by the actual usage the server reported. Cache hits cost nothing.

Under concurrency, `admit` decides in input order what a sequential run would: item i is sent iff
the spend so far plus its estimate fits. When it does not fit only because earlier calls are still in
flight (their worst cases reserved), it waits for them to settle and asks again; only a refusal with
nothing in flight closes the budget for every later item. So the same items are sent at every
concurrency, and the spend reaches what a sequential run spends.
"""

from __future__ import annotations

import threading

from distilloop import UserError
from distilloop.config import Price, TeacherParams

CHAT_OVERHEAD_TOKENS = 64  # role markers and template tokens around system + user prompt


def price_of(params: TeacherParams, remote: bool) -> Price:
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


class Ledger:
    def __init__(self, price: Price, budget_usd: float, max_tokens: int):
        self.price = price
        self.budget_usd = budget_usd
        self.max_tokens = max_tokens
        self.spent_usd = 0.0
        self.reserved_usd = 0.0
        self.input_tokens = 0
        self.output_tokens = 0
        self.lock = threading.Condition()
        self.in_flight = 0
        self.turn = 0  # the index of the next item `admit` decides
        self.closed = False  # an item did not fit with nothing in flight: no later item is sent

    def estimate(self, system: str, prompt: str) -> float:
        request_tokens = len(system.encode()) + len(prompt.encode()) + CHAT_OVERHEAD_TOKENS
        return cost(self.price, request_tokens, self.max_tokens)

    def reserve(self, estimate: float) -> bool:
        with self.lock:
            return self._reserve(estimate)

    def _reserve(self, estimate: float) -> bool:
        if self.closed or self.spent_usd + self.reserved_usd + estimate > self.budget_usd + 1e-12:
            return False
        self.reserved_usd += estimate
        self.in_flight += 1
        return True

    def begin_run(self) -> None:
        """Item indices count from 0 in every run; spend, reservations and a closed budget carry over."""
        with self.lock:
            self.turn = 0

    def admit(self, index: int, estimate: float | None) -> bool:
        """Item `index`'s decision, taken after every earlier item's; `estimate` None passes the turn (a
        cache hit, a stopped run). True: reserved, the call may go."""
        with self.lock:
            self.lock.wait_for(lambda: self.turn == index)
            try:
                if estimate is None:
                    return False
                while not self._reserve(estimate):
                    if self.closed or self.in_flight == 0:
                        self.closed = True
                        return False
                    self.lock.wait()  # earlier calls still hold reservations: wait for one to settle
                return True
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

    def settle(self, estimate: float, input_tokens: int = 0, output_tokens: int = 0) -> float:
        """Book a finished call (a failed one books what the server reported, usually nothing)."""
        actual = cost(self.price, input_tokens, output_tokens)
        with self.lock:
            self.reserved_usd -= estimate
            self.in_flight -= 1
            self.spent_usd += actual
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
            self.lock.notify_all()
        return actual
