"""Gate throughput: 500 C samples scored by the gate vs the seed design's naive approach.

Samples are the bundled seed references and mutants of them (wrapped in prose and fences, a `;`
removed, a goto / malloc / switch without default / recursion added, a protocol constant changed,
cut off mid-answer, includes dropped), harnesses removed: the headline figure covers every axis but
the harness. The naive approach (the seed design) runs, per sample and in sequence, one gcc process
and one `cppcheck --addon=misra` process; it runs on a subset and is extrapolated per sample. The
harness axis is measured separately on samples that keep their harness.

    python -m bench.score [--samples 500] [--naive 100] [--harness 40] [--seed distilloop/data/c_tasks.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import save, stopwatch
from distilloop.config import Params
from distilloop.gate.c_code.c_text import scan
from distilloop.gate.c_code.c_tools import STRICT, cppcheck_binary
from distilloop.gate.scoring import score_records, summarise

SEED = Path("distilloop/data/c_tasks.jsonl")
GOTO = "\n/** @brief Extra. @param x In. @return Out. */\nstatic int extra_goto(int x)\n{\n    if (x > 0) { goto done; }\n    x = 1;\ndone:\n    return x;\n}\n"
MALLOC = "\n#include <stdlib.h>\n/** @brief Extra. @param n In. @return Out. */\nstatic void *extra_alloc(unsigned n)\n{\n    return malloc(n);\n}\n"
SWITCH = "\n/** @brief Extra. @param c In. @return Out. */\nstatic int extra_switch(int c)\n{\n    int v = 0;\n    switch (c) {\n    case 1: v = 2; break;\n    }\n    return v;\n}\n"
RECURSION = "\n/** @brief Extra. @param n In. @return Out. */\nstatic unsigned extra_fact(unsigned n)\n{\n    return (n == 0U) ? 1U : n * extra_fact(n - 1U);\n}\n"


def mutate(reference: str, kind: str, rng: random.Random) -> tuple[str, bool]:
    """(answer text, truncated by the generator?) for one mutation kind."""
    if kind == "reference":
        return reference, False
    if kind == "fenced":
        return f"Here is the implementation you asked for.\n\n```c\n{reference}```\n\nIt follows MISRA-C.", False
    code = scan(reference).bare  # same offsets, comments and literals blanked: mutate code only
    if kind == "syntax":
        semicolons = [m.start() for m in re.finditer(";", code)]
        cut = rng.choice(semicolons)
        return reference[:cut] + reference[cut + 1 :], False
    if kind == "misra":
        return reference + rng.choice([GOTO, MALLOC, SWITCH, RECURSION]), False
    if kind == "constant":  # a hex constant if there is one, else a decimal one, one higher
        literals = list(re.finditer(r"\b0x[0-9A-Fa-f]+U?\b", code)) or list(re.finditer(r"\b[1-9][0-9]*U\b", code))
        if not literals:
            return mutate(reference, "syntax", rng)
        match = rng.choice(literals)
        value = int(match.group(0).rstrip("U"), 0) + 1
        return reference[: match.start()] + (f"0x{value:X}U" if "x" in match.group(0) else f"{value}U") + reference[
            match.end() :
        ], False
    if kind == "truncated":
        return "```c\n" + reference[: int(len(reference) * rng.uniform(0.4, 0.9))], True
    if kind == "no_include":
        return re.sub(r"^#include.*\n", "", reference, flags=re.M), False
    raise ValueError(kind)


KINDS = (
    "reference",
    "reference",
    "fenced",
    "syntax",
    "syntax",
    "misra",
    "misra",
    "constant",
    "constant",
    "truncated",
    "no_include",
)


def make_samples(seed_records: list[dict], count: int, keep_harness: bool) -> list[dict]:
    rng = random.Random(0)
    samples = []
    for n in range(count):
        source = seed_records[n % len(seed_records)]
        kind = KINDS[n % len(KINDS)]
        output, truncated = mutate(source["reference"], kind, rng)
        checks = dict(source.get("checks") or {})
        if not keep_harness:
            checks.pop("harness", None)
        samples.append(
            {
                "id": f"{source['id']}#{n}-{kind}",
                "task": "c_code",
                "prompt": source["prompt"],
                "checks": checks,
                "output": output,
                "truncated": truncated,
            }
        )
    return samples


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def naive(samples: list[dict]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the seed design: per sample one gcc and one cppcheck --addon=misra,
    in sequence."""
    from distilloop.gate.extract import extract_c

    cpu = cpu_of_children()
    with tempfile.TemporaryDirectory(prefix="bench-naive-") as tmp, stopwatch() as elapsed:
        for n, sample in enumerate(samples):
            path = Path(tmp) / f"sample{n}.c"
            path.write_text(extract_c(sample["output"])[0])
            subprocess.run(["gcc", "-fsyntax-only", *STRICT, path.name], cwd=tmp, capture_output=True)
            subprocess.run(
                [cppcheck_binary(), "--addon=misra", "--enable=style", "--quiet", path.name],
                cwd=tmp,
                capture_output=True,
            )
    return elapsed(), cpu_of_children() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--naive", type=int, default=100, help="samples the naive approach runs on (extrapolated)")
    parser.add_argument("--harness", type=int, default=40, help="samples scored again with their harness")
    parser.add_argument("--seed", type=Path, default=SEED, help="C seed records with references")
    args = parser.parse_args()
    if not args.seed.exists():
        raise SystemExit(f"bench.score: {args.seed} not found (the bundled C seed data)")
    seed_records = [json.loads(line) for line in args.seed.read_text().splitlines() if line.strip()]
    params = Params()

    samples = make_samples(seed_records, args.samples, keep_harness=False)
    timings: dict[str, float] = {}
    cpu = time.process_time() + cpu_of_children()
    with stopwatch() as elapsed:
        scored = score_records(samples, params.gate, timings=timings)
    gate_seconds = elapsed()
    gate_cpu = time.process_time() + cpu_of_children() - cpu  # everything: extraction, workers, every tool
    summary = summarise(scored, params.gate)

    measured = min(args.naive, len(samples))
    naive_seconds, naive_cpu = naive(samples[:measured])

    harnessed = [s for s in make_samples(seed_records, args.harness, keep_harness=True) if s["checks"].get("harness")]
    harness_timings: dict[str, float] = {}
    score_records(harnessed, params.gate, timings=harness_timings)

    cores = len(os.sched_getaffinity(0))
    gate_rate, naive_rate = len(samples) / gate_seconds, measured / naive_seconds
    per_axis = {axis: round(1000 * seconds / len(samples), 2) for axis, seconds in sorted(timings.items())}
    gate_cpu_ms = 1000 * gate_cpu / len(samples)
    naive_cpu_ms = 1000 * naive_cpu / measured
    per_axis["harness"] = round(1000 * harness_timings.get("harness", 0.0) / max(len(harnessed), 1), 2)
    save(
        "score",
        {
            "samples": len(samples),
            "gate_seconds": round(gate_seconds, 2),
            "gate_samples_per_second": round(gate_rate, 1),
            "naive_samples_measured": measured,
            "naive_seconds_measured": round(naive_seconds, 2),
            "naive_samples_per_second": round(naive_rate, 2),
            "naive_seconds_extrapolated_to_all": round(len(samples) / naive_rate, 1),
            "ratio_vs_naive": round(gate_rate / naive_rate, 1),
            "cpu_ms_per_sample_by_axis": per_axis,
            "gate_cpu_ms_per_sample": round(gate_cpu_ms, 2),
            "naive_cpu_ms_per_sample": round(naive_cpu_ms, 2),
            "cpu_bound_samples_per_second": round(cores * 1000 / gate_cpu_ms, 1),
            "cpu_ratio_vs_naive": round(naive_cpu_ms / gate_cpu_ms, 1),
            "note": "gate: all axes but the harness, in worker processes over the machine's cores. Wall-clock figures "
            "depend on what else runs; the CPU figures (this process and the tools it ran) do not: "
            "cpu_bound_samples_per_second = cores * 1000 / gate CPU-ms per sample (all of it, the workers' "
            "start and the parent's extraction included). Per axis: syntax includes the "
            "protocol probes; ast = preprocessing + pycparser + style and protocol facts; misra = cppcheck "
            f"dumps + one addon run per chunk; harness measured on {len(harnessed)} samples that keep their "
            f"harness; the naive approach ran on {measured} samples and is extrapolated per sample",
            "pass_rate": summary["pass_rate"],
            "mean_score": summary["mean_score"],
        },
    )


if __name__ == "__main__":
    main()
