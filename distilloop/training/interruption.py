"""Checkpoints for machines that can be taken away (SageMaker managed spot): a checkpoint every
DISTILLOOP_CHECKPOINT_MINUTES besides the step checkpoints, and on SIGTERM (SageMaker's two-minute
warning) one more checkpoint, then exit 143, so that a restarted run resumes the interrupted epoch from it.

Active only where DISTILLOOP_CHECKPOINT_DIR is set (distilloop.cloud.entrypoint sets it: the project
then lives in the directory SageMaker syncs to S3), so runs elsewhere train exactly as before. Extra
checkpoints do not change what is trained: saving reads the optimiser, scheduler and RNG states and
draws nothing. Single-process training only: under DDP the ranks would decide on different steps.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from transformers import TrainerCallback

CHECKPOINT_DIR_ENV = "DISTILLOOP_CHECKPOINT_DIR"
INTERVAL_ENV = "DISTILLOOP_CHECKPOINT_MINUTES"
DEFAULT_MINUTES = 30.0
INTERRUPTED_EXIT = 128 + signal.SIGTERM  # what a shell reports for a process ended by SIGTERM


class Interrupted(SystemExit):
    """Raised after the SIGTERM checkpoint is on disk: the stage ends here, before it would write a half-trained
    adapter as if training had finished."""


class CheckpointOnTimeAndSigterm(TrainerCallback):
    """Sets `control.should_save` once `minutes` have passed since the last checkpoint, and at the end of the
    step during which SIGTERM arrived; after that checkpoint is saved, ends the process (Interrupted).
    should_training_stop is not used: the Trainer stores its control flags in the checkpoint, and a resumed
    run would read the stop back and stop at once."""

    def __init__(self, minutes: float):
        self.seconds = minutes * 60
        self.last_save = time.monotonic()
        self.signalled = False
        self.previous_handler = None

    def _on_sigterm(self, signum, frame) -> None:
        self.signalled = True  # the step under way finishes; on_step_end asks for the checkpoint

    def on_train_begin(self, args, state, control, **kwargs):
        self.last_save = time.monotonic()
        self.previous_handler = signal.signal(signal.SIGTERM, self._on_sigterm)

    def on_train_end(self, args, state, control, **kwargs):
        if self.previous_handler is not None:
            signal.signal(signal.SIGTERM, self.previous_handler)

    def on_step_end(self, args, state, control, **kwargs):
        if self.signalled or time.monotonic() - self.last_save >= self.seconds:
            control.should_save = True
        return control

    def on_save(self, args, state, control, **kwargs):
        self.last_save = time.monotonic()
        if self.signalled:
            print(
                f"train: SIGTERM: checkpoint-{state.global_step} saved in {args.output_dir}; "
                "exiting so that a restarted run resumes from it",
                file=sys.stderr,
                flush=True,
            )
            raise Interrupted(INTERRUPTED_EXIT)
        return control


def interruption_callbacks(processes: int = 1) -> list:
    """The callbacks for this environment: none unless DISTILLOOP_CHECKPOINT_DIR is set."""
    if not os.environ.get(CHECKPOINT_DIR_ENV) or processes != 1:
        return []
    minutes = float(os.environ.get(INTERVAL_ENV) or DEFAULT_MINUTES)
    return [CheckpointOnTimeAndSigterm(minutes)]
