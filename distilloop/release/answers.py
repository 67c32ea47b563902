"""The merged model as GGUF files, and GGUF answers to export records (quantise scores them again).

Greedy answers are decoded `quantise.parallel` at a time in one llama.cpp context (gguf.chat_many);
sampling or n-gram blocking answers one prompt at a time, with the student's generation settings and stop
rules either way.
"""

from __future__ import annotations

from pathlib import Path

from distilloop.config import Params
from distilloop.console import progress
from distilloop.io import atomic_dir
from distilloop.release import gguf as llama_tools


def build_ggufs(merged_dir: Path, out_dir: Path, types: list[str], threads: int) -> dict[str, Path]:
    files = {}
    with atomic_dir(out_dir) as tmp:
        f16 = llama_tools.convert_hf_to_gguf(merged_dir, tmp / "model-f16.gguf")
        for kind in types:
            if kind != "f16":
                llama_tools.quantize(f16, tmp / f"model-{kind}.gguf", kind, threads)
        if "f16" not in types:
            f16.unlink()
    for kind in types:
        files[kind] = out_dir / f"model-{kind}.gguf"
    return files


def stop_tokens(merged_dir: Path) -> list[str]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    return [tokenizer.eos_token] if tokenizer.eos_token else []


def answer_with_gguf(records: list[dict], path: Path, params: Params, label: str) -> list[dict]:
    """Each record plus "output", "truncated" and "gen" from the GGUF model, in order. Greedy answers are
    decoded `quantise.parallel` at a time in one llama.cpp context; sampling or n-gram blocking (which
    the batched path does not implement) answers one prompt at a time."""
    student, config = params.student, params.quantise
    kinds = [record.get("task") for record in records]
    budgets = [student.token_budget(kind) for kind in kinds]
    llm = llama_tools.load_gguf(path, config.n_ctx, params.runtime.threads)
    try:
        with progress() as bar:
            task = bar.add_task(label, total=len(records))
            if config.parallel > 1 and student.temperature == 0 and not student.no_repeat_ngram_size:
                replies = llama_tools.chat_many(
                    llm,
                    [record["prompt"] for record in records],
                    student.system_prompt,
                    budgets,
                    kinds,
                    student.repetition_penalty,
                    student.repeat_last_n,
                    config.parallel,
                    on_answer=lambda _: bar.advance(task),
                )
            else:
                replies = []
                for record, kind, budget in zip(records, kinds, budgets):
                    replies.append(
                        llama_tools.chat(
                            llm,
                            record["prompt"],
                            student.system_prompt,
                            budget,
                            student.temperature,
                            student.repetition_penalty,
                            student.seed,
                            student.repeat_last_n,
                            student.no_repeat_ngram_size,
                            kind,
                        )
                    )
                    bar.advance(task)
    finally:
        llm.close()
    return [
        {
            **record,
            "output": reply["text"],
            "truncated": reply["truncated"],
            "gen": {"tokens": reply["tokens"], "seconds": round(reply["seconds"], 4)},
        }
        for record, reply in zip(records, replies)
    ]
