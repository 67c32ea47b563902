"""runtime.distributed: `distilloop train` under `accelerate launch`, two gloo processes on the CPU.

The claim: with the same params (train.batch_size is the global batch), two processes train the adapter
one process trains. Float summation order differs (each process sums its half, gloo averages the
gradients), so the adapters agree within a tolerance, stated relative to how far training moved the
weights: the distributed run must sit within 0.1% of that distance from the single-process adapter, where
a single process with half the batch lands far outside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import assert_one_line_error, run_cli
from safetensors.torch import load_file

TRAIN = "train:\n  epochs: 1\n  learning_rate: 0.005\n  dtype: float32\n  seed: 0\n"
TWO = "runtime:\n  threads: 1\n  distributed: {processes: 2}\n"
RELATIVE_TOLERANCE = 1e-3  # measured: 9e-8 against a move of 1e-2 (about 1e-5)


def adapter(path: Path) -> torch.Tensor:
    """The adapter's weights as one vector, in a fixed order."""
    tensors = load_file(str(path / "adapter_model.safetensors"))
    return torch.cat([tensors[name].flatten() for name in sorted(tensors)])


def train(project: Path, out: str, settings: str) -> dict:
    runtime = "" if "runtime:" in settings else "runtime:\n  threads: 1\n"
    (project / f"{out}.yaml").write_text(TRAIN + settings + runtime)
    result = run_cli("train", "--epoch", "1", "--out", out, "--params", f"{out}.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads((project / out / "train-metrics.json").read_text())


@pytest.fixture
def deterministic_project(train_project):
    """No val split (the eval loss is a mean of per-batch means, which the batch partition changes) and no
    LoRA dropout (every process draws its own masks)."""
    (train_project / "data/export/val.jsonl").unlink()
    config_path = train_project / "runs/epoch-0/adapter/adapter_config.json"
    config = json.loads(config_path.read_text())
    config["lora_dropout"] = 0.0
    config_path.write_text(json.dumps(config))
    return train_project


def test_two_processes_train_the_adapter_of_one_with_the_same_global_batch(deterministic_project):
    project = deterministic_project
    single = train(project, "single", "  batch_size: 4\n")
    double = train(project, "double", "  batch_size: 4\n" + TWO)
    train(project, "half", "  batch_size: 2\n")  # its adapter is compared below

    assert single["steps"] == double["steps"] == 4  # 16 records, 4 per step, both processes together
    assert double["tokens"] == single["tokens"]  # every process's tokens counted once
    assert double["train_loss"] == pytest.approx(single["train_loss"], rel=1e-4)
    assert not (project / "double" / "train-workers.log").exists()  # the log of a failed launch only

    start = adapter(project / "runs/epoch-0/adapter")
    moved = (adapter(project / "single/adapter") - start).abs().max()
    distributed_gap = (adapter(project / "double/adapter") - adapter(project / "single/adapter")).abs().max()
    half_batch_gap = (adapter(project / "half/adapter") - adapter(project / "single/adapter")).abs().max()
    assert moved > 1e-3
    assert distributed_gap <= RELATIVE_TOLERANCE * moved, (distributed_gap, moved)
    assert half_batch_gap > 10 * RELATIVE_TOLERANCE * moved  # the tolerance tells batch sizes apart


def test_bad_setups_stop_before_the_launch_with_one_line(deterministic_project):
    project = deterministic_project
    (project / "odd.yaml").write_text(TRAIN + "  batch_size: 3\n" + TWO)
    result = run_cli("train", "--epoch", "1", "--params", "odd.yaml", cwd=project)
    assert_one_line_error(result, "train.batch_size 3 must be a multiple of runtime.distributed.processes 2")

    (project / "elsewhere.yaml").write_text(
        TRAIN + "  batch_size: 4\nruntime:\n  distributed: {config_file: nowhere.yaml}\n"
    )
    result = run_cli("train", "--epoch", "1", "--params", "elsewhere.yaml", cwd=project)
    assert_one_line_error(result, "runtime.distributed.config_file: nowhere.yaml not found")

    (project / "two.yaml").write_text(TRAIN + "  batch_size: 4\n" + TWO)
    (project / "models/base").unlink()
    result = run_cli("train", "--epoch", "1", "--params", "two.yaml", cwd=project)
    assert_one_line_error(result, "no base model")


def test_a_failing_worker_ends_in_one_error_line_and_keeps_its_log(deterministic_project, tiny_model_dir):
    """Broken weights only a worker finds: the user gets one error line naming the workers' log, and
    torchrun's traceback dump stays in that log. The launch goes through an accelerate config file."""
    project = deterministic_project
    (project / "models/base").unlink()
    broken = project / "models/base"
    broken.mkdir()
    for item in Path(tiny_model_dir).iterdir():
        (broken / item.name).write_bytes(item.read_bytes())
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    (project / "accelerate.yaml").write_text(
        "distributed_type: MULTI_GPU\nnum_machines: 1\nnum_processes: 2\n"
        "mixed_precision: 'no'\ncompute_environment: LOCAL_MACHINE\n"
    )
    (project / "two.yaml").write_text(
        TRAIN + "  batch_size: 4\nruntime:\n  distributed: {config_file: accelerate.yaml}\n"
    )
    result = run_cli("train", "--epoch", "1", "--params", "two.yaml", cwd=project)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    log = project / "runs/epoch-1/train-workers.log"
    assert (
        result.stderr.strip().splitlines()[-1]
        == f"distilloop: error: training workers failed (exit 1); their output: {log.relative_to(project)}"
    )
    assert "Traceback" in log.read_text()


@pytest.mark.parametrize("name", ["fsdp.yaml", "multi-node.yaml"])
def test_the_shipped_accelerate_configs_load(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(Path(__file__).parent.parent / "configs/accelerate" / name))
    assert config.num_processes == 4 and config.mixed_precision == "no"
    assert config.distributed_type.value == ("FSDP" if name == "fsdp.yaml" else "MULTI_GPU")
