"""What the CPU can do: bf16 support and thread count, decided once for generation and training."""

from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=1)
def bf16_supported() -> bool:
    """True when the CPU has native bf16 arithmetic (AVX512-BF16 or AMX); bf16 autocast then roughly
    doubles throughput against fp32. Without it, bf16 is emulated and slower than fp32."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = handle.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_dtype(name: str):
    """params 'auto' | 'float32' | 'bfloat16' -> a torch dtype."""
    import torch

    if name == "auto":
        return torch.bfloat16 if bf16_supported() else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[name]


def set_threads(threads: int = 0, processes: int = 1) -> int:
    """Use `threads` torch threads, or when 0 this process's share of the available cores (one per core
    when it runs alone, cores / `processes` when that many share the machine). Returns the number set."""
    import torch

    count = threads or max(1, len(os.sched_getaffinity(0)) // processes)
    torch.set_num_threads(count)
    return count
