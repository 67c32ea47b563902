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
