"""Serving latency: profile-scoring prompts of the test split through `distilloop serve` over HTTP.

The model is models/gguf/model-q4_k_m.gguf, or when that is absent the default student built the way
the pipeline builds it (bundled SmolLM2 -> HF -> f16 GGUF -> q4_k_m) in a temporary directory. The
baseline is the same prompts through the same llama.cpp backend in this process, without the server;
the two are interleaved prompt by prompt, so a busy machine slows both alike. The ratio is what HTTP,
validation and JSON cost on top of generation.

    python -m bench.serve [--count 20] [--model models/gguf/model-q4_k_m.gguf]
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import save, stopwatch
from distilloop.config import Params

DEFAULT_MODEL = Path("models/gguf/model-q4_k_m.gguf")
ROOT = Path(__file__).resolve().parent.parent


def build_q4_k_m(work: Path) -> Path:
    """The default student as the quantise stage makes it: HF model -> f16 GGUF -> q4_k_m."""
    from distilloop.release import gguf as llama_tools
    from distilloop.student import model as student

    student.materialise(student.BUNDLED_STUDENT, work / "base")
    f16 = llama_tools.convert_hf_to_gguf(work / "base", work / "model-f16.gguf")
    return llama_tools.quantize(f16, work / "model-q4_k_m.gguf", "q4_k_m")


def profile_prompts(work: Path, count: int) -> list[str]:
    """The first `count` profile-scoring prompts of the test split (by id), exported as the pipeline does."""
    from distilloop import export
    from distilloop.io import read_records

    export.run(Params(), "bundled:json_record", out_dir=work / "export", metrics_path=None)
    records = sorted(read_records(work / "export" / "test.jsonl"), key=lambda record: record["id"])
    return [record["prompt"] for record in records[:count]]


@contextmanager
def running_server(model: Path, work: Path):
    """`distilloop serve` in a subprocess (the serve section's defaults); yields a client once /ping answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(work / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "distilloop.cli", "serve", "--model", str(model.resolve()), "--port", str(port)],
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # this checkout's stages
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            deadline = time.monotonic() + 300
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start:\n{(work / 'server.log').read_text()}")
                try:
                    if client.get("/ping", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            yield client
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(seconds: list[float], tokens: list[int]) -> dict:
    """Latency median and p95; tokens/s over all requests, and the median request's (robust to a stall)."""
    return {
        "median_seconds": round(statistics.median(seconds), 3),
        "p95_seconds": round(percentile(seconds, 0.95), 3),
        "tokens_per_second": round(sum(tokens) / sum(seconds), 1),
        "median_tokens_per_second": round(statistics.median(t / s for t, s in zip(tokens, seconds)), 1),
        "mean_completion_tokens": round(sum(tokens) / len(tokens), 1),
        "seconds": [round(s, 3) for s in seconds],
    }


def measure(model: Path, prompts: list[str], work: Path) -> dict:
    from distilloop.serve.server import ChatRequest, LlamaCppBackend

    serve = Params().serve
    in_process = LlamaCppBackend(model, serve)
    timings = {"http": ([], []), "in_process": ([], [])}
    same = 0
    with running_server(model, work) as client:
        for number, prompt in enumerate(["warm-up", *prompts]):
            messages = [{"role": "user", "content": prompt}]
            with stopwatch() as elapsed:
                response = client.post("/v1/chat/completions", json={"messages": messages})
            response.raise_for_status()
            http_seconds, body = elapsed(), response.json()
            settings = ChatRequest.model_validate({"messages": messages}).settings(serve)  # the server's defaults
            with stopwatch() as elapsed:
                answer = in_process.chat(messages, settings)
            if number == 0:
                continue
            timings["http"][0].append(http_seconds)
            timings["http"][1].append(body["usage"]["completion_tokens"])
            timings["in_process"][0].append(elapsed())
            timings["in_process"][1].append(answer.completion_tokens)
            same += body["choices"][0]["message"]["content"] == answer.text
            print(
                f"prompt {number}/{len(prompts)}: http {http_seconds:.2f} s, in-process {elapsed():.2f} s, "
                f"{answer.completion_tokens} tokens",
                file=sys.stderr,
            )
    http, local = (figures(*timings[key]) for key in ("http", "in_process"))
    return {
        "prompts": len(prompts),
        "http": http,
        "in_process": local,
        "same_answers": same,
        "under_5s_share": round(sum(s < 5.0 for s in timings["http"][0]) / len(prompts), 3),
        "median_ratio_http_vs_in_process": round(http["median_seconds"] / local["median_seconds"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="test-split prompts to answer")
    parser.add_argument("--model", type=Path, default=None, help=f"a GGUF (default {DEFAULT_MODEL}, else built)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        model = args.model or (DEFAULT_MODEL if DEFAULT_MODEL.exists() else None)
        source = str(model) if model else "default student, built: bundled SmolLM2 -> HF -> f16 GGUF -> q4_k_m"
        with stopwatch() as build_elapsed:
            model = model or build_q4_k_m(work)
        size = model.stat().st_size
        result = measure(model, profile_prompts(work, args.count), work)
    save("serve", {"model": source, "model_bytes": size, "build_seconds": round(build_elapsed(), 1), **result})


if __name__ == "__main__":
    main()
