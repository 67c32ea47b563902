"""Every benchmark, then metrics/bench.json and the benchmark table in docs/benchmarks.md.

Each benchmark runs in its own process and writes metrics/bench/<name>.json with its figures and the
in-run baseline they are compared with; this collects the headline figure of each, its baseline and
their ratio into metrics/bench.json and rewrites the table between the bench markers of docs/benchmarks.md.

    python -m bench                      # all (about 40 minutes on 2 cores)
    python -m bench --only score serve   # some; the others keep their last results
    python -m bench --collect            # no runs: rebuild bench.json and the table from metrics/bench/
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from distilloop.io import read_json, write_json

RESULTS = Path("metrics/bench")
SUMMARY = Path("metrics/bench.json")
TABLE_PAGE = Path("docs/benchmarks.md")
BEGIN, END = "<!-- bench:begin (python -m bench writes this table) -->", "<!-- bench:end -->"

# benchmark -> the arguments `make bench` runs it with
BENCHMARKS = {
    "score": [],
    "scale": [],
    "export": [],
    "extract": [],
    "generation": ["--prompts", "64", "--loop-prompts", "16", "--max-new-tokens", "128", "384", "--dtype", "float32"],
    "teacher": [],
    "training": ["--steps", "16", "--warmup", "3", "--examples", "64"],
    "serve": ["--count", "20"],
    "pipeline": [],
}


@dataclass
class Figure:
    bench: str
    what: str
    path: str  # dotted path into metrics/bench/<bench>.json; [n] indexes a list
    baseline: str
    baseline_path: str
    unit: str
    better: str  # "higher" | "lower": which way the figure is good

    def values(self, result: dict) -> tuple[float, float]:
        return dig(result, self.path), dig(result, self.baseline_path)


FIGURES = [
    Figure(
        "score",
        "C answers scored (all axes but the harness)",
        "gate_samples_per_second",
        "naive: one gcc + one `cppcheck --addon=misra` per answer",
        "naive_samples_per_second",
        "answers/s",
        "higher",
    ),
    Figure(
        "scale",
        "json_record scoring at the largest size",
        "json_record[-1].ms_per_answer",
        "the same at 1k answers",
        "json_record[0].ms_per_answer",
        "ms/answer",
        "lower",
    ),
    Figure(
        "scale",
        "c_code scoring at the largest size",
        "c_code[-1].ms_per_answer",
        "the same at 1k answers",
        "c_code[0].ms_per_answer",
        "ms/answer",
        "lower",
    ),
    Figure(
        "extract",
        "JSON extraction from the most costly hostile reply shape at 160k characters",
        "worst.runs[-1].ns_per_character",
        "the same shape at 1.6k characters",
        "worst.runs[0].ns_per_character",
        "ns/character",
        "lower",
    ),
    Figure(
        "export",
        "export at the largest size",
        "runs[-1].rows_per_second",
        "export at 1k rows",
        "runs[0].rows_per_second",
        "rows/s",
        "higher",
    ),
    *(
        Figure(
            "generation",
            f"student answers at {budget} new tokens, batched engine, float32",
            f"runs[{run}].engine_tokens_per_second",
            "one prompt at a time (`generate` in a loop)",
            f"runs[{run}].loop_tokens_per_second",
            "tokens/s",
            "higher",
        )
        for run, budget in enumerate((128, 384))
    ),
    Figure(
        "teacher",
        "200 cold teacher calls to a 0.1 s server",
        "cold_s",
        "ideal: calls / concurrency x delay",
        "ideal_s",
        "s",
        "lower",
    ),
    Figure(
        "training",
        "LoRA SFT of SmolLM2-135M",
        "distilloop.tokens_per_second",
        "plain fp32 transformers Trainer",
        "baseline_fp32_trainer.tokens_per_second",
        "tokens/s",
        "higher",
    ),
    Figure(
        "training",
        "LoRA SFT model FLOPs utilisation (of this CPU's matmul peak in the dtype used)",
        "distilloop.mfu",
        "plain fp32 transformers Trainer",
        "baseline_fp32_trainer.mfu",
        "",
        "higher",
    ),
    Figure(
        "serve",
        "q4_k_m answer over HTTP, median",
        "http.median_seconds",
        "the same GGUF in-process",
        "in_process.median_seconds",
        "s",
        "lower",
    ),
    Figure(
        "serve",
        "q4_k_m answer over HTTP, p95",
        "http.p95_seconds",
        "the same GGUF in-process",
        "in_process.p95_seconds",
        "s",
        "lower",
    ),
    Figure(
        "pipeline",
        "smoke pipeline end to end (`dvc repro`)",
        "end_to_end_seconds",
        "its stage commands run by hand",
        "by_hand_seconds",
        "s",
        "lower",
    ),
    Figure(
        "pipeline",
        "no-op `dvc repro`",
        "noop_repro_seconds",
        "`dvc version` (DVC's start-up)",
        "dvc_version_seconds",
        "s",
        "lower",
    ),
    # bench.efficacy --stage-timings: the default (profile) pipeline, finished
    Figure(
        "efficacy",
        "default pipeline: no-op `dvc repro`",
        "json_record.stage_timings.noop_repro_seconds",
        "`dvc version` (DVC's start-up)",
        "json_record.stage_timings.dvc_version_seconds",
        "s",
        "lower",
    ),
    Figure(
        "efficacy",
        "default pipeline: quantise stage (f16 and q4_k_m written and scored on the test split)",
        "json_record.stage_timings.quantise_seconds",
        "the same stage, one test prompt at a time (`quantise.parallel: 1`)",
        "json_record.stage_timings.quantise_one_at_a_time_seconds",
        "s",
        "lower",
    ),
]


def dig(result: dict, path: str):
    value = result
    for part in path.split("."):
        name, _, index = part.partition("[")
        value = value[name]
        if index:
            value = value[int(index.rstrip("]"))]
    return value


def run_benchmark(name: str) -> dict:
    """Run one benchmark; its wall time and the machine's load when it started (a busy machine shows)."""
    print(f"bench: {name} ...", flush=True)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", f"bench.{name}", *BENCHMARKS[name]], stdout=subprocess.DEVNULL)
    if result.returncode != 0:
        raise SystemExit(f"bench: {name} failed (exit {result.returncode})")
    seconds = time.perf_counter() - started
    print(f"bench: {name} done in {seconds:.0f} s", flush=True)
    return {"seconds": round(seconds, 1), "load_1m_before": round(load, 2)}


