"""The whole pipeline end to end on the smoke profile (the real student, few rows, short answers),
as a user drives it: `dvc repro`, a no-op repro, `distilloop status`, offline `dvc plots`, an S3
remote round trip, and `dvc exp run -S quality_threshold=...` with `dvc metrics diff`.

The tests share one run (module fixture) and go in file order: the later ones change the workspace.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, cli_env

from bench.common import copy_worktree

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]  # the whole pipeline once, in the first test
GGUF_TYPES = ("f16", "q4_k_m")  # params.yaml quantise.types


def run(project: Path, *command: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=project, env=env or cli_env(), capture_output=True, text=True, timeout=1800)
    if check:
        assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result


def stages_run(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")]


def digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


GIT = ("git", "-c", "user.email=t@distilloop.invalid", "-c", "user.name=t")


def smoke_project(root: Path) -> Path:
    """A git repository holding the project's files on the smoke profile."""
    project = copy_worktree(ROOT, root)
    run(project, "git", "init", "-q")
    run(project, sys.executable, "-m", "distilloop.cli", "profile", "smoke")
    return project


def committed_repro(project: Path, what: str) -> str:
    """Commit the project as it stands, `dvc repro`, commit the run; the repro's output."""
    run(project, *GIT, "add", "-A")
    run(project, *GIT, "commit", "-qm", what)
    repro = run(project, "dvc", "repro")
    run(project, *GIT, "add", "-A")
    run(project, *GIT, "commit", "-qm", f"{what}: run")
    return repro.stdout


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """A clone of the project on the smoke profile after one `dvc repro`."""
    project = smoke_project(tmp_path_factory.mktemp("smoke") / "project")
    return project, committed_repro(project, "smoke profile")


def test_every_stage_runs_and_writes_its_outputs(smoke):
    project, output = smoke
    expected = [
        "export",
        "base",
        "baseline",
        "correct@1",
        "merge@1",
        "train@1",
        "evaluate@1",
        "correct@2",
        "merge@2",
        "train@2",
        "evaluate@2",
        "select",
        "rl",
        "merge_lora",
        "quantise",
    ]
    assert sorted(stages_run(output)) == sorted(expected)
    epochs = [json.loads((project / f"metrics/epochs/{n}.json").read_text()) for n in (0, 1, 2)]
    assert all(m["test"]["count"] > 0 and 0 <= m["test"]["pass_rate"] <= 1 for m in epochs)
    correct = json.loads((project / "metrics/epochs/1-correct.json").read_text())
    assert correct["requested"] > 0 and correct["accepted"] > 0 and correct["cost_usd"] == 0.0  # reference teacher
    train = json.loads((project / "metrics/epochs/1-train.json").read_text())
    assert train["steps"] > 0 and train["train_loss"] > 0
    best = json.loads((project / "metrics/best.json").read_text())
    assert best["epoch"] in (0, 1, 2) and (project / "models/best-adapter/adapter_config.json").exists()
    rl = json.loads((project / "metrics/rl.json").read_text())  # the smoke profile leaves rl disabled
    assert rl["enabled"] is False and (project / "models/rl-adapter/adapter_config.json").exists()
    merge = json.loads((project / "metrics/merge.json").read_text())
    assert merge["max_abs_logit_diff"] <= merge["tolerance"]
    quantise = json.loads((project / "metrics/quantise.json").read_text())
    assert set(quantise["types"]) == set(GGUF_TYPES)
    assert all((project / f"models/gguf/model-{kind}.gguf").stat().st_size > 0 for kind in GGUF_TYPES)
    assert (project / "models/gguf/Modelfile").read_text().startswith("FROM ./model-q4_k_m.gguf")
    assert "Data and pipelines are up to date" in run(project, "dvc", "status").stdout


def test_dvc_metrics_show_is_the_headline(smoke):
    project, _ = smoke
    summary = json.loads((project / "metrics/summary.json").read_text())
    best = json.loads((project / "metrics/best.json").read_text())
    quantise = json.loads((project / "metrics/quantise.json").read_text())
    assert summary["best_epoch"] == best["epoch"]
    assert summary["q4_k_m"]["test_pass_rate"] == round(quantise["types"]["q4_k_m"]["pass_rate"], 4)
    assert set(summary["val_pass_rate"]) == set(summary["test_pass_rate"]) == {"0", "1", "2"}
    shown = run(project, "dvc", "metrics", "show").stdout
    header = shown.strip().splitlines()[0]
    columns = re.split(r"\s{2,}", header.strip())
    assert columns[0] == "Path" and len(columns) <= 20, shown
    assert "metrics/summary.json" in shown and "metrics/epochs" not in shown


