"""The container's entry point: `python -m distilloop.cloud.entrypoint train|serve` (SageMaker runs the
image with `train` for a training job and `serve` for an endpoint).

train: the project (the `code` channel's tarball of git HEAD) is unpacked into the checkpoint directory,
so SageMaker syncs all of it to CheckpointConfig.S3Uri while the job runs and puts it back when a spot
job restarts: dvc.lock, the DVC cache with its run cache, and the training checkpoints. Then
`dvc pull --run-cache` (what the remote has), `dvc exp run -S key=value ...` with the hyperparameters
(`dvc repro` when there are none), `dvc push --run-cache`, the shipped model and its figures copied into
the model directory (SageMaker's model.tar.gz), and one `distilloop-metric NAME=VALUE` line per headline
figure for the job's MetricDefinitions. On SIGTERM the running step is told (the trainer writes a
checkpoint and exits), every process started is waited for, and the job exits 143.

serve: `distilloop serve` on 0.0.0.0:$SAGEMAKER_BIND_TO_PORT (8080) with the GGUF the model's Modelfile names.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

from distilloop import UserError
from distilloop.cloud.layout import CHECKPOINT_DIR_ENV, CODE_CHANNEL, Layout, read_hyperparameters
from distilloop.cloud.metrics import metric_lines
from distilloop.console import fail
from distilloop.io import read_json

# what the model directory receives (relative to the project), besides dvc.lock and params.yaml
DEFAULT_MODEL_OUTPUTS = "models/gguf metrics/summary.json"
GIT = ["git", "-c", "user.email=distilloop@sagemaker.invalid", "-c", "user.name=distilloop"]
# what a killed instance leaves behind that would block the next one: DVC's locks and its record of a
# running workspace experiment (both name processes of a machine that is gone)
INTERRUPTED_EXIT = 128 + signal.SIGTERM
STALE = (".dvc/tmp/lock", ".dvc/tmp/rwlock", ".dvc/tmp/rwlock.lock", ".dvc/tmp/exps/run")


def say(message: str) -> None:
    print(f"distilloop-entrypoint: {message}", file=sys.stderr, flush=True)


class Runner:
    """Runs commands one at a time, each in its own process group; SIGTERM is passed on to that group, and
    then every process started is waited for (this process adopts orphans: PR_SET_CHILD_SUBREAPER), so the
    trainer's last checkpoint is complete before the job exits."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.current: subprocess.Popen | None = None
        self.interrupted = False
        try:
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass  # not Linux: orphans go to init, and only the direct child is waited for
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum, frame) -> None:
        self.interrupted = True
        if self.current is not None and self.current.poll() is None:
            try:
                os.killpg(self.current.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def run(self, *command: str, check: bool = True) -> int:
        if self.interrupted:
            self.stop()
        say("$ " + " ".join(command))
        self.current = subprocess.Popen(command, cwd=self.cwd, start_new_session=True)
        code = self.current.wait()
        if self.interrupted:
            self.stop()
        if check and code != 0:
            raise UserError(f"{' '.join(command[:3])} failed (exit {code})")
        return code

    def stop(self) -> None:
        while True:  # the processes the interrupted command left behind (a stage outliving dvc)
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
        say("interrupted (SIGTERM): checkpoints are in the checkpoint directory; a restarted job resumes from them")
        sys.exit(INTERRUPTED_EXIT)


def unpack_code(layout: Layout, project: Path) -> None:
    """The code channel's tarball into `project` (once: a restarted job finds it there), as a git repository
    (`dvc exp run` records experiments in git)."""
    channel = layout.channel(CODE_CHANNEL)
    archives = sorted(channel.glob("*.tar.gz")) if channel.is_dir() else []
    if len(archives) != 1:
        raise UserError(f"{channel}: expected one .tar.gz of the project (the `code` channel), found {len(archives)}")
    staging = project.with_name(project.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(archives[0]) as tar:
        tar.extractall(staging, filter="data")
    if not (staging / "dvc.yaml").exists():
        raise UserError(f"{archives[0]}: no dvc.yaml at the top of the archive (make it with `git archive HEAD`)")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "distilloop job: the code channel at HEAD"]):
        subprocess.run([*GIT, *command], cwd=staging, check=True, capture_output=True)
    os.replace(staging, project)


