"""The `hf` teacher: a local transformers model through the student's batched generation, cached."""

from __future__ import annotations

import pytest

from distilloop import UserError
from distilloop.config import TeacherSettings
from distilloop.teachers import Request, make_teacher
from distilloop.teachers.cache import CallCache
from distilloop.teachers.ledger import Ledger, price_of
from distilloop.teachers.runner import Runner


def test_hf_teacher_answers_in_batches_and_is_cached(tiny_model_dir, tmp_path):
    # sampling (seeded): greedy decoding of the random tiny model emits only newlines
    params = TeacherSettings(
        backend="hf", model=str(tiny_model_dir), max_tokens=6, temperature=1.0, concurrency=2, threads=1
    )
    teacher = make_teacher(params)
    requests = [Request("You fix C code.", f"Fix function number {n}.", {}) for n in range(3)]

    def runner() -> Runner:
        return Runner(
            teacher,
            params,
            Ledger(price_of(params, teacher.remote), 0.0, params.max_tokens),
            CallCache(tmp_path / "cache.sqlite"),
        )

    first = runner()
    outcomes = first.run(requests)
    assert first.calls == 3 and first.cache_hits == 0
    assert all(o.reply and o.reply.text.strip() and 0 < o.reply.output_tokens <= 6 for o in outcomes)
    assert all(o.reply.input_tokens > 10 for o in outcomes)  # system + user turn in the chat template
    assert all(o.reply.truncated == (o.reply.output_tokens == 6) for o in outcomes)

    second = runner()
    again = second.run(requests)
    assert second.calls == 0 and second.cache_hits == 3
    assert [o.reply.text for o in again] == [o.reply.text for o in outcomes]


def test_hf_teacher_needs_a_model_directory(tmp_path):
    with pytest.raises(UserError, match="not a Hugging Face model directory"):
        make_teacher(TeacherSettings(backend="hf", model=str(tmp_path)))


def test_hf_teacher_whitespace_answer_is_a_failure_with_usage(tiny_model_dir, tmp_path):
    params = TeacherSettings(backend="hf", model=str(tiny_model_dir), max_tokens=4, concurrency=2, threads=1)
    teacher = make_teacher(params)
    (outcome,) = Runner(teacher, params, Ledger(price_of(params, False), 0.0, 4), CallCache(tmp_path / "c.sqlite")).run(
        [Request("s", "Fix it.", {})]
    )
    # greedy decoding of the random tiny model gives newlines only: not an answer, never cached
    assert outcome.reply is None and outcome.error.kind == "empty content"
    assert outcome.error.detail == "4 tokens of whitespace" and outcome.error.usage[1] == 4
    assert len(CallCache(tmp_path / "c.sqlite")) == 0


def test_hf_teacher_stops_when_the_answer_is_complete(reciting_dir, tmp_path):
    """The record's task decides where an answer ends: the tiny model recites text after a complete JSON
    object or a closed fence, and the teacher returns the answer without it (untracked tasks run on)."""
    from conftest import RECITED

    params = TeacherSettings(backend="hf", model=str(reciting_dir), max_tokens=96, concurrency=3, threads=1)
    teacher = make_teacher(params)
    prompts = list(RECITED)
    requests = [
        Request("", prompts[0], {"task": "json_record"}),
        Request("", prompts[1], {"task": "c_code"}),
        Request("", prompts[1], {}),
    ]
    replies = teacher.complete_many(requests)
    assert replies[0].text.endswith('"extra": {"n": 1}}') and not replies[0].truncated
    assert replies[1].text == "Sure.\n```c\nint gate_open(void) { return 1; }\n```"
    assert replies[2].text == RECITED[prompts[1]] and replies[2].output_tokens > replies[1].output_tokens
