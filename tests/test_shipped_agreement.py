"""What the pipeline reports is what ships: the generation engine (transformers, float32) and the f16 GGUF
of the same weights (llama.cpp) give the same greedy answers under the shared decoding and stop rules,
on the bundled SmolLM2-135M student and bundled prompts of both tasks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from distilloop.config import DEFAULT_TEMPLATES, StudentParams
from distilloop.release import gguf as llama_tools

pytestmark = pytest.mark.slow  # the real 135M student, converted twice
SEED_DIR = Path(__file__).resolve().parent.parent / "data" / "seed"


def bundled_prompts(per_task: int) -> list[tuple[str, str]]:
    """(task, prompt): the first profiles of the bundled source, rendered as export renders them, and the
    shortest bundled C tasks."""
    with open(SEED_DIR / "profiles.csv", encoding="utf-8") as handle:
        profiles = [DEFAULT_TEMPLATES["json_record"].format(**row) for row in list(csv.DictReader(handle))[:per_task]]
    tasks = [
        json.loads(line)
        for line in (SEED_DIR.parent.parent / "distilloop" / "data" / "c_tasks.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    c_prompts = sorted((task["prompt"] for task in tasks), key=len)[:per_task]
    return [("json_record", prompt) for prompt in profiles] + [("c_code", prompt) for prompt in c_prompts]


@pytest.fixture(scope="module")
def student_and_f16(tmp_path_factory):
    from distilloop.student.model import BUNDLED_STUDENT, materialise

    out = tmp_path_factory.mktemp("student")
    materialise(BUNDLED_STUDENT, out / "hf")
    f16 = llama_tools.convert_hf_to_gguf(out / "hf", out / "model-f16.gguf")
    return out / "hf", f16


def test_engine_and_f16_gguf_agree_on_greedy_answers(student_and_f16):
    from distilloop.student.generation import generate
    from distilloop.student.model import load_student

    hf_dir, f16 = student_and_f16
    params = StudentParams(max_new_tokens=40, batch_size=8, dtype="float32", repetition_penalty=1.1)
    tasks, prompts = zip(*bundled_prompts(8))
    model, tokenizer = load_student(hf_dir, None, params, threads=2)
    engine = generate(model, tokenizer, list(prompts), params, tasks=list(tasks))

    llm = llama_tools.load_gguf(f16, n_ctx=2048, threads=2)
    try:
        gguf = [
            llama_tools.chat(
                llm,
                prompt,
                params.system_prompt,
                params.token_budget(task),
                params.temperature,
                params.repetition_penalty,
                params.seed,
                params.repeat_last_n,
                task=task,
            )
            for task, prompt in zip(tasks, prompts)
        ]
    finally:
        llm.close()
    agree = [
        e.text == g["text"] and e.tokens == g["tokens"] and e.truncated == g["truncated"] for e, g in zip(engine, gguf)
    ]
    assert sum(agree) >= 0.9 * len(agree), [(e.text, g["text"]) for e, g, same in zip(engine, gguf, agree) if not same]
    assert len({e.text for e in engine}) > len(engine) // 2  # real, varied answers
