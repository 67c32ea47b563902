"""train@N on the tiny model: golden losses, completion-only labels, continuing adapter N-1, early stopping
with the best checkpoint restored, resume after an interruption, skips, the CLI and dvclive curves.

Goldens: produced by the first run of these tests on this machine (fp32, one thread, seed 0, the tiny
2-layer Llama of conftest); they must match within 1e-4 absolute (the losses are about 10.8).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import SHARED_SYSTEM_PROMPT, c_record, run_cli, write_jsonl, write_stage_subset
from safetensors.torch import load_file
from transformers import TrainerCallback

from distilloop import UserError
from distilloop.config import Params, RuntimeParams, TrainParams, parse
from distilloop.training.adapters import last_checkpoint
from distilloop.training.examples import read_examples
from stages import train as stage

# the default LoRA shape (every linear layer of the tiny Llama), 8 steps of make_params()
GOLDEN_LOSSES = [10.79319954, 10.80073547, 10.66840553, 10.57970238, 10.52095985, 10.4710865, 10.42428684, 10.40085125]
GOLDEN_TOLERANCE = 1e-4
ADAPTER = "adapter_model.safetensors"


def make_params(**train) -> Params:
    settings = dict(
        learning_rate=5e-3,
        epochs=2,
        batch_size=4,
        eval_steps=2,
        dtype="float32",
        early_stopping_patience=0,
        seed=0,
    )
    return Params(train=TrainParams(**{**settings, **train}), runtime=RuntimeParams(threads=1))


def step_losses(metrics_dir: Path = Path("runs/epoch-1/live")) -> dict[int, float]:
    rows = (metrics_dir / "plots" / "metrics" / "loss.tsv").read_text().splitlines()[1:]
    return {int(step): float(loss) for step, loss in (row.split("\t") for row in rows)}


def weights(adapter_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(adapter_dir / ADAPTER))


class Interrupt(Exception):
    pass


class InterruptAfterSave(TrainerCallback):
    """Stands for a kill right after the checkpoint of `step` reached the disk."""

    def __init__(self, step: int):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Interrupt(f"interrupted after step {self.step}")


def test_golden_losses_and_outputs(train_project):
    metrics = stage.run(make_params(), epoch=1)

    losses = step_losses()
    assert list(losses) == list(range(1, 9))
    assert list(losses.values()) == pytest.approx(GOLDEN_LOSSES, abs=GOLDEN_TOLERANCE)
    assert metrics["steps"] == 8 and metrics["epochs_run"] == 2.0
    assert metrics["train_examples"] == 16 and metrics["eval_examples"] == 6 and metrics["val_without_reference"] == 1
    assert metrics["best_eval_loss"] < metrics["initial_eval_loss"]  # training on similar data helps val
    assert metrics["tokens"] > 16 * 2 * 40 and metrics["tokens_per_second"] > 0
    written = json.loads(Path("metrics/epochs/1-train.json").read_text())
    for key in (
        "method",
        "steps",
        "epochs_run",
        "train_loss",
        "eval_loss",
        "best_eval_loss",
        "stopped_early",
        "tokens",
        "seconds",
        "tokens_per_second",
    ):
        assert written[key] == metrics[key]
    trained_on = json.loads(Path("runs/epoch-1/adapter/training.json").read_text())
    assert trained_on["method"] == "sft" and len(trained_on["data_sha256"]) == 64
    # the curves: train loss, eval loss, learning rate and grad norm per optimiser step
    curves = Path("runs/epoch-1/live/plots/metrics")
    for name in ("loss.tsv", "learning_rate.tsv", "grad_norm.tsv", "eval/loss.tsv"):
        assert (curves / name).read_text().startswith("step\t")
    assert [row.split("\t")[0] for row in (curves / "eval/loss.tsv").read_text().splitlines()[1:]] == [
        "0",
        "2",
        "4",
        "6",
        "8",
    ]
    assert not Path("dvc.yaml").exists()  # dvclive wrote no pipeline file of its own
    assert sorted(path.name for path in Path("runs/epoch-1/checkpoints").iterdir()) == ["run.json"]


def test_a_weighted_record_is_trained_on_weight_times(train_project):
    write_jsonl(
        Path("runs/epoch-1/lesson.jsonl"),
        [{"id": "a", "prompt": "p", "completion": "c", "weight": 3}, {"id": "b", "prompt": "q", "completion": "d"}],
    )
    examples = read_examples(Path("runs/epoch-1/lesson.jsonl"), "sft")
    assert [example["prompt"][0]["content"] for example in examples] == ["p", "p", "p", "q"]


def test_labels_cover_the_completion_only(train_project):
    from distilloop.training.sft import load_model
    from distilloop.training.trainers import make_trainer

    params = make_params()
    paths = stage.TrainPaths.for_epoch(1, "sft")
    model, tokenizer = load_model(paths.base, paths.previous_adapter)
    examples = read_examples(paths.data, "sft")
    trainer = make_trainer(params.train, model, tokenizer, examples, [], paths.checkpoints, False, [])
    prompt, completion = c_record(0)
    row = trainer.train_dataset[0]
    labelled = [token for token, label in zip(row["input_ids"], row["labels"]) if label != -100]
    first = row["labels"].index(next(label for label in row["labels"] if label != -100))
    assert all(label == -100 for label in row["labels"][:first])
    assert all(label != -100 for label in row["labels"][first:])  # the completion and its end-of-turn
    assert tokenizer.decode(labelled) == completion + "<|im_end|>\n"
    prompt_text = tokenizer.decode(row["input_ids"][:first])
    assert prompt in prompt_text and prompt_text.endswith("<|im_start|>assistant\n")  # the chat template


def test_completion_loss_equals_trl_sft_loss(train_project):
    """CompletionSFTTrainer computes the LM head at completion positions only: the loss must be TRL's."""
    from trl import SFTConfig, SFTTrainer

    from distilloop.training.sft import load_model
    from distilloop.training.trainers import make_trainer

    paths = stage.TrainPaths.for_epoch(1, "sft")
    examples = read_examples(paths.data, "sft")
    ours = make_trainer(
        make_params().train, *load_model(paths.base, paths.previous_adapter), examples, [], paths.checkpoints, False, []
    )
    model, tokenizer = load_model(paths.base, paths.previous_adapter)
    theirs = SFTTrainer(
        model=model,
        processing_class=tokenizer,
        train_dataset=ours.train_dataset,
        args=SFTConfig(output_dir="trl", report_to="none", use_cpu=True, bf16=False),
    )
    batch = ours.data_collator([ours.train_dataset[i] for i in (0, 10, 3, 15)])  # two lengths
    assert (batch["attention_mask"] == 0).any()  # padding included
    for trainer in (ours, theirs):
        trainer.model.eval()  # no dropout: the same function on both sides
    with torch.no_grad():
        ours_loss = ours.compute_loss(ours.model, dict(batch)).item()
        theirs_loss = theirs.compute_loss(theirs.model, dict(batch)).item()
    assert ours_loss == pytest.approx(theirs_loss, abs=1e-5)


