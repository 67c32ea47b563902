"""The one device and dtype decision (distilloop/hardware.py: pick_device, pick_dtype and their torch-backed
resolve_device, resolve_dtype), with explicit inputs for machines this one is not, and the real torch
calls for what this machine has."""

from __future__ import annotations

import pytest
import torch

from distilloop import UserError
from distilloop.config import Params
from distilloop.hardware import bf16_supported, pick_device, pick_dtype, resolve_device, resolve_dtype


@pytest.mark.parametrize(
    "name, cuda, mps, expected",
    [
        ("auto", 2, True, "cuda"),  # CUDA first
        ("auto", 0, True, "mps"),  # then MPS
        ("auto", 0, False, "cpu"),  # then the CPU
        ("cuda", 1, False, "cuda"),
        ("cuda:1", 2, False, "cuda:1"),
        ("mps", 0, True, "mps"),
        ("cpu", 4, True, "cpu"),  # an explicit CPU even where a GPU is there
    ],
)
def test_device_decision(name, cuda, mps, expected):
    assert pick_device(name, cuda, mps) == expected


@pytest.mark.parametrize(
    "name, cuda, mps, message",
    [
        ("cuda", 0, False, "train.device: cuda requested but this machine has no CUDA device; use auto or cpu"),
        ("cuda:2", 2, False, "train.device: cuda:2 requested but this machine has 2 CUDA device(s); use auto or cpu"),
        ("mps", 1, False, "train.device: mps requested but this machine has no Apple Metal (MPS) device"),
        ("gpu", 1, True, "train.device: 'gpu' is not a device (auto, cpu, mps, cuda or cuda:N)"),
    ],
)
def test_a_device_that_is_not_there_is_one_line(name, cuda, mps, message):
    with pytest.raises(UserError) as error:
        pick_device(name, cuda, mps, "train.device")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "name, device, capability, cpu_bf16, expected",
    [
        ("auto", "cuda", (9, 0), False, "bfloat16"),  # H100
        ("auto", "cuda", (8, 0), False, "bfloat16"),  # A100
        ("auto", "cuda", (7, 5), False, "float16"),  # T4: no native bf16
        ("auto", "cuda", (6, 0), False, "float16"),
        ("auto", "mps", None, False, "float32"),
        ("auto", "cpu", None, True, "bfloat16"),  # AVX512-BF16 / AMX
        ("auto", "cpu", None, False, "float32"),
        ("float32", "cuda", (9, 0), False, "float32"),  # explicit names as given
        ("bfloat16", "cpu", None, False, "bfloat16"),
        ("float16", "cuda", (8, 6), False, "float16"),
    ],
)
def test_dtype_decision(name, device, capability, cpu_bf16, expected):
    assert pick_dtype(name, device, capability, cpu_bf16) == expected


def test_this_machine_with_the_real_torch_calls():
    """What this machine has decides auto, through torch itself: no accelerator here means the CPU, and
    the CPU's dtype is today's flag check (unchanged default run)."""
    device = resolve_device("auto")
    has_cuda, has_mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    assert device.type == ("cuda" if has_cuda else "mps" if has_mps else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_dtype("auto", torch.device("cpu")) == (torch.bfloat16 if bf16_supported() else torch.float32)
    assert resolve_dtype("auto") == resolve_dtype("auto", torch.device("cpu"))  # no device: the CPU, as before
    assert resolve_dtype("float16", device) == torch.float16
    if not has_cuda:
        with pytest.raises(UserError, match="student.device: cuda requested but this machine has no CUDA device"):
            resolve_device("cuda", "student.device")
    else:
        major, _ = torch.cuda.get_device_capability(device)
        assert resolve_dtype("auto", device) == (torch.bfloat16 if major >= 8 else torch.float16)


def test_params_take_the_new_keys_with_auto_defaults_and_refuse_bad_ones():
    params = Params()
    assert params.student.device == params.train.device == "auto"
    assert params.train.quantization == "none" and params.train.gradient_checkpointing is False
    params = Params.model_validate({"student": {"device": "cuda:1"}, "train": {"device": "cpu", "dtype": "float16"}})
    assert params.student.device == "cuda:1" and params.train.dtype == "float16"
    with pytest.raises(ValueError, match="device"):
        Params.model_validate({"train": {"device": "tpu"}})
