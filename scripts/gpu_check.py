"""The GPU check a user runs on a machine with an accelerator (scripts/gpu-check.sh): a tiny end-to-end
epoch of the bundled student (SmolLM2-135M: LoRA training from a fresh adapter, then greedy answers with
the trained adapter) on the accelerator train.device / student.device 'auto' finds, and the same on the
CPU in float32; asserts that the training losses and the greedy answers agree within the accelerator's
dtype tolerance, and prints tokens/s of both for training and generation.

Without an accelerator it says so and exits 0. `--device cpu` runs the comparison CPU against CPU (the
machinery itself, on any machine; the two runs must agree exactly up to float summation order).

Tolerances: float32 on both sides, losses within 1e-3 relative (TF32 stays off) and greedy answers
identical; bf16/fp16 on the accelerator, losses within 3e-2 relative and, teacher-forced on the CPU's
greedy answers, every CPU token within HALF_LOGIT_MARGIN of the accelerator's best logit (near-ties
may flip in half precision; a broken device path puts whole answers elsewhere).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPTS = [
    "Give the JSON record of Ann Lee, 34, a network engineer.",
    "Write a C function that returns the larger of two ints.",
    "Name three prime numbers.",
    "What does a CRC protect against?",
]
LOSS_TOLERANCE = {"float32": 1e-3, "bfloat16": 3e-2, "float16": 3e-2}
HALF_LOGIT_MARGIN = 0.5


def examples_file(directory: Path, count: int) -> Path:
    people = ["Ann Lee", "Bo Chen", "Cy Diaz", "Di Ekko", "Ed Fox", "Flo Gil", "Gus Hart", "Ida Ito"]
    rows = []
    for index in range(count):
        name = people[index % len(people)]
        age = 20 + 3 * index
        rows.append(
            {
                "id": f"g{index}",
                "prompt": f"Give the JSON record of {name}, {age}.",
                "completion": json.dumps({"name": name, "age": age, "handle": name.lower().replace(" ", "_")}),
            }
        )
    path = directory / "lesson.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def train(base_dir: Path, adapter0: Path, data: Path, out: Path, device: str, dtype: str, steps: int) -> dict:
    import torch

    from distilloop.config import TrainParams
    from distilloop.training.examples import read_examples
    from distilloop.training.sft import load_model, training_setup
    from distilloop.training.trainers import make_trainer

    config = TrainParams(
        device=device, dtype=dtype, batch_size=4, epochs=1, learning_rate=1e-3, warmup=0.0, eval_steps=1000,
        early_stopping_patience=0, group_by_length=False, seed=0,
    )  # fmt: skip
    examples = read_examples(data, "sft")[: 4 * steps]
    resolved, precision = training_setup(config)
    torch.manual_seed(0)
    model, tokenizer = load_model(base_dir, adapter0, precision == "bf16", resolved, precision)
    trainer = make_trainer(config, model, tokenizer, examples, [], out / "checkpoints", precision, [])
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    trainer.model.save_pretrained(out / "adapter")
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    tokens = int(trainer.state.num_input_tokens_seen)
    return {
        "device": str(resolved),
        "precision": precision or "fp32",
        "losses": losses,
        "tokens_per_s": tokens / seconds,
    }


def answer(base_dir: Path, adapter: Path, device: str, dtype: str, max_new_tokens: int) -> dict:
    from distilloop.config import StudentParams
    from distilloop.student.generation import generate
    from distilloop.student.model import load_student

    params = StudentParams(device=device, dtype=dtype, max_new_tokens=max_new_tokens, max_new_tokens_by_task={})
    model, tokenizer = load_student(base_dir, adapter, params)
    generate(model, tokenizer, PROMPTS[:1], params.model_copy(update={"max_new_tokens": 2}))  # warm-up
    started = time.perf_counter()
    results = generate(model, tokenizer, PROMPTS, params)
    seconds = time.perf_counter() - started
    tokens = sum(result.tokens for result in results)
    return {
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "texts": [result.text for result in results],
        "tokens_per_s": tokens / seconds,
        "model": model,
        "tokenizer": tokenizer,
        "params": params,
    }


def worst_margin(reference: dict, other: dict) -> float:
    """Teacher-forced on the reference's greedy answers: the largest gap between `other`'s best logit and
    its logit for the reference's token, over every answer position (0 when `other` picks the same tokens)."""
    import torch

    from distilloop.student.generation import render_prompts

    model, tokenizer = other["model"], other["tokenizer"]
    worst = 0.0
    for prompt, text in zip(render_prompts(tokenizer, PROMPTS, other["params"]), reference["texts"]):
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prompt_ids + answer_ids], device=model.device)
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1].float()
        if len(answer_ids):
            chosen = logits.gather(1, torch.tensor(answer_ids, device=model.device)[:, None])[:, 0]
            worst = max(worst, float((logits.max(-1).values - chosen).max()))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="the device checked against the CPU (default: auto)")
    parser.add_argument("--dtype", default="auto", help="its dtype (default auto: bf16 on CUDA >= 8.0, else fp16)")
    parser.add_argument("--steps", type=int, default=4, help="training steps of 4 examples (default 4)")
    parser.add_argument("--tokens", type=int, default=48, help="new tokens per greedy answer (default 48)")
    args = parser.parse_args()

    from distilloop.console import quiet_libraries
    from distilloop.hardware import resolve_device, resolve_dtype
    from distilloop.student.model import BUNDLED_STUDENT, materialise, new_adapter

    quiet_libraries()
    device = resolve_device(args.device, "--device")
    if device.type == "cpu" and args.device == "auto":
        print("gpu-check: no accelerator found (no CUDA device, no MPS): nothing to check against the CPU.")
        print("gpu-check: `scripts/gpu-check.sh --device cpu` runs the comparison CPU against CPU.")
        return 0
    dtype = str(resolve_dtype(args.dtype, device)).removeprefix("torch.")
    print(f"gpu-check: {device} in {dtype} against the CPU in float32")

    import torch
    from transformers import AutoModelForCausalLM

    from distilloop.config import LoraParams

    with tempfile.TemporaryDirectory(prefix="distilloop-gpu-check-") as scratch:
        scratch = Path(scratch)
        base = scratch / "base"
        materialise(BUNDLED_STUDENT, base)
        torch.manual_seed(0)
        adapter0 = scratch / "adapter-0"
        new_adapter(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), LoraParams()).save_pretrained(
            adapter0
        )
        data = examples_file(scratch, 4 * args.steps)
        runs = {}
        for name, run_device, run_dtype in (("cpu", "cpu", "float32"), ("accelerator", str(device), dtype)):
            trained = train(base, adapter0, data, scratch / name, run_device, run_dtype, args.steps)
            answered = answer(base, scratch / name / "adapter", run_device, run_dtype, args.tokens)
            runs[name] = {**trained, **answered}
            print(
                f"gpu-check: {name:11} {trained['device']:7} training {trained['precision']:5} "
                f"{trained['tokens_per_s']:8.1f} tokens/s, losses {[round(x, 4) for x in trained['losses']]}; "
                f"generation {answered['dtype']} {answered['tokens_per_s']:8.1f} tokens/s"
            )
        cpu, other = runs["cpu"], runs["accelerator"]
        tolerance = LOSS_TOLERANCE[dtype]
        failures = []
        if len(cpu["losses"]) != len(other["losses"]) or any(
            abs(a - b) > tolerance * abs(a) for a, b in zip(cpu["losses"], other["losses"])
        ):
            failures.append(f"training losses differ by more than {tolerance:g} relative")
        same = sum(a == b for a, b in zip(cpu["texts"], other["texts"]))
        if dtype == "float32":
            if same != len(PROMPTS):
                failures.append(f"greedy answers differ in float32 ({same}/{len(PROMPTS)} identical)")
            margin = 0.0
        else:
            margin = worst_margin(cpu, other)
            if margin > HALF_LOGIT_MARGIN:
                failures.append(f"a CPU greedy token is {margin:.3f} below the {dtype} best logit")
        print(f"gpu-check: greedy answers identical {same}/{len(PROMPTS)}; worst logit margin {margin:.4f}")
    for failure in failures:
        print(f"gpu-check: FAILED: {failure}")
    if not failures:
        print(f"gpu-check: OK: {device} agrees with the CPU within the {dtype} tolerance")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
