"""The sqlite call cache: content addressing, durability per call (even under SIGKILL), threads."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from distilloop.config import ConnectionRuntime
from distilloop.teachers import Reply
from distilloop.teachers.cache import CallCache, cache_key, default_path

ROOT = Path(__file__).resolve().parent.parent
BASE = dict(backend="openai", model="m", system="sys", prompt="p", settings={"temperature": 0.0, "max_tokens": 64})


def test_key_changes_with_every_part_of_the_question():
    base = cache_key(**BASE)
    assert cache_key(**BASE) == base
    variants = [
        {"backend": "anthropic"},
        {"model": "m2"},
        {"system": "sys2"},
        {"prompt": "p2"},
        {"settings": {"temperature": 0.5, "max_tokens": 64}},
        {"settings": {"temperature": 0.0, "max_tokens": 65}},
    ]
    keys = {cache_key(**{**BASE, **variant}) for variant in variants}
    assert len(keys) == len(variants) and base not in keys


def test_replies_and_their_cost_persist_across_connections(tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")
    cache.put("k1", "openai", "m", Reply("answer", 10, 3, truncated=True), 0.25)
    cache.close()
    reply, cost = CallCache(tmp_path / "c.sqlite").get("k1")
    assert reply == Reply("answer", 10, 3, True) and cost == 0.25
    assert CallCache(tmp_path / "c.sqlite").get("missing") is None


def test_concurrent_writers_lose_nothing(tmp_path):
    cache = CallCache(tmp_path / "c.sqlite")

    def write(worker: int) -> None:
        for n in range(50):
            cache.put(f"{worker}-{n}", "openai", "m", Reply(f"text {worker} {n}"), 0.0)
            assert cache.get(f"{worker}-{n}")[0].text == f"text {worker} {n}"

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 400


def test_every_put_survives_a_killed_process(tmp_path):
    """One commit per call: entries written before SIGKILL are all there afterwards."""
    script = (
        "import os, signal, sys\n"
        "from distilloop.teachers import Reply\n"
        "from distilloop.teachers.cache import CallCache\n"
        "cache = CallCache(sys.argv[1])\n"
        "for n in range(25):\n"
        "    cache.put(f'k{n}', 'openai', 'm', Reply(f'answer {n}'), 0.0)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "c.sqlite")],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == -9
    cache = CallCache(tmp_path / "c.sqlite")
    assert len(cache) == 25 and cache.get("k24")[0].text == "answer 24"


def test_location_from_params_then_environment_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DISTILLOOP_CACHE_DIR", str(tmp_path / "shared"))
    assert default_path(None) == tmp_path / "shared" / "teacher.sqlite"
    assert default_path(str(tmp_path / "mine.sqlite")) == tmp_path / "mine.sqlite"
    monkeypatch.delenv("DISTILLOOP_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert (
        default_path(ConnectionRuntime().cache_path) == tmp_path / "home" / ".cache" / "distilloop" / "teacher.sqlite"
    )
