"""baseline: epoch 0. A fresh LoRA adapter (B = 0, so the student is exactly the base model) answers
pool, val and test; the gate scores them; the export train split becomes the first training set.

Writes runs/epoch-0/adapter/, runs/epoch-0/{pool,val,test}.scored.jsonl, runs/epoch-0/bank.jsonl and
metrics/epochs/0.json (as evaluate@N, plus the train split's counts; never converged).
"""

from __future__ import annotations

import json
from pathlib import Path

from distilloop.command import ModelDirOption, ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console
from distilloop.io import atomic_dir, read_records, write_json, write_jsonl
from distilloop.loop.epochs import print_summary, score_epoch
from distilloop.paths import BASE_DIR, bank_file, epoch_dir, epoch_metrics, export_split
from distilloop.student.model import load_student, new_adapter

LISTED_IDS = 20  # metrics list at most this many ids of untrainable records


def save_initial_adapter(params: Params, model_dir: Path, adapter_dir: Path) -> list[str]:
    """Create the epoch-0 adapter on the float32 base model and save it in one rename."""
    import torch

    model, _ = load_student(
        model_dir, None, params.student.model_copy(update={"dtype": "float32"}), threads=params.runtime.threads
    )
    torch.manual_seed(params.train.seed)  # A is random: a re-run must write the same adapter bytes for DVC
    adapter = new_adapter(model, params.train.lora)
    with atomic_dir(adapter_dir) as staging:
        adapter.save_pretrained(staging)
    return sorted(adapter.peft_config["default"].target_modules)


def seed_train_set(records: list[dict]) -> tuple[list[dict], list[str], list[dict]]:
    """Export train records -> (train records, the ids of those without a reference (nothing to learn),
    preference pairs of those that also carry a `rejected` answer)."""
    train, missing, pairs = [], [], []
    for record in records:
        reference = record.get("reference")
        if reference is None or (isinstance(reference, str) and not reference.strip()):
            missing.append(record["id"])
            continue
        completion = reference if isinstance(reference, str) else json.dumps(reference, ensure_ascii=False)
        train.append(
            {"id": record["id"], "prompt": record["prompt"], "completion": completion, "source": "seed", "epoch": 0}
        )
        if record.get("rejected"):
            pairs.append(
                {
                    "id": record["id"],
                    "prompt": record["prompt"],
                    "chosen": completion,
                    "rejected": record["rejected"],
                    "source": "seed",
                }
            )
    return train, missing, pairs


def run(params: Params, model_dir: Path = BASE_DIR) -> dict:
    out = epoch_dir(0)
    out.mkdir(parents=True, exist_ok=True)
    targets = save_initial_adapter(params, model_dir, out / "adapter")

    train, missing, pairs = seed_train_set(read_records(export_split("train")))
    write_jsonl(bank_file(0), train)
    write_jsonl(out / "pairs.jsonl", pairs)

    metrics = score_epoch(params, 0, out / "adapter", model_dir)
    lora = params.train.lora
    metrics["adapter"] = {"r": lora.r, "alpha": lora.alpha, "target_modules": targets, "layers": lora.layers}
    metrics["train"] = {
        "records": len(train) + len(missing),
        "written": len(train),
        "without_reference": len(missing),
        "preference_pairs": len(pairs),
        "ids_without_reference": missing[:LISTED_IDS],
    }
    metrics["converged"] = False
    write_json(epoch_metrics(0), metrics)

    print_summary("baseline (epoch 0)", metrics)
    if missing:
        console.print(
            f"[yellow]train split: {len(missing)} record(s) without a reference cannot be trained on "
            f"(e.g. {', '.join(missing[:3])}); counted in {epoch_metrics(0)}"
        )
    return metrics


def main(model: ModelDirOption = Path("models/base"), params_file: ParamsOption = Path("params.yaml")):
    """Epoch 0: a fresh LoRA adapter (equal to the base model) answers pool, val and test; score them."""
    run(load_params(params_file), model)


if __name__ == "__main__":
    run_command(main)
