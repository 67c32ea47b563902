"""train@N's device, precision and memory options (train.device, train.quantization,
train.gradient_checkpointing) on the tiny model, with what this machine has."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_train import GOLDEN_LOSSES, GOLDEN_TOLERANCE, make_params, step_losses, weights
from transformers import TrainerCallback

from distilloop import UserError
from distilloop.training.sft import checkpointing, unwrapped
from stages import train as stage


def test_gradient_checkpointing_trains_the_same_adapter(train_project):
    """Recomputing activations in the backward pass (train.gradient_checkpointing, the real trainer and
    the CPU) gives the golden losses of a run without it, and the same adapter within float rounding."""
    seen = []

    class Checkpointing(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            seen.append(checkpointing(unwrapped(model).get_base_model()))

    plain = stage.run(make_params(), epoch=1, out_dir=Path("runs/plain"), extra_callbacks=(Checkpointing(),))
    checkpointed = stage.run(
        make_params(gradient_checkpointing=True),
        epoch=1,
        out_dir=Path("runs/checkpointed"),
        extra_callbacks=(Checkpointing(),),
    )
    assert seen == [False] * 8 + [True] * 8  # recomputed in the second run only
    assert plain["steps"] == checkpointed["steps"] == len(GOLDEN_LOSSES)
    losses = step_losses(Path("runs/checkpointed/live"))
    assert list(losses.values()) == pytest.approx(list(step_losses(Path("runs/plain/live")).values()), abs=1e-5)
    assert list(losses.values()) == pytest.approx(GOLDEN_LOSSES, abs=GOLDEN_TOLERANCE)
    a, b = weights(Path("runs/plain/adapter")), weights(Path("runs/checkpointed/adapter"))
    assert a.keys() == b.keys()
    moved = max(float((a[k] - weights(Path("runs/epoch-0/adapter"))[k]).abs().max()) for k in a)
    assert moved > 1e-3  # training moved the adapter ...
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-3 * moved  # ... and both runs moved it alike


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: 4-bit is allowed here")
def test_4bit_is_refused_without_cuda_in_one_line(train_project):
    with pytest.raises(UserError) as error:
        stage.run(make_params(quantization="4bit"), epoch=1)
    message = str(error.value)
    assert message.startswith("train.quantization: 4bit (bitsandbytes QLoRA) needs a CUDA device; this run's is ")
    assert "\n" not in message
    assert not Path("runs/epoch-1/adapter").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_an_absent_training_device_is_one_line(train_project):
    with pytest.raises(UserError, match="^train.device: cuda requested but this machine has no CUDA device"):
        stage.run(make_params(device="cuda"), epoch=1)


def test_float16_autocast_is_refused_on_the_cpu(train_project):
    with pytest.raises(UserError, match="^train.dtype: float16 autocast needs a GPU"):
        stage.run(make_params(device="cpu", dtype="float16"), epoch=1)