def test_the_batch_opening_run_once_gives_the_loss_and_gradients_of_every_row_run_whole(train_project, monkeypatch):
    """The batch's common opening (chat template, instructions) runs once and its keys/values serve every
    row: loss and LoRA gradients must be those of the plain forward over every row."""
    from safetensors.torch import save_file

    from distilloop.training import sft
    from distilloop.training.trainers import make_trainer

    paths = stage.TrainPaths.for_epoch(1, "sft")
    generator = torch.Generator().manual_seed(3)  # non-zero B: gradients reach both LoRA matrices
    tensors = {n: torch.randn(v.shape, generator=generator) * 0.05 for n, v in weights(paths.previous_adapter).items()}
    save_file(tensors, str(paths.previous_adapter / ADAPTER))
    system = "Score this for the automotive team, answering with one JSON object only. " * 2
    examples = read_examples(paths.data, "sft", system_prompt=system)
    results = []
    for least in (sft.MIN_SHARED_OPENING, 10**6):  # shared, then every row whole
        monkeypatch.setattr(sft, "MIN_SHARED_OPENING", least)
        model, tokenizer = sft.load_model(paths.base, paths.previous_adapter)
        trainer = make_trainer(make_params().train, model, tokenizer, examples, [], paths.checkpoints, False, [])
        batch = trainer.data_collator([trainer.train_dataset[i] for i in (0, 10, 3, 15)])  # two lengths: padding
        mask = batch["labels"][:, 1:] != sft.IGNORE_INDEX
        shared = sft.shared_opening_length({k: v for k, v in batch.items() if k != "labels"}, mask)
        loss = trainer.compute_loss(model, dict(batch))
        loss.backward()
        grads = {name: p.grad for name, p in model.named_parameters() if p.requires_grad}
        results.append((shared, loss.item(), grads))
    (shared, loss_shared, grads_shared), (unshared, loss_whole, grads_whole) = results
    assert shared >= 30 and unshared == 0  # the opening's tokens, run once for four rows
    assert loss_shared == pytest.approx(loss_whole, rel=1e-6)
    assert grads_shared.keys() == grads_whole.keys() and grads_shared
    for name, grad in grads_whole.items():
        torch.testing.assert_close(grads_shared[name], grad, rtol=1e-4, atol=1e-6)


