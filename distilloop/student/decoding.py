"""Decoding rules shared by every path that generates: the engine (distilloop/student/generation.py), llama.cpp
(distilloop/release/gguf.chat, serve's GGUF backend) and transformers' `generate` (serve's HF backend).

Repetition penalty, as llama.cpp applies it: over the last `repeat_last_n` GENERATED tokens only, each
distinct token once, a positive logit divided by the penalty and a negative one multiplied. The prompt is
never penalised: an answer that must copy a handle from its prompt would otherwise be pushed off it
(transformers' own `repetition_penalty` covers the prompt; with 1.1 it garbled the handles of the profile
task). llama-cpp-python 0.3.36 already works this way: each `generate` call starts a fresh penalty
sampler that only ever sees sampled tokens, its window `Llama.last_n_tokens_size` (tests/test_llama_tools.py).

N-gram blocking (`no_repeat_ngram_size`), likewise over the generated tokens only.

Public API:
    penalise(logits, token_ids, penalty)           # in place, torch; one row
    NgramBlocker(n)                                # .add(token), .banned() -> tokens that would repeat an n-gram
    logits_processors(prompt_length, ...) -> transformers LogitsProcessorList for `model.generate`
"""

from __future__ import annotations


def penalise(logits, token_ids, penalty: float):
    """Apply the repetition penalty to `logits` (one row, torch) at `token_ids` (distinct), in place."""
    import torch

    if penalty == 1.0 or not len(token_ids):
        return logits
    ids = torch.as_tensor(token_ids, dtype=torch.long, device=logits.device)
    picked = logits[ids]
    logits[ids] = torch.where(picked <= 0, picked * penalty, picked / penalty)
    return logits


class NgramBlocker:
    """The tokens that would complete an n-gram already present in the generated tokens."""

    def __init__(self, n: int):
        self.n = n
        self.history: list[int] = []
        self.followers: dict[tuple[int, ...], set[int]] = {}

    def add(self, token: int) -> None:
        self.history.append(token)
        if self.n and len(self.history) >= self.n:
            gram = self.history[-self.n :]
            self.followers.setdefault(tuple(gram[:-1]), set()).add(gram[-1])

    def banned(self) -> set[int]:
        if not self.n or len(self.history) < self.n - 1:
            return set()
        return self.followers.get(tuple(self.history[len(self.history) - self.n + 1 :]), set())


def logits_processors(prompt_length: int, repetition_penalty: float, repeat_last_n: int, no_repeat_ngram_size: int = 0):
    """These rules for transformers' `model.generate` on one unpadded prompt of `prompt_length` tokens
    (pass `repetition_penalty=1.0` and no `no_repeat_ngram_size` to generate itself)."""
    from transformers import LogitsProcessor, LogitsProcessorList

    class GeneratedTokensRules(LogitsProcessor):
        def __call__(self, input_ids, scores):
            scores = scores.clone()
            for row in range(input_ids.shape[0]):
                generated = input_ids[row, prompt_length:].tolist()
                if repeat_last_n:
                    penalise(scores[row], sorted(set(generated[-repeat_last_n:])), repetition_penalty)
                if no_repeat_ngram_size:
                    blocker = NgramBlocker(no_repeat_ngram_size)
                    for token in generated:
                        blocker.add(token)
                    banned = sorted(blocker.banned())
                    if banned:
                        scores[row, banned] = float("-inf")
            return scores

    return LogitsProcessorList([GeneratedTokensRules()])