def copy_model(project: Path, model_dir: Path) -> list[str]:
    """The shipped outputs into the model directory, at their project paths; returns what was missing."""
    wanted = os.environ.get("DISTILLOOP_MODEL_OUTPUTS", DEFAULT_MODEL_OUTPUTS).split()
    missing = []
    for name in [*wanted, "dvc.lock", "params.yaml"]:
        source, target = project / name, model_dir / name
        if not source.exists():
            missing.append(name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    return missing


def train(layout: Layout) -> None:
    os.environ[CHECKPOINT_DIR_ENV] = str(layout.checkpoints)  # the trainer's time and SIGTERM checkpoints
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    overrides, targets = read_hyperparameters(layout.hyperparameters)
    project = layout.project
    if (project / "dvc.yaml").exists():
        say(f"{project}: restored from the checkpoint directory (a restarted job): resuming")
        for name in STALE:
            path = project / name
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    else:
        unpack_code(layout, project)
    runner = Runner(project)
    runner.run("dvc", "pull", "--run-cache", "--allow-missing", check=False)  # a first run finds nothing
    if overrides:
        settings = [part for key, value in overrides.items() for part in ("-S", f"{key}={value}")]
        runner.run("dvc", "exp", "run", *settings, *targets)
    else:
        runner.run("dvc", "repro", *targets)
    runner.run("dvc", "push", "--run-cache")
    missing = copy_model(project, layout.model)
    if missing:
        say(f"not in the project, so not in the model: {', '.join(missing)}")
    summary = project / "metrics" / "summary.json"
    if summary.exists():
        for line in metric_lines(read_json(summary)):
            print(line, flush=True)


def served_model(model_dir: Path) -> Path:
    """The GGUF the Modelfile uses (models/gguf/Modelfile: FROM ./model-q4_k_m.gguf), else the only GGUF."""
    modelfile = model_dir / "models" / "gguf" / "Modelfile"
    if modelfile.exists():
        for line in modelfile.read_text(encoding="utf-8").splitlines():
            if line.startswith("FROM "):
                path = (modelfile.parent / line[5:].strip()).resolve()
                if path.is_file():
                    return path
    ggufs = sorted(model_dir.rglob("*.gguf"))
    if len(ggufs) != 1:
        raise UserError(f"{model_dir}: expected models/gguf/Modelfile or exactly one .gguf, found {len(ggufs)} .gguf")
    return ggufs[0]


def serve(layout: Layout) -> None:
    model = served_model(layout.model)
    port = os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")
    command = [sys.executable, "-m", "distilloop.cli", "serve", "--model", str(model), "--host", "0.0.0.0"]
    command += ["--port", port]
    if (layout.model / "params.yaml").exists():
        command += ["--params", str(layout.model / "params.yaml")]
    say("$ " + " ".join(command))
    os.execv(sys.executable, command)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    layout = Layout.from_env()
    try:
        if argv == ["train"]:
            train(layout)
        elif argv == ["serve"]:
            serve(layout)
        else:
            raise UserError(
                f"usage: python -m distilloop.cloud.entrypoint train|serve (got {' '.join(argv) or 'nothing'})"
            )
    except UserError as exc:
        fail(str(exc))
        if argv == ["train"]:  # SageMaker shows this file's text as the job's FailureReason
            layout.output.mkdir(parents=True, exist_ok=True)
            (layout.output / "failure").write_text(str(exc), encoding="utf-8")
        sys.exit(1)


if __name__ == "__main__":
    main()
