"""Does the loop teach? Each task end to end from a clean project: `dvc repro`, then the figures a user
would read, baseline vs every epoch vs the shipped q4_k_m GGUF.

    python -m bench.efficacy                         # both tasks (the C task: three to four hours on 2 cores in fp32)
    python -m bench.efficacy --tasks json_record     # the default pipeline only (24-39 min with AMX, 47-55 in fp32)
    python -m bench.efficacy --tasks json_record --stage-timings   # + no-op repro, quantise at parallel 1
    python -m bench.efficacy --tasks json_record --keep /tmp/efficacy   # the finished projects stay there

Writes metrics/bench/efficacy.json (tasks not run keep their last figures): per task, per epoch the test and
val pass rate, Pearson r (profile task), mean score, corrections requested and accepted, examples trained on,
the training step whose checkpoint was kept, and tokens generated; the best epoch by val; each GGUF type's
test figures; the wall time of the whole run and of each stage. The baseline each figure is compared with is
epoch 0 of the same run: the student before any training.

With --stage-timings, on the finished project: a no-op `dvc repro` (median of 3) against `dvc version`,
DVC's own start-up; and the quantise stage's command run with `quantise.parallel: 1` (one test prompt
at a time through llama.cpp) against the same command at the params.yaml value, with each GGUF's test
figures answered one prompt at a time (what one user of `ollama run` gets; 4-bit answers move with the batch).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from bench.common import RESULTS_DIR, copy_worktree, machine, save
from bench.pipeline import environment, repro_by_stage, run, timed
from distilloop.config import load as load_params
from distilloop.io import read_json

ROOT = Path(__file__).resolve().parent.parent
PROFILE_OF_TASK = {"json_record": None, "c_code": "c-code"}  # the default params.yaml runs the profile task
SPLIT_KEYS = ("pass_rate", "mean_score", "pearson_r", "spearman_r", "mae")


def split_figures(summary: dict | None) -> dict:
    summary = summary or {}
    return {key: summary[key] for key in SPLIT_KEYS if key in summary}


def epoch_rows(project: Path) -> list[dict]:
    rows = []
    for path in sorted((project / "metrics/epochs").glob("[0-9]*.json"), key=lambda p: int(p.stem.split("-")[0])):
        if not path.stem.isdigit():
            continue
        epoch, metrics = int(path.stem), read_json(path)
        corrected = read_json(project / f"metrics/epochs/{epoch}-correct.json") if epoch else {}
        trained = read_json(project / f"metrics/epochs/{epoch}-train.json") if epoch else {}
        rows.append(
            {
                "epoch": epoch,
                "test": split_figures(metrics.get("test")),
                "val": split_figures(metrics.get("val")),
                "pool": split_figures(metrics.get("pool")),
                "corrections_requested": corrected.get("requested"),
                "corrections_accepted": corrected.get("accepted"),
                "trained_on": trained.get("train_examples"),
                "train_skipped": trained.get("skipped"),
                # which checkpoint train@N kept (0: adapter N-1, no step beat it on val loss) of how many steps
                "train_steps": trained.get("steps"),
                "best_step": trained.get("best_step"),
                "tokens_generated": (metrics.get("generation") or {}).get("tokens"),
            }
        )
    return rows


def gguf_figures(quantised: dict) -> dict:
    """metrics/quantise.json -> each GGUF type's size, test figures and tokens/s."""
    return {
        kind: {key: figures.get(key) for key in ("size_bytes", *SPLIT_KEYS, "tokens_per_second") if key in figures}
        for kind, figures in quantised.get("types", {}).items()
    }


