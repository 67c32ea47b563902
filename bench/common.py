"""Shared by the benchmarks: timing and the small JSON result each benchmark writes."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from distilloop.hardware import bf16_supported
from distilloop.io import write_json

RESULTS_DIR = Path("metrics/bench")


def base_model_dir(scratch: Path) -> Path:
    """The default student in HF format: models/base when the base stage has written it, else the
    bundled GGUF converted into `scratch` as the base stage converts it."""
    if (Path("models/base") / "config.json").exists():
        return Path("models/base")
    from distilloop.student.model import BUNDLED_STUDENT, materialise

    materialise(BUNDLED_STUDENT, scratch / "base")
    return scratch / "base"


@contextmanager
def stopwatch():
    """`with stopwatch() as elapsed: ...` then `elapsed()` is the wall time in seconds."""
    start = time.perf_counter()
    end = None

    def elapsed() -> float:
        return (end if end is not None else time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end = time.perf_counter()


def machine() -> dict:
    """What the figures were measured on: timings do not carry across CPUs (one with AMX trains the
    default pipeline in bf16 in about half the time of one without, which trains in fp32)."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        cpuinfo = ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": model or platform.processor(),
        "cpu_bf16": bf16_supported(),
        "cpu_amx": " amx_tile" in cpuinfo,
        "python": platform.python_version(),
    }


def save(name: str, result: dict) -> Path:
    """metrics/bench/<name>.json: the figures, each ratio against its in-run baseline, the machine."""
    result = {**result, "machine": machine()}
    path = RESULTS_DIR / f"{name}.json"
    write_json(path, result)
    print(json.dumps(result, indent=2))
    return path


def copy_worktree(root: Path, project: Path) -> Path:
    """The project's files as git sees them (tracked and untracked, not ignored) copied into `project`:
    what a fresh clone of the working tree would hold, without .venv, caches or outputs."""
    files = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        if (root / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, project / name)
    return project
