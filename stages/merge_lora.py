"""merge_lora: fold the final LoRA adapter into the base weights and prove nothing changed.

The adapter is models/rl-adapter: the rl stage's GRPO adapter when it beat the best SFT adapter on val,
else (or with rl.enabled false) a copy of models/best-adapter, the best epoch's.

The check compares logits of the merged model, reloaded from disk as users will load it, against the
base model with the adapter applied, on the first test prompts. Everything runs in the base model's own
dtype (models/base's config: float32 for the bundled student, bf16 for a bf16 source, so an 8B model
merges in 16 GB and is written in bf16) on student.device. In float32 the difference measures the merge,
not rounding, and merge_lora.tolerance applies as it is; in bf16/fp16 the two computations round
differently, so the tolerance is at least LOGIT_EPS_FACTOR x the dtype's epsilon x the largest reference
logit. Writes models/merged/ and metrics/merge.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distilloop import UserError
from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, quiet_libraries, summary_table
from distilloop.io import atomic_dir, read_records, write_json
from distilloop.paths import BASE_DIR, MERGED_DIR, METRICS_DIR, RL_ADAPTER, export_split


def check_inputs(tokenizer, prompts: list[str], max_tokens: int):
    """A padded batch of the prompts' first tokens: enough positions to expose any merge error."""
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer(prompts, return_tensors="pt", padding=True, truncation=True, max_length=max_tokens)


LOGIT_EPS_FACTOR = 8  # half-precision check: 8 epsilons of the largest logit (bf16: 6%, fp16: 0.8%)


def model_dtype(model_dir: Path):
    """The dtype models/base is stored in (its config.json), float32 when it says none."""
    import json

    import torch

    config = json.loads((Path(model_dir) / "config.json").read_text())
    name = config.get("dtype") or config.get("torch_dtype") or "float32"
    dtype = getattr(torch, str(name).removeprefix("torch."), None)
    return dtype if isinstance(dtype, torch.dtype) else torch.float32


def logit_tolerance(dtype, reference_logits, configured: float) -> float:
    """merge_lora.tolerance in float32; in a half dtype at least LOGIT_EPS_FACTOR epsilons of the largest
    reference logit (the rounding of W + BA once against W x + B A x computed apart)."""
    import torch

    if dtype == torch.float32:
        return configured
    largest = float(reference_logits.float().abs().max())
    return max(configured, LOGIT_EPS_FACTOR * torch.finfo(dtype).eps * largest)


def run(
    params: Params,
    base_dir: Path = BASE_DIR,
    adapter_dir: Path = RL_ADAPTER,
    out_dir: Path = MERGED_DIR,
    metrics_path: Path | None = METRICS_DIR / "merge.json",
    prompts: list[str] | None = None,
) -> dict:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = params.merge_lora
    for path, what in ((base_dir, "base model"), (adapter_dir, "adapter")):
        if not Path(path).is_dir():
            raise UserError(f"{path}: {what} not found")
    if prompts is None:
        prompts = [record["prompt"] for record in read_records(export_split("test"))[: config.check_prompts]]
    if not prompts:
        raise UserError("merge_lora: no prompts to check the merge on (empty test split)")

    from distilloop.hardware import resolve_device

    quiet_libraries()
    torch.manual_seed(0)
    device = resolve_device(params.student.device, "student.device")
    dtype = model_dtype(base_dir)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    inputs = check_inputs(tokenizer, prompts, config.check_tokens).to(device)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype).to(device)
    with_adapter = PeftModel.from_pretrained(base, adapter_dir).to(device).eval()
    with torch.no_grad():
        reference_logits = with_adapter(**inputs).logits
    merged = with_adapter.merge_and_unload()
    with atomic_dir(out_dir) as tmp:
        merged.save_pretrained(tmp)
        AutoTokenizer.from_pretrained(base_dir).save_pretrained(tmp)
    reloaded = AutoModelForCausalLM.from_pretrained(out_dir, dtype=dtype).to(device).eval()
    with torch.no_grad():
        merged_logits = reloaded(**inputs).logits
    mask = inputs["attention_mask"].bool()
    difference = float((merged_logits.float() - reference_logits.float()).abs()[mask].max())
    tokens = int(mask.sum())
    tolerance = logit_tolerance(dtype, reference_logits[mask], config.tolerance)

    metrics = {
        "max_abs_logit_diff": difference,
        "tolerance": tolerance,
        "dtype": str(dtype).removeprefix("torch."),
        "device": str(device),
        "prompts": len(prompts),
        "tokens": tokens,
        "adapter": str(adapter_dir),
    }
    if metrics_path is not None:
        write_json(metrics_path, metrics)
    console.print(
        summary_table(
            "merge_lora",
            ("check", "value"),
            [
                ("prompts / tokens compared", f"{len(prompts)} / {tokens}"),
                (
                    "max |logit merged - logit base+adapter|",
                    f"{difference:.3g} (tolerance {tolerance:.3g}, {metrics['dtype']} on {device})",
                ),
            ],
        )
    )
    if not difference <= tolerance:  # also catches NaN
        raise UserError(
            f"merge_lora: merged model differs from base+adapter: max abs logit difference "
            f"{difference:.3g} > tolerance {tolerance:.3g} ({metrics['dtype']})"
        )
    return metrics


def main(
    adapter: Annotated[Path | None, typer.Option(help="adapter directory (default models/rl-adapter)")] = None,
    out: Annotated[Path | None, typer.Option(help="output directory (default models/merged)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Merge the final adapter (rl's, else the best epoch's) into the base model and check the logits agree."""
    kwargs = {"adapter_dir": adapter} if adapter else {}
    if out:
        kwargs.update(out_dir=out, metrics_path=out.parent / f"{out.name}-merge.json")
    run(load_params(params_file), **kwargs)


if __name__ == "__main__":
    run_command(main)