def test_frozen_weights_stored_in_bf16_compute_what_autocast_computes(train_project):
    """train@N under bf16 autocast keeps the frozen linear weights in bf16: loss and LoRA gradients must be
    those of fp32 weights cast by autocast, to the bit."""
    from safetensors.torch import save_file

    from distilloop.training.sft import load_model
    from distilloop.training.trainers import make_trainer

    paths = stage.TrainPaths.for_epoch(1, "sft")
    generator = torch.Generator().manual_seed(2)  # non-zero B: gradients reach both LoRA matrices
    tensors = {
        name: torch.randn(v.shape, generator=generator) * 0.05 for name, v in weights(paths.previous_adapter).items()
    }
    save_file(tensors, str(paths.previous_adapter / ADAPTER))
    examples = read_examples(paths.data, "sft")
    results = []
    for stored_in_bf16 in (False, True):
        model, tokenizer = load_model(paths.base, paths.previous_adapter, bf16=stored_in_bf16)
        dtypes = {name: p.dtype for name, p in model.named_parameters()}
        trainer = make_trainer(make_params().train, model, tokenizer, examples, [], paths.checkpoints, False, [])
        batch = trainer.data_collator([trainer.train_dataset[i] for i in (0, 10, 3)])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = trainer.compute_loss(model, dict(batch))
        loss.backward()
        grads = {name: p.grad for name, p in model.named_parameters() if p.requires_grad}
        results.append((loss.item(), grads, dtypes))
    (loss_fp32, grads_fp32, dtypes_fp32), (loss_bf16, grads_bf16, dtypes_bf16) = results
    assert loss_bf16 == loss_fp32
    assert grads_bf16.keys() == grads_fp32.keys() and all(torch.equal(grads_bf16[k], grads_fp32[k]) for k in grads_fp32)
    assert set(dtypes_fp32.values()) == {torch.float32}
    stored = {name for name, dtype in dtypes_bf16.items() if dtype == torch.bfloat16}
    assert any("base_layer" in name for name in stored)  # the linears under the LoRA adapters
    assert all("_proj." in name for name in stored)  # and the frozen ones without: linear layers only
    assert all(dtypes_bf16[name] == torch.float32 for name in grads_bf16)  # what the optimiser updates
    assert dtypes_bf16["base_model.model.model.embed_tokens.weight"] == torch.float32


