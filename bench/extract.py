"""Hostile answers: how the JSON extractor's time grows with the length of a reply built to hurt it.

Each shape (a run of `{`, `{"` pairs, objects opened and never closed, a valid answer after a brace
run) is extracted at 1.6k, 16k and 160k characters (and more with --sizes). The baseline is the same
shape at the smallest size, measured in the same run: the ratio is the time per character at the
largest size over the time per character at the smallest (1.0: linear; the scan it replaced took 2-5 s
on 160k braces, a ratio in the hundreds, and never finished a 10 MB line).

    python -m bench.extract [--sizes 1600 16000 160000] [--repeat 5]
"""

from __future__ import annotations

import argparse

from bench.common import save, stopwatch
from distilloop.gate.extract import extract_json

ANSWER = '{"handle": "anna_k", "score": 0.8, "reason": "ok"}'
SHAPES = {
    "brace_run": lambda size: "{" * size,
    "brace_quote_run": lambda size: '{"' * (size // 2),
    "open_objects": lambda size: '{"a": ' * (size // 6),
    "answer_after_brace_run": lambda size: "{" * (size - len(ANSWER)) + " " + ANSWER,
}


def seconds_per_character(text: str, repeat: int) -> float:
    """The fastest of `repeat` extractions, per character (the fastest: other jobs on the machine only
    ever add time)."""
    best = float("inf")
    for _ in range(repeat):
        with stopwatch() as elapsed:
            extract_json(text)
        best = min(best, elapsed())
    return best / len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1600, 16000, 160000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    shapes = {}
    for name, build in SHAPES.items():
        runs = [
            {"characters": size, "ns_per_character": round(seconds_per_character(build(size), args.repeat) * 1e9, 1)}
            for size in args.sizes
        ]
        shapes[name] = {
            "runs": runs,
            "growth_vs_linear": round(runs[-1]["ns_per_character"] / runs[0]["ns_per_character"], 2),
        }
    worst = max(shapes, key=lambda name: shapes[name]["growth_vs_linear"])
    save("extract", {"shapes": shapes, "worst_shape": worst, "worst": shapes[worst]})


if __name__ == "__main__":
    main()
