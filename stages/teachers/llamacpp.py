"""The `llamacpp` teacher: a local GGUF model through llama-cpp-python. One model in memory, one call
at a time (llama.cpp contexts are not thread-safe); the cache makes re-runs free."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from stages import UserError
from stages.teachers import CallError, Reply, Request, Teacher


class LlamaCppTeacher(Teacher):
    backend = "llamacpp"
    max_concurrency = 1

    def __init__(self, params):
        super().__init__(params)
        path = Path(params.model).expanduser()
        if params.model in ("bundled", "bundled:smollm2-135m-instruct"):
            from stages.student import bundled_gguf

            path = bundled_gguf()
        if not path.is_file():
            raise UserError(f"teacher llamacpp: teacher.model {params.model!r} is not a .gguf file")
        try:
            from llama_cpp import Llama
        except ImportError:
            raise UserError("teacher llamacpp: llama-cpp-python is not installed (pip install distilloop[llamacpp])") from None
        threads = params.threads or len(os.sched_getaffinity(0))
        try:
            self.llm = Llama(model_path=str(path), n_ctx=params.n_ctx, n_threads=threads, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"teacher llamacpp: cannot load {path}: {exc}") from None
        self.lock = threading.Lock()

    def complete(self, request: Request) -> Reply:
        messages = [{"role": "system", "content": request.system}, {"role": "user", "content": request.prompt}]
        with self.lock:
            try:
                data = self.llm.create_chat_completion(messages=messages, max_tokens=self.params.max_tokens,
                                                       temperature=self.params.temperature)
            except ValueError as exc:  # e.g. the prompt does not fit n_ctx
                raise CallError("model error", str(exc)[:200]) from None
        choice = data["choices"][0]
        text = choice["message"].get("content") or ""
        usage = data.get("usage") or {}
        input_tokens, output_tokens = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        if not text.strip():
            raise CallError("empty content", f"finish_reason {choice.get('finish_reason')!r}",
                            usage=(input_tokens, output_tokens))
        return Reply(text, input_tokens, output_tokens, truncated=choice.get("finish_reason") == "length")