def test_bf16_training_runs_the_batch_opening_once_under_the_trainers_autocast(train_project, monkeypatch):
    """train.dtype bfloat16 (what 'auto' picks on a CPU with AMX): the frozen weights are stored in bf16 and
    accelerate autocasts the model's forward. The opening run once bypasses that forward, so it must run
    under the same autocast: the steps' losses must follow a run with every row whole."""
    from distilloop.training import sft

    params = make_params(dtype="bfloat16", epochs=1, eval_steps=100)
    params.student.system_prompt = SHARED_SYSTEM_PROMPT
    calls = []
    real = sft.shared_opening_logits
    monkeypatch.setattr(sft, "shared_opening_logits", lambda *args: calls.append(args[-1]) or real(*args))
    losses = []
    for least in (sft.MIN_SHARED_OPENING, 10**6):  # shared, then every row whole
        monkeypatch.setattr(sft, "MIN_SHARED_OPENING", least)
        metrics = stage.run(params, epoch=1, out_dir=Path(f"runs/bf16-{least}"))
        assert metrics["dtype"] == "bfloat16 autocast" and metrics["steps"] == 4
        losses.append(step_losses(Path(f"runs/bf16-{least}/live")))
    shared, whole = losses
    assert len(calls) >= metrics["steps"] and min(calls) >= 30  # each step (and evaluation) ran its opening once
    assert shared.keys() == whole.keys() == {1, 2, 3, 4}
    for step, loss in whole.items():
        assert shared[step] == pytest.approx(loss, rel=1e-3)  # bf16 rounding in other GEMM shapes (1e-5 here)


def test_training_continues_the_previous_adapter(train_project):
    # adapter N-1 with non-zero weights everywhere: a fresh adapter (B = 0) would show at the first step
    previous = Path("runs/epoch-0/adapter")
    tensors = weights(previous)
    generator = torch.Generator().manual_seed(1)
    tensors = {name: torch.randn(value.shape, generator=generator) * 0.05 for name, value in tensors.items()}
    from safetensors.torch import save_file

    save_file(tensors, str(previous / ADAPTER))

    class Capture(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self.start = {name: param.detach().clone() for name, param in model.named_parameters() if "lora_" in name}

    capture = Capture()
    stage.run(make_params(epochs=1, learning_rate=1e-3), epoch=1, extra_callbacks=(capture,))

    assert len(capture.start) == len(tensors)
    for name, value in tensors.items():
        key = name.replace(".weight", ".default.weight")
        assert torch.equal(capture.start[key], value), name
    after = weights(Path("runs/epoch-1/adapter"))
    moved = max((after[name] - tensors[name]).abs().max().item() for name in tensors)
    assert 0 < moved < 0.05  # trained onwards from adapter N-1, not restarted


def test_early_stopping_restores_the_best_checkpoint(train_project):
    # val answers contradict train answers: the val loss falls at first, then rises as the model fits train
    val = [
        {"id": f"v{i}", "task": "c_code", "prompt": c_record(i)[0], "reference": "#define X 1\n" * 6} for i in range(6)
    ]
    write_jsonl(Path("data/export/val.jsonl"), val)

    class Snapshots(TrainerCallback):
        saved: dict[int, dict] = {}

        def on_save(self, args, state, control, model=None, **kwargs):
            self.saved[state.global_step] = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}

    snapshots = Snapshots()
    metrics = stage.run(
        make_params(epochs=6, learning_rate=2e-2, eval_steps=1, early_stopping_patience=2),
        epoch=1,
        extra_callbacks=(snapshots,),
    )

    evals = {
        int(s): float(v)
        for s, v in (
            row.split("\t")
            for row in Path("runs/epoch-1/live/plots/metrics/eval/loss.tsv").read_text().splitlines()[1:]
        )
    }
    best_step = min((step for step in evals if step > 0), key=evals.get)
    assert metrics["stopped_early"] and metrics["steps"] < metrics["max_steps"]
    assert metrics["steps"] == best_step + 2  # two evaluations without improvement, then stop
    assert metrics["best_step"] == best_step and metrics["best_eval_loss"] == pytest.approx(evals[best_step])
    saved = weights(Path("runs/epoch-1/adapter"))
    for name, value in snapshots.saved[best_step].items():
        assert torch.equal(saved[name.replace(".default", "")], value), name


