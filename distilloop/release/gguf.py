"""llama.cpp tooling: HF -> GGUF conversion, quantisation, and the Ollama Modelfile.

The converter is llama.cpp's own convert_hf_to_gguf.py, vendored in llama-cpp-python's sdist and
extracted by `make setup` to .venv/share/llama.cpp (the wheel does not ship it). Quantisation goes
through llama-cpp-python's binding of llama_model_quantize, which makes K-quants (the PyPI gguf
package cannot); it needs an f16/f32 input.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from distilloop import UserError

CONVERTER_DIR = Path(sys.prefix) / "share" / "llama.cpp"
FTYPES = {
    "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
    "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M",
    "q5_k_m": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
    "q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0",
}


def convert_hf_to_gguf(model_dir: Path, out_file: Path, outtype: str = "f16") -> Path:
    script = CONVERTER_DIR / "convert_hf_to_gguf.py"
    if not script.exists():
        raise UserError(f"{script}: llama.cpp's converter is missing; run `make setup`")
    # The vendored gguf-py matches the converter; it goes first on the path.
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(CONVERTER_DIR / "gguf-py"), str(CONVERTER_DIR)]), NO_LOCAL_GGUF=""
    )
    result = subprocess.run(
        [sys.executable, str(script), str(model_dir), "--outfile", str(out_file), "--outtype", outtype],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not out_file.exists():
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise UserError(f"GGUF conversion of {model_dir} failed: {lines[-1] if lines else result.returncode}")
    return out_file


def quantize(source: Path, out_file: Path, kind: str, threads: int = 0) -> Path:
    import llama_cpp

    if kind not in FTYPES:
        raise UserError(f"quantise: unknown type {kind!r} (allowed: f16, {', '.join(FTYPES)})")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, FTYPES[kind])
    params.nthread = threads or len(os.sched_getaffinity(0))
    output: list[str] = []
    with native_output_to(out_file.with_suffix(".log"), output):
        code = llama_cpp.llama_model_quantize(str(source).encode(), str(out_file).encode(), ctypes.byref(params))
    if code != 0 or not out_file.exists():
        lines = [line for line in "".join(output).splitlines() if line.strip()]
        raise UserError(
            f"quantise: llama_model_quantize {kind} of {source} failed (code {code})"
            + (f": {lines[-1]}" if lines else "")
        )
    return out_file


@contextmanager
def native_output_to(path: Path, output: list[str]):
    """llama.cpp's C code prints a line per tensor to stdout/stderr: send both file descriptors to `path`
    for the duration, then append what was printed to `output` and remove the file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with open(path, "wb") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                yield path
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
        output.append(path.read_text(errors="replace"))
    finally:
        os.close(saved[0])
        os.close(saved[1])
        path.unlink(missing_ok=True)


def chatml_template() -> str:
    """The Ollama (Go template) form of the ChatML chat template that SmolLM2 and many small models use."""
    return (
        "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
        "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
        "<|im_start|>assistant\n"
    )


def modelfile(
    gguf_name: str,
    system: str | None,
    stop: list[str],
    temperature: float,
    num_ctx: int,
    repeat_penalty: float,
    repeat_last_n: int = 64,
) -> str:
    lines = [f"FROM ./{gguf_name}", f'TEMPLATE """{chatml_template()}"""']
    if system:
        lines.append(f'SYSTEM """{system}"""')
    lines += [f'PARAMETER stop "{token}"' for token in stop]
    lines += [
        f"PARAMETER temperature {temperature:g}",
        f"PARAMETER num_ctx {num_ctx}",
        f"PARAMETER repeat_penalty {repeat_penalty:g}",
        f"PARAMETER repeat_last_n {repeat_last_n}",
    ]
    return "\n".join(lines) + "\n"


# --- answering with a GGUF ---------------------------------------------------------------------------


def load_gguf(path: Path, n_ctx: int, threads: int = 0):
    """A llama.cpp model ready for chat completions (its chat template comes from the GGUF)."""
    try:
        from llama_cpp import Llama
    except ImportError:
        raise UserError("llama-cpp-python is not installed: run `make setup`") from None
    if not Path(path).is_file():
        raise UserError(f"{path}: GGUF file not found")
    try:
        return Llama(
            model_path=str(path), n_ctx=n_ctx, n_threads=threads or len(os.sched_getaffinity(0)), verbose=False
        )
    except (ValueError, RuntimeError) as exc:
        raise UserError(f"{path}: cannot load the GGUF: {exc}") from None


