"""The pipeline end to end: the smoke profile under `dvc repro`, then a no-op `dvc repro`.

Figures and their baselines, all from copies of the working tree on the smoke profile:
- end to end: `dvc repro` from nothing; baseline: the same stage commands run by hand, in the order
  `dvc repro` ran them, in a second copy. The ratio is what DVC adds (hashing, caching, locks).
- no-op: `dvc repro` again with nothing changed (median of 3); baseline: `dvc version`, the start-up
  every DVC command pays. The ratio is what checking every stage costs on top of starting DVC.

    python -m bench.pipeline
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import copy_worktree, save, stopwatch

ROOT = Path(__file__).resolve().parent.parent


def environment(cache_dir: Path) -> dict:
    env = dict(os.environ, DVC_NO_ANALYTICS="1", DISTILLOOP_CACHE_DIR=str(cache_dir))  # a cold teacher cache
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(project: Path, command: list[str] | str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, shell=isinstance(command, str)
    )
    if result.returncode != 0:
        raise SystemExit(
            f"bench.pipeline: {command} failed in {project}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return result


def timed(project: Path, command, env: dict) -> tuple[float, subprocess.CompletedProcess]:
    with stopwatch() as elapsed:
        result = run(project, command, env)
    return elapsed(), result


def smoke_project(workdir: Path, name: str) -> tuple[Path, dict]:
    project = copy_worktree(ROOT, workdir / name)
    env = environment(workdir / f"{name}-cache")
    git = ["git", "-c", "user.email=bench@distilloop.invalid", "-c", "user.name=bench"]
    run(project, ["git", "init", "-q"], env)
    run(project, [sys.executable, "-m", "distilloop.cli", "profile", "smoke"], env)
    run(project, [*git, "add", "-A"], env)
    run(project, [*git, "commit", "-qm", "smoke"], env)
    return project, env


def repro_by_stage(project: Path, env: dict) -> tuple[float, dict[str, float]]:
    """`dvc repro` with a stopwatch per stage: (total seconds, {stage: seconds}), a stage's time running from
    DVC's "Running stage" line to the next one (or the end), so it includes DVC's own hashing around it."""
    starts, lines = [], []
    with stopwatch() as elapsed:
        process = subprocess.Popen(
            ["dvc", "repro"],
            cwd=project,
            env=dict(env, PYTHONUNBUFFERED="1"),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Running stage '"):
                starts.append((line.split("'")[1], elapsed()))
        process.wait()
    if process.returncode != 0:
        raise SystemExit(f"bench.pipeline: dvc repro failed in {project}:\n{''.join(lines)[-4000:]}")
    total = elapsed()
    ends = [start for _, start in starts[1:]] + [total]
    return total, {stage: round(end - start, 1) for (stage, start), end in zip(starts, ends)}


def stage_commands(repro_output: str) -> list[tuple[str, str]]:
    """(stage, command) in the order `dvc repro` ran them."""
    commands, stage = [], None
    for line in repro_output.splitlines():
        if line.startswith("Running stage '"):
            stage = line.split("'")[1]
        elif line.startswith("> ") and stage:
            commands.append((stage, line[2:]))
    return commands


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        workdir = Path(tmp)
        project, env = smoke_project(workdir, "dvc")
        repro_seconds, repro = timed(project, ["dvc", "repro"], env)
        commands = stage_commands(repro.stdout)
        noop = [timed(project, ["dvc", "repro"], env)[0] for _ in range(3)]
        version = [timed(project, ["dvc", "version"], env)[0] for _ in range(3)]

        by_hand, by_hand_env = smoke_project(workdir, "by-hand")
        hand_seconds = 0.0
        for _, command in commands:
            hand_seconds += timed(by_hand, command, by_hand_env)[0]

    noop_median, version_median = statistics.median(noop), statistics.median(version)
    save(
        "pipeline",
        {
            "profile": "smoke",
            "stages": len({stage for stage, _ in commands}),
            "end_to_end_seconds": round(repro_seconds, 1),
            "by_hand_seconds": round(hand_seconds, 1),
            "by_hand_commands": len(commands),
            "end_to_end_ratio_vs_by_hand": round(repro_seconds / hand_seconds, 3),
            "noop_repro_seconds": round(noop_median, 2),
            "noop_repro_runs": [round(value, 2) for value in noop],
            "dvc_version_seconds": round(version_median, 2),
            "noop_ratio_vs_dvc_start": round(noop_median / version_median, 2),
        },
    )


if __name__ == "__main__":
    main()
