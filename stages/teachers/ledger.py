"""Prices and the budget of one run.

Before a call the ledger reserves a worst-case cost: every byte of the request counted as a token
(byte-level BPE tokens cover at least one byte) plus max_tokens of output. A call is made only when
spend + reservations + that estimate stays within budget_usd; afterwards the reservation is replaced
by the actual usage the server reported. Cache hits cost nothing.
"""

from __future__ import annotations

import threading

from stages import UserError
from stages.params import Price, TeacherParams

CHAT_OVERHEAD_TOKENS = 64  # role markers and template tokens around system + user prompt


def price_of(params: TeacherParams, remote: bool) -> Price:
    price = params.prices.get(params.model)
    if price is not None:
        return price
    if remote:
        raise UserError(f"teacher.prices has no entry for model {params.model!r}: add "
                        f"{{input_per_mtok: ..., output_per_mtok: ...}} (USD per million tokens; 0 for a free "
                        f"local server) so correct.budget_usd can hold")
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
        self.lock = threading.Lock()

    def estimate(self, system: str, prompt: str) -> float:
        request_tokens = len(system.encode()) + len(prompt.encode()) + CHAT_OVERHEAD_TOKENS
        return cost(self.price, request_tokens, self.max_tokens)

    def reserve(self, estimate: float) -> bool:
        with self.lock:
            if self.spent_usd + self.reserved_usd + estimate > self.budget_usd + 1e-12:
                return False
            self.reserved_usd += estimate
            return True

    def settle(self, estimate: float, input_tokens: int = 0, output_tokens: int = 0) -> float:
        """Book a finished call (a failed one books what the server reported, usually nothing)."""
        actual = cost(self.price, input_tokens, output_tokens)
        with self.lock:
            self.reserved_usd -= estimate
            self.spent_usd += actual
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
        return actual
