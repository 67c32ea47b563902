"""Scoring at scale: gate time at 1k, 10k and 100k answers, showing how its cost grows with size.

json_record answers (the bundled profiles' references, with scores moved, every tenth answer in a fence
and every twentieth cut short) are scored at every size. c_code answers (bench.score's mutants of the
seed references, harnesses removed) cost tens of CPU-milliseconds each, so 100k of them take about an
hour on 2 cores: by default they run at 1k and 10k, and `--c-sizes 1000 10000 100000` measures the
whole range. The baseline of each task is its smallest size; the ratio is the time per answer at a size
over the time per answer at the baseline (1.0: cost grows linearly with size).

    python -m bench.scale [--json-sizes 1000 10000 100000] [--c-sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

from bench.common import save, stopwatch
from bench.score import SEED, make_samples
from distilloop.config import Params
from distilloop.gate.scoring import score_records, summarise

PROFILES = Path("data/seed/profiles.csv")


def json_samples(count: int) -> list[dict]:
    with open(PROFILES, newline="", encoding="utf-8") as handle:
        references = [json.loads(row["reference"]) for row in csv.DictReader(handle)]
    rng = random.Random(0)
    samples = []
    for n in range(count):
        reference = references[n % len(references)]
        answer = {**reference, "score": round(min(1.0, max(0.0, reference["score"] + rng.uniform(-0.4, 0.4))), 2)}
        output = json.dumps(answer)
        if n % 10 == 0:
            output = f"Here is the score:\n```json\n{output}\n```"
        if n % 20 == 5:
            output = output[: len(output) // 2]
        samples.append(
            {
                "id": f"{reference['handle']}#{n}",
                "task": "json_record",
                "prompt": "Score the profile.",
                "reference": reference,
                "output": output,
            }
        )
    return samples


def c_samples(count: int) -> list[dict]:
    seed_records = [json.loads(line) for line in SEED.read_text().splitlines() if line.strip()]
    return make_samples(seed_records, count, keep_harness=False)


def measure(task: str, sizes: list[int], params: Params) -> list[dict]:
    runs = []
    for size in sizes:
        samples = json_samples(size) if task == "json_record" else c_samples(size)
        with stopwatch() as elapsed:
            scored = score_records(samples, params.gate)
        seconds = elapsed()
        summary = summarise(scored, params.gate)
        runs.append(
            {
                "answers": size,
                "seconds": round(seconds, 3),
                "answers_per_second": round(size / seconds, 1),
                "ms_per_answer": round(1000 * seconds / size, 3),
                "pass_rate": summary["pass_rate"],
            }
        )
        print(f"bench.scale: {task} {size}: {seconds:.1f} s", flush=True)
    for run in runs:
        run["ratio_per_answer_vs_smallest"] = round(run["ms_per_answer"] / runs[0]["ms_per_answer"], 2)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--c-sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    params = Params()
    save(
        "scale",
        {
            "json_record": measure("json_record", sorted(args.json_sizes), params),
            "c_code": measure("c_code", sorted(args.c_sizes), params),
            "note": "ratio_per_answer_vs_smallest: time per answer against the smallest size (1.0 = linear)",
        },
    )


if __name__ == "__main__":
    main()