def test_resume_after_interruption_matches_an_uninterrupted_run(train_project, tmp_path):
    params = make_params(lora={"dropout": 0.1})  # dropout: the RNG state must survive the resume too
    stage.run(params, epoch=1, out_dir=tmp_path / "straight")
    straight_losses = step_losses(tmp_path / "straight" / "live")

    with pytest.raises(Interrupt):
        stage.run(params, epoch=1, out_dir=tmp_path / "resumed", extra_callbacks=(InterruptAfterSave(6),))
    assert (tmp_path / "resumed" / "checkpoints" / "checkpoint-6" / "trainer_state.json").exists()
    assert not (tmp_path / "resumed" / "adapter").exists()
    metrics = stage.run(params, epoch=1, out_dir=tmp_path / "resumed")

    assert metrics["resumed_from_step"] == 6 and metrics["steps"] == 8
    resumed_losses = step_losses(tmp_path / "resumed" / "live")
    assert list(resumed_losses) == list(range(1, 9))  # each step once: rows logged after step 6 were dropped
    # same batches, dropout masks, optimiser and scheduler state: the same losses up to float noise
    assert list(resumed_losses.values()) == pytest.approx(list(straight_losses.values()), abs=1e-5)
    straight, resumed = weights(tmp_path / "straight" / "adapter"), weights(tmp_path / "resumed" / "adapter")
    for name in straight:
        torch.testing.assert_close(resumed[name], straight[name], atol=1e-6, rtol=0)


def test_stale_or_broken_checkpoints_are_not_resumed(train_project):
    params = make_params(epochs=1)
    with pytest.raises(Interrupt):
        stage.run(params, epoch=1, extra_callbacks=(InterruptAfterSave(2),))
    checkpoints = Path("runs/epoch-1/checkpoints")
    # a kill while checkpoint-4 was being written leaves it without trainer_state.json
    (checkpoints / "checkpoint-4").mkdir()
    (checkpoints / "checkpoint-4" / "optimizer.pt").write_bytes(b"partial")
    assert last_checkpoint(checkpoints).name == "checkpoint-2"
    assert not (checkpoints / "checkpoint-4").exists()
    # other params: the checkpoint belongs to another run and is discarded
    metrics = stage.run(make_params(epochs=1, learning_rate=1e-3), epoch=1)
    assert metrics["resumed_from_step"] is None and metrics["steps"] == 4


def test_an_unchanged_lesson_trains_again_and_an_empty_one_passes_adapter_through(train_project):
    params = make_params(epochs=1)
    first = stage.run(params, epoch=1)
    # epoch 2 with the very lesson adapter 1 was trained on: its items still fail, so another pass
    Path("runs/epoch-2").mkdir()
    Path("runs/epoch-2/lesson.jsonl").write_bytes(Path("runs/epoch-1/lesson.jsonl").read_bytes())
    metrics = stage.run(params, epoch=2)
    assert metrics.get("skipped") is None and metrics["steps"] == first["steps"] > 0
    # epoch 3 with an empty lesson: nothing fails
    write_jsonl(Path("runs/epoch-3/lesson.jsonl"), [])
    metrics = stage.run(params, epoch=3)
    assert metrics["skipped"].startswith("nothing to learn")
    assert json.loads(Path("metrics/epochs/3-train.json").read_text())["skipped"] == metrics["skipped"]
    assert Path("runs/epoch-3/adapter", ADAPTER).read_bytes() == Path("runs/epoch-2/adapter", ADAPTER).read_bytes()


