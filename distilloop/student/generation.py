"""Batched generation for the student (and the `hf` teacher): prompts prefilled one at a time, answers
decoded together.

Why not `model.generate` on a left-padded batch: the prompts here are long (the seed's C tasks render to
160-580 tokens) and the answers a few hundred, so the prefill of 32 rows padded to the longest prompt
cost more than all the decoding (51 s of 81 s for 32 of the seed prompts). Here each prompt is prefilled
alone, unpadded, computing logits for its last position only; its keys and values are copied into a
preallocated (static) cache, left-aligned to the batch's longest prompt; then every row decodes one
token per step. A row ends at its end-of-sequence token, when its answer is complete for its task
(distilloop/student/stopping.py: no token is generated after a closed JSON object or a closed code fence), or at its
task's token budget (truncated). Rows that finish are dropped from the batch once a quarter of it is
done, so short answers stop costing compute. The decoding rules are distilloop/student/decoding.py's (repetition
penalty over the last `repeat_last_n` generated tokens, as llama.cpp applies it). Greedy answers equal
one-at-a-time `model.generate` answers under the same rules (tests/test_student.py). The cache holds
batch_size x (longest prompt + budget) positions per layer: for a large model, lower student.batch_size.

Public API:
    render_prompts(tokenizer, prompts, params) -> list[str]
    generate(model, tokenizer, prompts, params, tasks=None) -> list[Generation]
    answer_records(records, model, tokenizer, params) -> records + "output", "truncated", "gen"
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

from distilloop.config import StudentParams
from distilloop.console import progress
from distilloop.student.decoding import NgramBlocker
from distilloop.student.stopping import AnswerEnd, TokenPieces, answer_end


@dataclass
class Generation:
    text: str
    tokens: int  # new tokens, the end-of-sequence token not counted
    seconds: float  # this prompt's share of its batch's wall time
    truncated: bool  # stopped by its token budget, not by the end-of-sequence token or a complete answer
    ids: list[int] = field(default_factory=list, repr=False)  # the new token ids (what RL trains on), eos not included


def render_prompts(tokenizer, prompts: list[str], params: StudentParams) -> list[str]:
    """Each prompt as one user turn in the model's chat template, ready for the assistant's answer."""
    if not getattr(tokenizer, "chat_template", None):
        return list(prompts)  # a base model without a template answers the plain prompt
    system = [{"role": "system", "content": params.system_prompt}] if params.system_prompt else []
    return [
        tokenizer.apply_chat_template(
            [*system, {"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
        for prompt in prompts
    ]


def generate(
    model,
    tokenizer,
    prompts: list[str],
    params: StudentParams,
    description: str = "generate",
    tasks: list[str | None] | None = None,
) -> list[Generation]:
    """Answer every prompt; returns one Generation per prompt, in order. `tasks` (one per prompt, or None)
    picks each answer's stop rule and token budget (params.token_budget).

    Prompts are sorted by length and answered `batch_size` at a time (similar lengths waste less cache);
    order is restored at the end."""
    import torch
    from rich.progress import TextColumn

    texts = render_prompts(tokenizer, prompts, params)
    templated = bool(getattr(tokenizer, "chat_template", None))  # a chat template adds its own special tokens
    encoded = [tokenizer(text, add_special_tokens=not templated)["input_ids"] for text in texts]
    order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
    eos_ids = _eos_ids(model, tokenizer)
    device = model.device  # every tensor the engine makes lives where the model does (CPU, CUDA, MPS)
    sampler = torch.Generator(device=device).manual_seed(params.seed)
    tasks = list(tasks) if tasks is not None else [None] * len(texts)
    budgets = [params.token_budget(task) for task in tasks]
    pieces = TokenPieces(lambda token: tokenizer.decode([token]))

    results: list[Generation | None] = [None] * len(texts)
    done_tokens, started = 0, time.perf_counter()
    with progress(TextColumn("{task.fields[rate]} tok/s")) as bar:
        task = bar.add_task(description, total=len(texts), rate="-")
        for start in range(0, len(order), params.batch_size):
            batch = order[start : start + params.batch_size]
            batch_started = time.perf_counter()
            answers = _decode_batch(
                model,
                [encoded[i] for i in batch],
                params,
                eos_ids,
                sampler,
                [budgets[i] for i in batch],
                [answer_end(tasks[i]) for i in batch],
                pieces,
            )
            seconds = (time.perf_counter() - batch_started) / len(batch)
            for index, (tokens, stopped) in zip(batch, answers):
                results[index] = Generation(
                    text=tokenizer.decode(tokens, skip_special_tokens=True),
                    tokens=len(tokens),
                    seconds=round(seconds, 4),
                    truncated=not stopped and len(tokens) >= budgets[index],
                    ids=list(tokens),
                )
                done_tokens += len(tokens)
            bar.update(task, advance=len(batch), rate=f"{done_tokens / (time.perf_counter() - started):.0f}")
    return results


def _eos_ids(model, tokenizer) -> list[int]:
    ids = model.generation_config.eos_token_id
    ids = list(ids) if isinstance(ids, (list, tuple)) else [ids] if ids is not None else []
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


def _decode_batch(
    model,
    prompts: list[list[int]],
    params: StudentParams,
    eos_ids: list[int],
    sampler,
    budgets: list[int],
    ends: list[AnswerEnd],
    pieces: TokenPieces,
) -> list[tuple[list[int], bool]]:
    """(new tokens without the end-of-sequence token, stopped by it or by a complete answer) for each
    prompt of one batch."""
    import torch
    from transformers.cache_utils import Cache

    rows, longest, budget = len(prompts), max(len(ids) for ids in prompts), max(budgets)
    tracked = any(type(end) is not AnswerEnd for end in ends)  # rows whose answers can complete early
    layers = model.config.get_text_config(decoder=True).num_hidden_layers
    cache = Cache(layers=[_filled_layer_class()(max_cache_len=longest + budget) for _ in range(layers)])
    device = model.device
    mask = torch.zeros(rows, longest + budget, dtype=torch.long, device=device)
    logits = []
    with torch.inference_mode():
        for row, ids in enumerate(prompts):
            out = model(input_ids=torch.tensor([ids], device=device), use_cache=True, logits_to_keep=1)
            logits.append(out.logits[0, -1].float())
            for layer, prefilled in zip(cache.layers, out.past_key_values.layers):
                if not layer.is_initialized:  # allocate [rows, heads, longest + budget, head_dim], zeroed
                    layer.lazy_initialization(
                        prefilled.keys.expand(rows, -1, -1, -1), prefilled.values.expand(rows, -1, -1, -1)
                    )
                layer.keys[row, :, longest - len(ids) : longest] = prefilled.keys[0]
                layer.values[row, :, longest - len(ids) : longest] = prefilled.values[0]
            mask[row, longest - len(ids) : longest] = 1
        for layer in cache.layers:
            layer.cumulative_length.fill_(longest)
        logits = torch.stack(logits)

        active = list(range(rows))  # prompt index of each row still in the batch
        positions = torch.tensor([len(ids) for ids in prompts], device=device)  # next position of each row
        answers: list[list[int]] = [[] for _ in prompts]
        rules = _Rules(answers, params)
        stopped = [False] * rows  # by the end-of-sequence token or a complete answer

        def done(index: int) -> bool:
            return stopped[index] or len(answers[index]) >= budgets[index]

        for step in range(budget):
            tokens = rules.choose(logits, active, sampler)
            for index, token in zip(active, tokens):
                if done(index):
                    continue
                if token in eos_ids:
                    stopped[index] = True
                else:
                    answers[index].append(token)
                    rules.add(index, token)
                    if tracked and ends[index].feed(pieces(token)):
                        stopped[index] = True
            live = [row for row, index in enumerate(active) if not done(index)]
            if not live:
                break
            if (len(active) - len(live)) * 4 >= len(active):  # drop the finished rows: the copy pays for itself
                _keep_rows(cache, live)
                mask, positions = mask[live], positions[live]
                tokens, active = [tokens[row] for row in live], [active[row] for row in live]
            mask[:, longest + step] = 1
            out = model(
                input_ids=torch.tensor(tokens, device=device)[:, None],
                attention_mask=mask[:, : longest + step + 1],
                position_ids=positions[:, None],
                cache_position=torch.tensor([longest + step], device=device),
                past_key_values=cache,
                use_cache=True,
            )
            logits = out.logits[:, -1].float()
            positions = positions + 1
    return list(zip(answers, stopped))


@functools.cache
def _filled_layer_class():
    """A preallocated cache layer whose attention reads only the positions written so far. transformers'
    StaticLayer hands attention its whole capacity, masked (fixed shapes for torch.compile), which here
    would read up to max_new_tokens unwritten positions of every row at every step. Every layer is a
    full-attention layer: a model's sliding window would only matter beyond its (thousands of tokens) span."""
    from transformers.cache_utils import StaticLayer

    class FilledLayer(StaticLayer):
        def update(self, key_states, value_states, *args, **kwargs):
            keys, values = super().update(key_states, value_states, *args, **kwargs)
            filled = int(self.cumulative_length)
            return keys[:, :, :filled], values[:, :, :filled]

        def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
            return int(self.cumulative_length) + query_length, 0

    return FilledLayer


