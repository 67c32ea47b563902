"""The `llamacpp` teacher: a local GGUF model through llama-cpp-python. One model in memory, one call
at a time (llama.cpp contexts are not thread-safe); the cache makes re-runs free."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from distilloop import UserError
from distilloop.teachers import CallError, Reply, Request, Teacher


class LlamaCppTeacher(Teacher):
    backend = "llamacpp"
    max_concurrency = 1

    def __init__(self, params):
        super().__init__(params)
        path = Path(params.model).expanduser()
        if params.model in ("bundled", "bundled:smollm2-135m-instruct"):
            from distilloop.student.model import bundled_gguf

            path = bundled_gguf()
        if not path.is_file():
            raise UserError(f"teacher llamacpp: teacher.model {params.model!r} is not a .gguf file")
        try:
            from llama_cpp import Llama
        except ImportError:
            raise UserError(
                "teacher llamacpp: llama-cpp-python is not installed (pip install distilloop[llamacpp])"
            ) from None
        threads = params.threads or len(os.sched_getaffinity(0))
        try:
            self.llm = Llama(model_path=str(path), n_ctx=params.n_ctx, n_threads=threads, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"teacher llamacpp: cannot load {path}: {exc}") from None
        self.lock = threading.Lock()

    def settings(self) -> dict:
        # answers now stop when complete and carry no repetition penalty: not the answers cached before
        return {**super().settings(), "stop": "complete-answer", "repeat_penalty": 1.0}

    def complete(self, request: Request) -> Reply:
        """The record's task (when known) decides where the answer is complete (distilloop/student/stopping.py)."""
        from distilloop.release.gguf import chat

        with self.lock:
            try:
                reply = chat(
                    self.llm,
                    request.prompt,
                    request.system,
                    self.params.max_tokens,
                    self.params.temperature,
                    task=request.record.get("task"),
                )
            except ValueError as exc:  # e.g. the prompt does not fit n_ctx
                raise CallError("model error", str(exc)[:200]) from None
        if not reply["text"].strip():
            raise CallError(
                "empty content",
                "stopped at once" if not reply["tokens"] else f"{reply['tokens']} tokens of whitespace",
                usage=(reply["prompt_tokens"], reply["tokens"]),
            )
        return Reply(reply["text"], reply["prompt_tokens"], reply["tokens"], truncated=reply["truncated"])