def test_bad_inputs_give_one_line_errors(train_project):
    write_jsonl(
        Path("runs/epoch-1/lesson.jsonl"), [{"id": "a", "prompt": "p", "completion": "c"}, {"id": "b", "prompt": "p"}]
    )
    with pytest.raises(UserError, match=r"lesson.jsonl:2: missing field 'completion'"):
        stage.run(make_params(), epoch=1)
    write_jsonl(Path("runs/epoch-1/lesson.jsonl"), [{"id": "a", "prompt": "p", "completion": "c", "weight": 0}])
    with pytest.raises(UserError, match=r"lesson.jsonl:1: 'weight' must be a whole number >= 1 \(got 0\)"):
        stage.run(make_params(), epoch=1)
    with pytest.raises(UserError, match=r"runs/epoch-5/lesson.jsonl: file not found"):
        stage.run(make_params(), epoch=5)
    with pytest.raises(UserError, match=r"train: .*kd.teacher must name a local HF model directory"):
        from distilloop.config import parse

        parse({"train": {"method": "kd"}})


def test_cli_trains_epoch_one_end_to_end(train_project):
    Path("params.yaml").write_text("train:\n  epochs: 1\n  batch_size: 8\n  eval_steps: 1\n  dtype: float32\n")
    result = run_cli("train", "--epoch", "1", cwd=train_project)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((train_project / "metrics/epochs/1-train.json").read_text())
    assert metrics["steps"] == 2 and metrics["method"] == "sft"
    assert (train_project / "runs/epoch-1/adapter/adapter_config.json").exists()
    assert "Traceback" not in result.stderr

    Path("params.yaml").write_text("train:\n  batch_size: 0\n")
    result = run_cli("train", "--epoch", "1", cwd=train_project)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "distilloop: error: params.yaml: train.batch_size: Input should be greater than or equal to 1 (got 0)"
    )


def test_dvc_repro_killed_midway_resumes_from_its_checkpoint(train_project, tiny_model_dir):
    """The real thing: `dvc repro` of train@1 SIGKILLed after its second checkpoint, then repeated. The
    checkpoints (persist) survive, the second run resumes, and the curves hold every step once."""
    import shutil
    import signal
    import time

    root = Path(__file__).resolve().parent.parent
    Path("models/base").unlink()
    shutil.copytree(tiny_model_dir, "models/base")  # a DVC dependency, not a symlink out of the repo
    Path("runs/epoch-1/pairs.jsonl").write_text("")
    write_stage_subset(Path.cwd(), "train")
    Path("metrics/epochs").mkdir(parents=True, exist_ok=True)
    Path("metrics/epochs/0.json").write_text('{"epoch": 0, "converged": false}')  # baseline's, a dependency
    for code in ("stages", "distilloop"):  # code deps
        shutil.copytree(root / code, code, ignore=shutil.ignore_patterns("__pycache__"))
    params = {
        "train": {
            "epochs": 4,
            "batch_size": 4,
            "eval_steps": 1,
            "dtype": "float32",
            "early_stopping_patience": 0,
        },
        "runtime": {"threads": 1},
        "loop": {"epochs": {"1": 0}},
        "student": {"system_prompt": None},
    }
    # every key: dvc.yaml lists train's params key by key, and DVC needs each in params.yaml
    Path("params.yaml").write_text(parse(params).model_dump_json())  # JSON is YAML
    env = {
        **os.environ,
        "PYTHONPATH": str(train_project),
        "DVC_NO_ANALYTICS": "1",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    for command in (["git", "init", "-q"], ["dvc", "init", "-q"]):
        subprocess.run(command, check=True, env=env)
    subprocess.run(["git", "add", "-A"], check=True, env=env)
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "project"], check=True, env=env
    )
    repro = ["dvc", "repro", "--single-item", "train@1"]

    first = subprocess.Popen(
        repro, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    checkpoint = Path("runs/epoch-1/checkpoints/checkpoint-2/trainer_state.json")
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert checkpoint.exists() and not Path("metrics/epochs/1-train.json").exists(), "killed too late"

    second = subprocess.run(repro, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr + second.stdout
    metrics = json.loads(Path("metrics/epochs/1-train.json").read_text())
    assert metrics["resumed_from_step"] >= 2 and metrics["steps"] == 16
    assert list(step_losses()) == list(range(1, 17))
    status = subprocess.run(["dvc", "status", "train@1"], env=env, capture_output=True, text=True)
    assert "up to date" in status.stdout, status.stdout