def chat_prompt_tokens(llm, prompt: str, system: str | None) -> list[int]:
    """One user turn rendered by the GGUF's own chat template (as transformers renders the same template
    for the engine, and create_chat_completion would), tokenised; a model without a template gets the
    plain prompt, as the engine gives it."""
    from llama_cpp import llama_chat_format

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False)
    text_of = lambda token: llm._model.token_get_text(token) if token != -1 else ""  # noqa: E731
    formatter = llama_chat_format.Jinja2ChatFormatter(
        template=template, eos_token=text_of(llm.token_eos()), bos_token=text_of(llm.token_bos())
    )
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    rendered = formatter(messages=messages)
    return llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)


def chat(
    llm,
    prompt: str,
    system: str | None,
    max_tokens: int,
    temperature: float = 0.0,
    repeat_penalty: float = 1.0,
    seed: int = 0,
    repeat_last_n: int = 64,
    no_repeat_ngram_size: int = 0,
    task: str | None = None,
) -> dict:
    """One user turn -> {"text", "prompt_tokens", "tokens", "truncated", "seconds"}, under the decoding
    rules of distilloop/student/decoding.py and the stop rule of `task` (distilloop/student/stopping.py): the answer ends at the
    end-of-sequence token, when it is complete (no token generated after it), or at `max_tokens`
    (truncated). llama-cpp-python's own repetition penalty already covers only the latest
    `last_n_tokens_size` sampled tokens, never the prompt. Sampling with temperature > 0 draws from the
    whole distribution, as the engine does (no top-k/top-p/min-p)."""
    import time

    import llama_cpp

    from distilloop.student.decoding import NgramBlocker
    from distilloop.student.stopping import TokenPieces, answer_end

    started = time.perf_counter()
    prompt_tokens = chat_prompt_tokens(llm, prompt, system)
    room = llm.n_ctx() - len(prompt_tokens)
    if room <= 0:  # the wording create_completion uses, which callers recognise
        raise ValueError(f"Requested tokens ({len(prompt_tokens)}) exceed context window of {llm.n_ctx()}")
    budget = min(max_tokens, room)
    blocker = NgramBlocker(no_repeat_ngram_size)

    def block_ngrams(_input_ids, logits):
        banned = sorted(blocker.banned())
        if banned:
            logits[banned] = -float("inf")
        return logits

    llm.last_n_tokens_size = repeat_last_n  # read when generate() builds its sampler
    llm.set_seed(seed)
    end, pieces = answer_end(task), TokenPieces(lambda token: llm.detokenize([token]).decode("utf-8", "replace"))
    tokens, stopped = [], False
    for token in llm.generate(
        prompt_tokens,
        temp=temperature,
        top_k=0,
        top_p=1.0,
        min_p=0.0,
        repeat_penalty=repeat_penalty if repeat_last_n else 1.0,
        logits_processor=[block_ngrams] if no_repeat_ngram_size else None,
    ):
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
            stopped = True
            break
        tokens.append(token)
        blocker.add(token)
        if end.feed(pieces(token)):
            stopped = True  # complete: the token just taken is the answer's last
            break
        if len(tokens) >= budget:
            break
    text = llm.detokenize(tokens).decode("utf-8", errors="ignore")
    return {
        "text": text,
        "prompt_tokens": len(prompt_tokens),
        "tokens": len(tokens),
        "truncated": not stopped and len(tokens) >= budget,
        "seconds": time.perf_counter() - started,
    }


