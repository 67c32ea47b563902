"""train@N over several processes. With runtime.distributed set, `distilloop train` decides in one process
whether there is anything to train (the pass-through and skip rules), then re-runs itself under
`accelerate launch` as the workers: DDP over gloo on CPUs (torchrun underneath), NCCL on GPUs, or
whatever an accelerate config file describes (FSDP, several machines). train.batch_size stays the
global batch: each worker takes batch_size / processes examples of every step, so a run with the same
params gives the adapter a single process would have given (up to float summation order; LoRA dropout
draws different masks per process).

Inside the workers only the main process writes files; the others wait for it where the stage reads
what it wrote.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import deque
from pathlib import Path

from distilloop import UserError
from distilloop.config import DistributedParams
from distilloop.console import console

WORKER_ENV = "DISTILLOOP_TRAIN_WORKER"  # set for the launched workers: they train rather than launch again
ERROR_PREFIX = "distilloop: error: "


def in_worker() -> bool:
    return os.environ.get(WORKER_ENV) == "1"


def local_processes() -> int:
    """Workers on this machine (torchrun's LOCAL_WORLD_SIZE); they share its cores."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


class Ranks:
    """The worker's place in the process group; a single process is rank 0 of 1."""

    def __init__(self):
        self.state = None
        if in_worker() and "WORLD_SIZE" in os.environ:
            import torch
            from accelerate import PartialState

            self.state = PartialState(cpu=not torch.cuda.is_available())

    @property
    def is_main(self) -> bool:
        return self.state is None or self.state.is_main_process

    @property
    def count(self) -> int:
        return 1 if self.state is None else self.state.num_processes

    def wait(self) -> None:
        if self.state is not None:
            self.state.wait_for_everyone()


def launch_command(config: DistributedParams, module: str, arguments: list[str]) -> list[str]:
    """`accelerate launch` running `python -m MODULE <arguments>` (the train stage) in every worker."""
    command = [sys.executable, "-m", "accelerate.commands.launch"]
    if config.config_file:
        if not Path(config.config_file).is_file():
            raise UserError(f"runtime.distributed.config_file: {config.config_file} not found")
        command += ["--config_file", config.config_file]
    else:  # --multi_gpu is accelerate's name for its torchrun launcher; on a CPU the workers use gloo
        command += [
            "--multi_gpu",
            "--num_processes",
            str(config.processes),
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
        ]
    return command + ["--module", module, *arguments]


def launch(config: DistributedParams, module: str, arguments: list[str], log_path: Path) -> None:
    """Run the workers and wait. Their output is passed on as it arrives and kept in `log_path`; a
    worker's one-line error becomes this process's error, and the launcher's traceback dump stays in
    the log."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = launch_command(config, module, arguments)
    console.print(f"train: {config.config_file or f'{config.processes} processes'} under accelerate launch")
    errors, tail, passing_on = [], deque(maxlen=20), True
    env = {**os.environ, WORKER_ENV: "1", "PYTHONUNBUFFERED": "1"}
    with (
        open(log_path, "w", encoding="utf-8") as log,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", env=env
        ) as workers,
    ):
        for line in workers.stdout:
            log.write(line)
            tail.append(line)
            if line.startswith(ERROR_PREFIX):
                errors.append(line[len(ERROR_PREFIX) :].strip())
                continue
            if "Traceback (most recent call last)" in line or "ChildFailedError" in line:
                passing_on = False  # torchrun's failure report: kept in the log, not shown
            if passing_on:
                sys.stderr.write(line)
        code = workers.wait()
    if code != 0:
        reason = errors[0] if errors else f"training workers failed (exit {code}); their output: {log_path}"
        raise UserError(reason)
    log_path.unlink(missing_ok=True)