def collect() -> dict:
    rows, missing = [], []
    for figure in FIGURES:
        path = RESULTS / f"{figure.bench}.json"
        try:
            value, baseline = figure.values(read_json(path)) if path.exists() else (None, None)
        except (KeyError, IndexError):  # a result written without this figure (an option not given)
            value = None
        if value is None:
            missing.append(figure.bench)
            continue
        rows.append(
            {
                "bench": figure.bench,
                "figure": figure.what,
                "value": value,
                "unit": figure.unit,
                "baseline": figure.baseline,
                "baseline_value": baseline,
                "ratio": round(value / baseline, 2) if baseline else None,
                "better": figure.better,
            }
        )
    return {"figures": rows, "missing": sorted(set(missing)), "cores": len(os.sched_getaffinity(0))}


def table(summary: dict) -> str:
    lines = [
        "| benchmark | figure | value | baseline | baseline value | value / baseline |",
        "|---|---|---|---|---|---|",
    ]
    for row in summary["figures"]:
        lines.append(
            f"| `{row['bench']}` | {row['figure']} | {row['value']} {row['unit']} | {row['baseline']} | "
            f"{row['baseline_value']} {row['unit']} | {row['ratio']} ({row['better']} is better) |"
        )
    return "\n".join(lines)


def update_table(summary: dict) -> None:
    text = TABLE_PAGE.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"bench: {TABLE_PAGE} has no bench markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    TABLE_PAGE.write_text(f"{head}{BEGIN}\n{table(summary)}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run these benchmarks only")
    parser.add_argument("--collect", action="store_true", help="run nothing; rebuild from metrics/bench/")
    args = parser.parse_args()
    runs = {}
    if not args.collect:
        for name in args.only or BENCHMARKS:
            runs[name] = run_benchmark(name)
    summary = collect()
    previous = read_json(SUMMARY).get("runs", {}) if SUMMARY.exists() else {}
    summary["runs"] = {**previous, **runs}
    write_json(SUMMARY, summary)
    update_table(summary)
    print(table(summary))


if __name__ == "__main__":
    main()