def stage_timings(project: Path, env: dict) -> dict:
    noop = [timed(project, ["dvc", "repro"], env)[0] for _ in range(3)]
    version = [timed(project, ["dvc", "version"], env)[0] for _ in range(3)]
    params_file = project / "params.yaml"
    original = params_file.read_text(encoding="utf-8")
    values = yaml.safe_load(original)
    parallel = load_params(params_file).quantise.parallel
    values.setdefault("quantise", {})["parallel"] = 1
    one_at_a_time = yaml.safe_dump(values, sort_keys=False)  # comments need not survive: restored below
    try:
        params_file.write_text(one_at_a_time, encoding="utf-8")
        baseline = timed(project, [sys.executable, "-m", "stages.quantise"], env)[0]
        one_at_a_time_figures = gguf_figures(read_json(project / "metrics/quantise.json"))
    finally:
        params_file.write_text(original, encoding="utf-8")
    batched = timed(project, [sys.executable, "-m", "stages.quantise"], env)[0]
    noop_median, version_median = statistics.median(noop), statistics.median(version)
    return {
        "noop_repro_seconds": round(noop_median, 2),
        "noop_repro_runs": [round(value, 2) for value in noop],
        "dvc_version_seconds": round(version_median, 2),
        "quantise_parallel": parallel,
        "quantise_seconds": round(batched, 1),
        "quantise_one_at_a_time_seconds": round(baseline, 1),
        "quantise_speedup": round(baseline / batched, 2),
        "gguf_one_at_a_time": one_at_a_time_figures,  # what one `ollama run` user gets, answer for answer
    }


def run_task(task: str, workdir: Path, timings: bool = False) -> dict:
    project = copy_worktree(ROOT, workdir / task)
    env = environment(workdir / f"{task}-cache")
    git = ["git", "-c", "user.email=bench@distilloop.invalid", "-c", "user.name=bench"]
    run(project, ["git", "init", "-q"], env)
    if PROFILE_OF_TASK[task]:
        run(project, [sys.executable, "-m", "distilloop.cli", "profile", PROFILE_OF_TASK[task]], env)
    run(project, [*git, "add", "-A"], env)
    run(project, [*git, "commit", "-qm", task], env)
    seconds, by_stage = repro_by_stage(project, env)
    best = read_json(project / "metrics/best.json")
    quantised = read_json(project / "metrics/quantise.json")
    status = subprocess.run(
        [sys.executable, "-m", "distilloop.cli", "status"], cwd=project, env=env, capture_output=True, text=True
    ).stdout
    print(status)
    extra = {"stage_timings": stage_timings(project, env)} if timings else {}
    return {
        "seconds": round(seconds, 1),
        "stage_seconds": by_stage,
        "epochs": epoch_rows(project),
        "best_epoch": best["epoch"],
        "best": {"val": best["val"], "test": best["test"]},
        "gguf": gguf_figures(quantised),
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.efficacy", description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=sorted(PROFILE_OF_TASK), default=["json_record", "c_code"])
    parser.add_argument(
        "--stage-timings", action="store_true", help="also time a no-op repro and the quantise stage at parallel 1"
    )
    parser.add_argument("--keep", type=Path, help="build the projects in this (new) directory and keep them")
    args = parser.parse_args()
    if args.keep:
        if args.keep.exists():  # it would mix two runs' projects
            raise SystemExit(f"bench.efficacy: --keep {args.keep} exists; name a new directory")
        args.keep.mkdir(parents=True)
    workdir = (
        contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="distilloop-efficacy-")
    )
    with workdir as scratch:
        results = {
            task: {**run_task(task, Path(scratch), args.stage_timings), "machine": machine()} for task in args.tasks
        }
    save("efficacy", with_last_figures(results, RESULTS_DIR / "efficacy.json"))


def with_last_figures(results: dict, path: Path) -> dict:
    """A run of some tasks keeps the other tasks' last figures (the C task alone takes hours), each
    task's with the machine it ran on: an earlier result written without one gets the file's."""
    last = read_json(path) if path.exists() else {}
    kept = {
        task: {"machine": last.get("machine"), **figures}
        for task, figures in last.items()
        if task in PROFILE_OF_TASK and task not in results
    }
    return {**kept, **results}


if __name__ == "__main__":
    main()
