"""Benchmark: 200 teacher calls at concurrency 8 against a local server that answers after 100 ms.

Ideal wall time: 200 / 8 * 0.1 s = 2.5 s; the goal is within 1.3x of it. Baseline measured in the
same run: the same 200 requests through bare httpx threads (no cache, ledger, retries, progress).
Then the warm re-run through the cache must make 0 calls. Run: `python -m bench.teacher`;
writes metrics/bench/teacher.json. The server runs in its own process (its GIL is not ours).

What is timed is the teacher-call phase of correct@N (runner: cache lookups, budget, the calls,
one sqlite commit per reply); gate scoring of the corrections is a separate cost, see bench.score.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.common import save, stopwatch
from distilloop.config import TeacherSettings
from distilloop.teachers import Request, make_teacher
from distilloop.teachers.cache import CallCache
from distilloop.teachers.ledger import Ledger, price_of
from distilloop.teachers.runner import Runner

FAKE_SERVER = Path(__file__).resolve().parent.parent / "tests" / "fake_teacher_server.py"  # the test double teachers

CALLS, CONCURRENCY, DELAY_S = 200, 8, 0.1
IDEAL_S = CALLS / CONCURRENCY * DELAY_S
GOAL_RATIO = 1.3


def start_server(workdir: Path) -> tuple[subprocess.Popen, str, Path]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    answers, log = workdir / "answers.json", workdir / "calls.jsonl"
    answers.write_text(json.dumps({f"b{n}": f"answer {n}" for n in range(CALLS)}))
    server = subprocess.Popen(
        [
            sys.executable,
            str(FAKE_SERVER),
            "--port",
            str(port),
            "--delay",
            str(DELAY_S),
            "--answers",
            str(answers),
            "--log",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}", log
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the benchmark server did not start")


def calls_logged(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def bare_httpx(url: str, requests: list[Request]) -> float:
    """The floor: the same requests, bare threads and httpx, nothing else."""
    client = httpx.Client(limits=httpx.Limits(max_connections=CONCURRENCY))

    def one(request: Request) -> str:
        body = {"model": "bench", "messages": [{"role": "user", "content": request.prompt}], "max_tokens": 64}
        return client.post(f"{url}/v1/chat/completions", json=body).json()["choices"][0]["message"]["content"]

    with stopwatch() as elapsed, ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, requests))
    client.close()
    return elapsed()


def through_runner(params: TeacherSettings, cache_path: Path, requests: list[Request]) -> tuple[float, Runner]:
    teacher = make_teacher(params)
    runner = Runner(teacher, params, Ledger(price_of(params, True), 1.0, params.max_tokens), CallCache(cache_path))
    with stopwatch() as elapsed:
        outcomes = runner.run(requests, "bench")
    assert all(o.reply and o.reply.text == f"answer {n}" for n, o in enumerate(outcomes)), "wrong or missing answers"
    teacher.close()
    return elapsed(), runner


def main() -> None:
    os.environ.setdefault("OPENAI_API_KEY", "bench-key")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        server, url, log = start_server(workdir)
        try:
            params = TeacherSettings(
                backend="openai",
                model="bench",
                base_url=f"{url}/v1",
                concurrency=CONCURRENCY,
                max_tokens=64,
                prices={"bench": {"input_per_mtok": 0.1, "output_per_mtok": 0.4}},
            )
            baseline = [Request("s", f"baseline item:b{n}", {}) for n in range(CALLS)]
            requests = [Request("s", f"correct item:b{n}", {}) for n in range(CALLS)]
            bare_s = bare_httpx(url, baseline)
            before = calls_logged(log)
            cold_s, cold = through_runner(params, workdir / "cache.sqlite", requests)
            cold_calls = calls_logged(log) - before
            before = calls_logged(log)
            warm_s, warm = through_runner(params, workdir / "cache.sqlite", requests)
            warm_calls = calls_logged(log) - before
        finally:
            server.terminate()
            server.wait(timeout=10)

    figures = {
        "calls": CALLS,
        "concurrency": CONCURRENCY,
        "server_delay_s": DELAY_S,
        "ideal_s": IDEAL_S,
        "bare_httpx_s": round(bare_s, 3),
        "bare_httpx_ratio_to_ideal": round(bare_s / IDEAL_S, 3),
        "cold_s": round(cold_s, 3),
        "cold_ratio_to_ideal": round(cold_s / IDEAL_S, 3),
        "cold_ratio_to_bare_httpx": round(cold_s / bare_s, 3),
        "cold_calls_at_server": cold_calls,
        "warm_s": round(warm_s, 3),
        "warm_calls_at_server": warm_calls,
        "warm_cache_hits": warm.cache_hits,
        "goal_ratio_to_ideal": GOAL_RATIO,
        "goal_met": cold_s / IDEAL_S <= GOAL_RATIO and warm_calls == 0,
    }
    path = save("teacher", figures)
    print(f"{CALLS} calls, concurrency {CONCURRENCY}, server {DELAY_S * 1000:.0f} ms: ideal {IDEAL_S:.2f} s")
    print(f"  bare httpx threads : {bare_s:.2f} s ({bare_s / IDEAL_S:.2f}x ideal)")
    print(
        f"  runner, cold cache : {cold_s:.2f} s ({cold_s / IDEAL_S:.2f}x ideal, {cold_s / bare_s:.2f}x bare), "
        f"{cold_calls} calls"
    )
    print(f"  runner, warm cache : {warm_s:.3f} s, {warm_calls} calls, {warm.cache_hits} cache hits")
    print(f"  goal (<= {GOAL_RATIO}x ideal, 0 warm calls): {'met' if figures['goal_met'] else 'NOT met'} -> {path}")


if __name__ == "__main__":
    main()
