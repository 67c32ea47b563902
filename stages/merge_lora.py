"""merge_lora: fold the best epoch's LoRA adapter into the base weights and prove nothing changed.

The check compares logits of the merged model, reloaded from disk as users will load it, against the
base model with the adapter applied, on the first test prompts. Everything runs in fp32 so the
difference measures the merge, not rounding. Writes models/merged/ and metrics/merge.json.
"""

from __future__ import annotations

from pathlib import Path

from distilloop import UserError
from distilloop.console import console, summary_table
from distilloop.config import Params
from distilloop.io import METRICS_DIR, MODELS_DIR, atomic_dir, export_split, read_records, write_json
from stages.select import BEST_ADAPTER

BASE_DIR = MODELS_DIR / "base"
MERGED_DIR = MODELS_DIR / "merged"


def check_inputs(tokenizer, prompts: list[str], max_tokens: int):
    """A padded batch of the prompts' first tokens: enough positions to expose any merge error."""
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer(prompts, return_tensors="pt", padding=True, truncation=True, max_length=max_tokens)


def run(params: Params, base_dir: Path = BASE_DIR, adapter_dir: Path = BEST_ADAPTER, out_dir: Path = MERGED_DIR,
        metrics_path: Path | None = METRICS_DIR / "merge.json", prompts: list[str] | None = None) -> dict:
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

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    inputs = check_inputs(tokenizer, prompts, config.check_tokens)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    with_adapter = PeftModel.from_pretrained(base, adapter_dir).eval()
    with torch.no_grad():
        reference_logits = with_adapter(**inputs).logits
    merged = with_adapter.merge_and_unload()
    with atomic_dir(out_dir) as tmp:
        merged.save_pretrained(tmp)
        AutoTokenizer.from_pretrained(base_dir).save_pretrained(tmp)
    reloaded = AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        merged_logits = reloaded(**inputs).logits
    mask = inputs["attention_mask"].bool()
    difference = float((merged_logits - reference_logits).abs()[mask].max())
    tokens = int(mask.sum())

    metrics = {"max_abs_logit_diff": difference, "tolerance": config.tolerance, "prompts": len(prompts),
               "tokens": tokens, "adapter": str(adapter_dir)}
    if metrics_path is not None:
        write_json(metrics_path, metrics)
    console.print(summary_table("merge_lora", ("check", "value"), [
        ("prompts / tokens compared", f"{len(prompts)} / {tokens}"),
        ("max |logit merged - logit base+adapter|", f"{difference:.3g} (tolerance {config.tolerance:g})"),
    ]))
    if not difference <= config.tolerance:  # also catches NaN
        raise UserError(f"merge_lora: merged model differs from base+adapter: max abs logit difference "
                        f"{difference:.3g} > tolerance {config.tolerance:g}")
    return metrics
