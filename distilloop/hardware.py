"""The device and dtype every stage runs in (resolve_device, resolve_dtype: one decision for generation,
training, merging and serving), and what the CPU can do and how a process uses it: bf16 support, thread
count and the allocator."""

from __future__ import annotations

import ctypes
import os
from functools import lru_cache

from distilloop.config import DEVICE_PATTERN


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


DTYPE_NAMES = ("auto", "float32", "bfloat16", "float16")


def pick_device(name: str, cuda_devices: int, mps: bool, setting: str = "device") -> str:
    """The device a run uses, decided from what the machine has: `name` is 'auto' (CUDA, then MPS, then
    the CPU) or explicit ('cuda', 'cuda:N', 'mps', 'cpu'); `cuda_devices` is how many CUDA devices there
    are, `mps` whether Apple's Metal backend is there. An explicit device that is not there is a UserError
    naming `setting`. Pure: resolve_device asks torch for the inputs."""
    import re

    from distilloop import UserError

    if not re.match(DEVICE_PATTERN, name):
        raise UserError(f"{setting}: {name!r} is not a device (auto, cpu, mps, cuda or cuda:N)")
    if name == "auto":
        return "cuda" if cuda_devices else "mps" if mps else "cpu"
    if name.startswith("cuda"):
        index = int(name.partition(":")[2] or 0)
        if index >= cuda_devices:
            have = f"{cuda_devices} CUDA device(s)" if cuda_devices else "no CUDA device"
            raise UserError(f"{setting}: {name} requested but this machine has {have}; use auto or cpu")
    if name == "mps" and not mps:
        raise UserError(f"{setting}: mps requested but this machine has no Apple Metal (MPS) device; use auto or cpu")
    return name


def resolve_device(name: str = "auto", setting: str = "device"):
    """params 'auto' | 'cpu' | 'mps' | 'cuda[:N]' -> the torch.device this machine runs it on."""
    import torch

    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return torch.device(pick_device(name, cuda, mps, setting))


def pick_dtype(
    name: str, device_type: str, cuda_capability: tuple[int, int] | None = None, cpu_bf16: bool = False
) -> str:
    """The dtype name a run computes in: explicit names as given; 'auto' is bfloat16 where the device
    computes it natively (a CUDA GPU of compute capability >= 8, a CPU with AVX512-BF16 or AMX), float16 on
    older CUDA GPUs, float32 otherwise (a CPU without native bf16, MPS). Pure: resolve_dtype asks torch and
    /proc/cpuinfo for the inputs."""
    from distilloop import UserError

    if name not in DTYPE_NAMES:
        raise UserError(f"dtype: {name!r} is not one of {', '.join(DTYPE_NAMES)}")
    if name != "auto":
        return name
    if device_type == "cuda":
        return "bfloat16" if cuda_capability is not None and cuda_capability[0] >= 8 else "float16"
    if device_type == "cpu" and cpu_bf16:
        return "bfloat16"
    return "float32"


def resolve_dtype(name: str, device=None):
    """params 'auto' | 'float32' | 'bfloat16' | 'float16' -> a torch dtype for `device` (a torch.device,
    default the CPU)."""
    import torch

    device = torch.device(device if device is not None else "cpu")
    capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else None
    cpu_bf16 = bf16_supported() if device.type == "cpu" and name == "auto" else False
    return getattr(torch, pick_dtype(name, device.type, capability, cpu_bf16))


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
