"""The `hf` teacher: a local transformers model (an HF directory), through the student's own loading,
chat template and batched generation (distilloop.student.model). It answers `concurrency` prompts per batch; each
answer stops when it is complete for its record's task (distilloop/student/stopping.py)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from distilloop import UserError
from distilloop.config import StudentParams
from distilloop.teachers import CallError, Reply, Request, Teacher


class HFTeacher(Teacher):
    backend = "hf"

    def __init__(self, params):
        super().__init__(params)
        path = Path(params.model).expanduser()
        if not (path / "config.json").exists():
            raise UserError(
                f"teacher hf: teacher.model {params.model!r} is not a Hugging Face model directory (no config.json)"
            )
        from distilloop.student.model import load_student

        self.network, self.tokenizer = load_student(
            path, None, self.generation(params.system_prompt), threads=params.threads
        )

    def generation(self, system: str) -> StudentParams:
        """The student's generation settings, driven by the teacher's params."""
        try:
            return StudentParams(
                system_prompt=system,
                max_new_tokens=self.params.max_tokens,
                max_new_tokens_by_task={},  # the teacher's budget is teacher.max_tokens
                temperature=self.params.temperature,
                batch_size=self.params.concurrency,
                repetition_penalty=1.0,
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            raise UserError(f"teacher hf: {error['loc'][0]}: {error['msg']}") from None

    def settings(self) -> dict:
        # answers now stop when complete (distilloop/student/stopping.py): not the answers cached before
        return {**super().settings(), "stop": "complete-answer"}

    def complete(self, request: Request) -> Reply:
        result = self.complete_many([request])[0]
        if isinstance(result, CallError):
            raise result
        return result

    def complete_many(self, requests: list[Request]) -> list[Reply | CallError]:
        from distilloop.student.generation import generate, render_prompts

        results: list[Reply | CallError | None] = [None] * len(requests)
        for system in dict.fromkeys(request.system for request in requests):  # one system prompt per batch
            indices = [i for i, request in enumerate(requests) if request.system == system]
            settings = self.generation(system)
            prompts = [requests[i].prompt for i in indices]
            rendered = render_prompts(self.tokenizer, prompts, settings)
            generations = generate(
                self.network,
                self.tokenizer,
                prompts,
                settings,
                "teacher hf",
                tasks=[requests[i].record.get("task") for i in indices],
            )
            for index, text, generation in zip(indices, rendered, generations):
                input_tokens = len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
                if not generation.text.strip():
                    detail = f"{generation.tokens} tokens of whitespace" if generation.tokens else "stopped at once"
                    results[index] = CallError("empty content", detail, usage=(input_tokens, generation.tokens))
                else:
                    results[index] = Reply(generation.text, input_tokens, generation.tokens, generation.truncated)
        return results