def chat_many(
    llm,
    prompts: list[str],
    system: str | None,
    budgets: list[int],
    tasks: list[str | None],
    repeat_penalty: float = 1.0,
    repeat_last_n: int = 64,
    parallel: int = 8,
    on_answer=None,
    share_opening: bool = True,
) -> list[dict]:
    """Greedy answers to many prompts, `parallel` sequences decoded together in one llama.cpp context
    (one forward pass per step for all of them), each under the rules of `chat`: the same prompt
    rendering, repetition penalty over its own last `repeat_last_n` generated tokens (applied here, as
    llama.cpp's penalties sampler does), stop when complete or at its budget. The prompts' common opening
    is prefilled once (`share_opening`). Returns `chat`'s dicts in order, plus "shared_prompt_tokens";
    "seconds" is each answer's share of the wall time. `on_answer(index)` is called as each ends."""
    import time

    import llama_cpp
    import numpy as np

    from distilloop.student.stopping import TokenPieces, answer_end

    started = time.perf_counter()
    encoded = [chat_prompt_tokens(llm, prompt, system) for prompt in prompts]
    parallel = max(1, min(parallel, len(prompts)))
    per_sequence = max((len(ids) + budget for ids, budget in zip(encoded, budgets)), default=1)
    if per_sequence > llm.n_ctx():
        longest = max(len(ids) for ids in encoded)
        raise ValueError(f"Requested tokens ({longest}) exceed context window of {llm.n_ctx()}")
    # The prompts' common opening (chat template, system prompt, the task's instructions) is prefilled once,
    # into an extra sequence that every prompt's sequence then starts from: kv_unified shares those cells.
    shared = (
        min(len(os.path.commonprefix(encoded)), min(len(ids) for ids in encoded) - 1)
        if share_opening and encoded
        else 0
    )
    opening = parallel  # the shared opening's sequence id
    settings = llama_cpp.llama_context_default_params()
    settings.n_ctx = per_sequence * parallel + shared
    settings.n_batch = settings.n_ubatch = max(512, max(len(ids) for ids in encoded))
    settings.n_seq_max, settings.kv_unified = parallel + 1, True
    settings.n_threads = settings.n_threads_batch = llm.context_params.n_threads
    context = llama_cpp.llama_init_from_model(llm._model.model, settings)
    if not context:
        raise ValueError("llama.cpp could not make a context for batched answering")
    batch = llama_cpp.llama_batch_init(settings.n_batch, 0, 1)
    vocab, n_vocab = llm._model.vocab, llm.n_vocab()
    pieces = TokenPieces(lambda token: llm.detokenize([token]).decode("utf-8", "replace"))
    results: list[dict | None] = [None] * len(prompts)

    def decode(entries: list[tuple[int, int, int, bool]]) -> None:
        """entries: (token, position, sequence, wants logits)."""
        batch.n_tokens = len(entries)
        for i, (token, position, sequence, logits) in enumerate(entries):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, position, 1, logits
            batch.seq_id[i][0] = sequence
        if llama_cpp.llama_decode(context, batch) != 0:
            raise ValueError("llama.cpp failed to decode a batch")

    def next_token(row: int, state: dict) -> int:
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(context, row), shape=(n_vocab,)).copy()
        recent = sorted(set(state["tokens"][-repeat_last_n:])) if repeat_last_n and repeat_penalty != 1.0 else []
        if recent:
            picked = logits[recent]
            logits[recent] = np.where(
                picked <= 0, picked * np.float32(repeat_penalty), picked / np.float32(repeat_penalty)
            )
        return int(np.argmax(logits))

    try:
        waiting = list(range(len(prompts)))
        slots: dict[int, dict] = {}  # sequence id -> the answer it holds
        memory = llama_cpp.llama_get_memory(context)
        if shared:
            decode([(token, position, opening, False) for position, token in enumerate(encoded[0][:shared])])
        while waiting or slots:
            for sequence in range(parallel):  # fill free sequences, each prompt's own part prefilled alone
                if sequence in slots or not waiting:
                    continue
                index = waiting.pop(0)
                ids = encoded[index]
                llama_cpp.llama_memory_seq_rm(memory, sequence, -1, -1)
                if shared:
                    llama_cpp.llama_memory_seq_cp(memory, opening, sequence, -1, -1)
                decode(
                    [
                        (ids[position], position, sequence, position == len(ids) - 1)
                        for position in range(shared, len(ids))
                    ]
                )
                state = {
                    "index": index,
                    "position": len(ids),
                    "tokens": [],
                    "end": answer_end(tasks[index]),
                    "stopped": False,
                }
                state["next"] = next_token(len(ids) - shared - 1, state)  # the batch row of the last token
                slots[sequence] = state
            for sequence, state in list(slots.items()):  # take each sequence's token; finished ones leave
                token = state["next"]
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    state["stopped"] = True
                else:
                    state["tokens"].append(token)
                    state["stopped"] = state["end"].feed(pieces(token))
                if state["stopped"] or len(state["tokens"]) >= budgets[state["index"]]:
                    tokens = state["tokens"]
                    results[state["index"]] = {
                        "text": llm.detokenize(tokens).decode("utf-8", errors="ignore"),
                        "prompt_tokens": len(encoded[state["index"]]),
                        "shared_prompt_tokens": shared,  # prefilled once for all prompts
                        "tokens": len(tokens),
                        "truncated": not state["stopped"] and len(tokens) >= budgets[state["index"]],
                    }
                    del slots[sequence]
                    if on_answer:
                        on_answer(state["index"])
            if not slots:
                continue
            live = list(slots.items())
            decode([(state["next"], state["position"], sequence, True) for sequence, state in live])
            for row, (_sequence, state) in enumerate(live):
                state["position"] += 1
                state["next"] = next_token(row, state)
    finally:
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(context)
    seconds = (time.perf_counter() - started) / max(1, len(prompts))
    return [{**result, "seconds": seconds} for result in results]
