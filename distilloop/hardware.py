"""What the CPU can do and how a process uses it: bf16 support, thread count and the allocator, decided once
for generation and training."""

from __future__ import annotations

import ctypes
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


def prepare_cpu(threads: int = 0, processes: int = 1) -> int:
    """Ready this process for torch work: `threads` torch threads, or when 0 its share of the available
    cores (one per core when it runs alone, cores / `processes` when that many share the machine), and
    freed memory kept for reuse (keep_freed_memory). Returns the number of threads set."""
    import torch

    keep_freed_memory()
    count = threads or max(1, len(os.sched_getaffinity(0)) // processes)
    torch.set_num_threads(count)
    return count


@lru_cache(maxsize=1)
def glibc():
    """The process's C library through ctypes; None where it has no mallopt (not glibc)."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


KEEP_FREED_BYTES = 256 * 2**20  # blocks up to this size are kept; larger ones go back to the kernel


def keep_freed_memory() -> bool:
    """Have glibc keep freed blocks of up to KEEP_FREED_BYTES for reuse rather than hand them back to the
    kernel. By default a block over its mmap threshold (128 KiB, rising to at most 32 MiB) is mapped fresh
    and unmapped on free, and so is the top of the heap: a training step's logits and activations and a
    decode step's cache copies then page-fault in anew at every step, 4 KiB at a time. Measured on a noisy
    2-core VM, five processes each, alternating: a LoRA training step of the profile task 4.44 -> 3.91 s
    (medians; single runs spread over 3.4-5.8 s), page faults 1.2-1.9 M -> 0.75-0.81 M, peak memory the same
    3.4-3.7 GB; generation answers identical, its speed within the noise.
    Why a cap: a kept block stays with the process where nothing fits it again, and blocks of hundreds of
    MiB (the C task's logits: 1280-token rows, eval batches of 16) leave such holes at every new length.
    Uncapped (2 GiB), the C task's 48 longest examples grew the process from 9.1 to 14.2 GB over 21 steps
    (peak 17.1 GB); capped at 256 MiB it stays at 8.4-9.1 GB (peak 13.3 GB, as without keeping anything).
    Holes between live blocks are release_freed_memory's to hand back. False where the C library is not
    glibc (nothing changes)."""
    libc = glibc()
    if libc is None:
        return False
    # M_MMAP_THRESHOLD (-3): blocks below it come from the heap; M_TRIM_THRESHOLD (-1): free heap top kept
    return libc.mallopt(-3, KEEP_FREED_BYTES) == 1 and libc.mallopt(-1, KEEP_FREED_BYTES) == 1


class _MallInfo2(ctypes.Structure):  # glibc >= 2.33
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ]


def heap_free_bytes() -> int | None:
    """Bytes the C heap holds freed (glibc's mallinfo2 fordblks over all arenas); None where not glibc."""
    libc = glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return None
    libc.mallinfo2.restype = _MallInfo2
    return libc.mallinfo2().fordblks


def release_freed_memory(over_bytes: int) -> bool:
    """Hand the heap's freed memory back to the kernel (malloc_trim) when it holds more than `over_bytes`;
    True when it did. Freed blocks between live ones are never handed back otherwise, and bf16 training
    makes such live ones at every new sequence length (oneDNN keeps a kernel per matmul shape, about 22 MB
    a step on the C task): the C task's 48 longest examples left 7.4 GB freed against 0.8 GB live after 18
    steps, and its train@2 (135 steps) reached 22 GB resident on a 24 GB machine."""
    free = heap_free_bytes()
    if free is None or free <= over_bytes:
        return False
    glibc().malloc_trim(0)
    return True


def physical_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