def test_a_second_repro_runs_nothing(smoke):
    project, _ = smoke
    again = run(project, "dvc", "repro")
    assert stages_run(again.stdout) == [] and "Data and pipelines are up to date" in again.stdout


def test_status_has_a_row_per_epoch(smoke):
    project, _ = smoke
    table = run(project, sys.executable, "-m", "distilloop.cli", "status").stdout
    rows = [line for line in table.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["0", "1", "2"]
    correct = json.loads((project / "metrics/epochs/1-correct.json").read_text())
    assert f"│ {correct['requested']} " in rows[1]
    assert "best epoch by val" in table


def test_plots_render_offline(smoke, tmp_path):
    project, _ = smoke
    template = Path(sys.prefix) / "share/distilloop/plots.html"
    assert template.exists(), "make setup builds the offline plots template"
    run(project, "dvc", "plots", "show", "--html-template", str(template), "-o", str(tmp_path / "plots"))
    page = (tmp_path / "plots/index.html").read_text()
    assert "<script src" not in page and "cdn.jsdelivr" not in page
    rendered = json.loads(
        subprocess.run(
            ["node", str(ROOT / "scripts/render_plots.js"), str(tmp_path / "plots/index.html")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    titles = {plot["title"]: plot for plot in rendered}
    assert set(titles) == {
        "Pass rate per epoch",
        "Test score histogram per epoch (answers per score bucket)",
        "Training loss (every epoch)",
    }
    assert titles["Pass rate per epoch"]["rows"] == 3 * 3  # three epochs, three splits
    assert all(plot["marks"] > 10 and plot["svg_bytes"] > 5000 for plot in rendered)


def test_push_to_s3_then_pull_restores_every_output(smoke, s3_endpoint):
    import boto3

    project, _ = smoke
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket="distilloop")
    env = cli_env(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    # the remote setup the README documents; credentials stay in the environment, never in .dvc/config
    run(project, "dvc", "remote", "add", "-d", "storage", "s3://distilloop/cache", env=env)
    run(project, "dvc", "remote", "modify", "storage", "endpointurl", s3_endpoint, env=env)
    assert "testing" not in (project / ".dvc/config").read_text()
    # every versioned output; checkpoints/ and live/ are `cache: false`, kept in the workspace only
    outputs = [
        project / path
        for path in (
            "data/export",
            "models/base",
            "models/best-adapter",
            "models/rl-adapter",
            "models/merged",
            "models/gguf",
        )
    ] + [
        *(
            path
            for path in project.glob("runs/epoch-*/*")
            if path.name not in ("checkpoints", "live") and not path.name.startswith(".")
        )
    ]
    before = {out: digests(out) if out.is_dir() else out.read_bytes() for out in outputs}
    run(project, "dvc", "push", env=env)

    shutil.rmtree(project / ".dvc/cache")
    for out in outputs:
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    run(project, "dvc", "pull", env=env)
    assert {out: digests(out) if out.is_dir() else out.read_bytes() for out in outputs} == before
    assert "Data and pipelines are up to date" in run(project, "dvc", "status", env=env).stdout


def test_threshold_experiment_starts_at_correct_and_converged_epochs_pass_through(smoke):
    project, _ = smoke
    # a threshold every answer meets, and patience for any number of corrections: epoch 1 converges
    experiment = run(
        project, "dvc", "exp", "run", "-S", "quality_threshold=0", "-S", "loop.converge_max_corrections=1000"
    )
    ran = stages_run(experiment.stdout)
    assert not {"export", "base", "baseline"} & set(ran)
    assert ran[0] == "correct@1" and "evaluate@2" in ran
    epoch1 = json.loads((project / "metrics/epochs/1.json").read_text())
    epoch2 = json.loads((project / "metrics/epochs/2.json").read_text())
    assert epoch1["converged"] and epoch1["converged_at"] == 1
    assert epoch2["passed_through"].startswith("passed through: converged at epoch 1")
    assert json.loads((project / "metrics/epochs/2-correct.json").read_text())["sent"] == 0
    assert json.loads((project / "metrics/epochs/2-train.json").read_text())["skipped"].startswith("passed through")
    assert digests(project / "runs/epoch-2/adapter") == digests(project / "runs/epoch-1/adapter")
    everything = json.loads(run(project, "dvc", "metrics", "diff", "--all", "--json").stdout)
    assert set(everything) == {"metrics/summary.json"}  # the headline is DVC's one metrics file
    assert {"teacher_cost_usd", "corrections_accepted", "test_pass_rate.1"} <= set(everything["metrics/summary.json"])