def _keep_rows(cache, keep: list[int]) -> None:
    import torch

    index = torch.tensor(keep, device=cache.layers[0].keys.device)
    for layer in cache.layers:
        layer.keys, layer.values = layer.keys[index], layer.values[index]
        layer.batch_size = len(keep)


class _Rules:
    """The decoding rules of params.student (distilloop/student/decoding.py), batched: repetition penalty over each
    row's last `repeat_last_n` generated tokens, n-gram blocking over its generated tokens, then greedy
    or temperature sampling."""

    def __init__(self, answers: list[list[int]], params: StudentParams):
        self.params = params
        self.window = params.repeat_last_n if params.repetition_penalty != 1.0 else 0
        self.answers = answers  # each row's generated tokens, appended to by the decoding loop
        self.blockers = (
            [NgramBlocker(params.no_repeat_ngram_size) for _ in answers] if params.no_repeat_ngram_size else None
        )

    def add(self, row: int, token: int) -> None:
        """`token` was just appended to row's answer."""
        if self.blockers is not None:
            self.blockers[row].add(token)

    def choose(self, logits, active: list[int], sampler) -> list[int]:
        import torch

        if self.window:
            # gather each row's window (at most repeat_last_n ids), penalise, scatter back: a token repeated in
            # the window is written twice with the same value, so each distinct token is penalised once
            windows = [self.answers[index][-self.window :] for index in active]
            width = max(map(len, windows))
            if width:
                ids = torch.tensor([w + [w[0] if w else 0] * (width - len(w)) for w in windows], device=logits.device)
                empty = torch.tensor([not w for w in windows], device=logits.device)[:, None]
                picked = logits.gather(1, ids)
                penalty = self.params.repetition_penalty
                penalised = torch.where(picked <= 0, picked * penalty, picked / penalty)
                logits = logits.scatter(1, ids, torch.where(empty, picked, penalised))
        if self.blockers is not None:
            for row, index in enumerate(active):
                banned = self.blockers[index].banned()
                if banned:
                    logits[row, sorted(banned)] = float("-inf")
        if self.params.temperature > 0:
            probabilities = torch.softmax(logits / self.params.temperature, dim=-1)
            return torch.multinomial(probabilities, 1, generator=sampler)[:, 0].tolist()
        return logits.argmax(dim=-1).tolist()


def answer_records(
    records: list[dict], model, tokenizer, params: StudentParams, description: str = "answer"
) -> list[dict]:
    """Each record plus "output", "truncated" and "gen": {"tokens", "seconds"} (the scored-record fields
    that come from generation), in order."""
    generations = generate(
        model,
        tokenizer,
        [record["prompt"] for record in records],
        params,
        description,
        tasks=[record.get("task") for record in records],
    )
    return [
        {**record, "output": g.text, "truncated": g.truncated, "gen": {"tokens": g.tokens, "seconds": g.seconds}}
        for record, g in zip(records, generations)
    ]
