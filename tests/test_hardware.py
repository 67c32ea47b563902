"""The process set-up every torch stage runs first (distilloop/hardware.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# 64 MiB allocated, written and freed, as a training step does with its logits: twenty times to settle
# (the heap grows by a few blocks before they fit again), then ten times counting the page faults
ALLOCATE_TEN_TIMES = """
import resource, sys, torch
from distilloop.hardware import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
for _ in range(20):
    torch.empty(16 * 2**20).fill_(1.0)
start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    torch.empty(16 * 2**20).fill_(1.0)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
"""


def page_faults(mode: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", ALLOCATE_TEN_TIMES, mode], capture_output=True, text=True, check=True
    )
    return int(result.stdout.split()[-1])


FRESH_MAPPING_FAULTS = 10 * 16 * 2**20 // 4096  # ten 64 MiB blocks each mapped anew, 4 KiB a fault


def test_freed_memory_is_reused_instead_of_faulted_in_again():
    default = page_faults("default")
    if default < 0.9 * FRESH_MAPPING_FAULTS:  # e.g. transparent huge pages for every mapping
        pytest.skip(f"large blocks do not fault in 4 KiB at a time here ({default} faults): nothing to save")
    kept = page_faults("keep")
    assert kept * 20 < default, (kept, default)


RESIDENT_MIB = """
def resident_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 // 2**20
"""

# A 512 MiB block (above the 256 MiB cap) allocated, written and freed: the resident memory it leaves behind
RESIDENT_AFTER_A_LARGE_BLOCK = (
    RESIDENT_MIB
    + """
import sys, torch
from distilloop.hardware import keep_freed_memory
assert keep_freed_memory()
before = resident_mib()
block = torch.empty(128 * 2**20).fill_(1.0)
during = resident_mib()
del block
print(before, during, resident_mib())
"""
)


def test_a_freed_block_above_the_cap_goes_back_to_the_kernel():
    """Large blocks kept would leave holes nothing fits again: the process would grow at every new length."""
    result = subprocess.run(
        [sys.executable, "-c", RESIDENT_AFTER_A_LARGE_BLOCK], capture_output=True, text=True, check=True
    )
    before, during, after = map(int, result.stdout.split()[-3:])
    assert during - before >= 500, (before, during, after)
    assert after - before < 50, (before, during, after)


# 64 blocks of 8 MiB, each followed by a 1 MiB block that stays (as a cached kernel does), then the large
# ones freed: their memory sits in holes of the heap, resident, until release_freed_memory hands it back
RESIDENT_AFTER_FREEING_BETWEEN_LIVE_BLOCKS = (
    RESIDENT_MIB
    + """
import ctypes, sys
from distilloop.hardware import heap_free_bytes, keep_freed_memory, release_freed_memory
assert keep_freed_memory()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
large, small = [], []
for _ in range(64):
    large.append(libc.malloc(8 * 2**20))
    ctypes.memset(large[-1], 1, 8 * 2**20)
    small.append(libc.malloc(2**20))  # too large for the holes of the interpreter's start: after the block
for block in large:
    libc.free(block)
freed = resident_mib()
kept = release_freed_memory(over_bytes=2**40)
still = resident_mib()
released = release_freed_memory(over_bytes=2**20)
print(heap_free_bytes() >= 0, kept, released, freed, still, resident_mib())
"""
)


def test_freed_memory_between_live_blocks_goes_back_once_over_the_limit():
    result = subprocess.run(
        [sys.executable, "-c", RESIDENT_AFTER_FREEING_BETWEEN_LIVE_BLOCKS], capture_output=True, text=True, check=True
    )
    known, kept, released, freed, still, after = result.stdout.split()[-6:]
    assert (known, kept, released) == ("True", "False", "True"), result.stdout
    assert int(still) - int(after) >= 400, result.stdout  # of the 512 MiB freed between live blocks
    assert int(freed) - int(still) < 50, result.stdout
