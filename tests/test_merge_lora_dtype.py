"""merge_lora in the base model's own dtype: a bf16 base merges and is written in bf16, checked within a
bf16 tolerance that still tells a merged adapter from a missing one."""

from __future__ import annotations

import torch
from test_base_dtype import bf16_model_dir, stored_dtypes  # noqa: F401 (a fixture)
from test_merge_lora import PROMPTS, trained_adapter  # noqa: F401 (a fixture)
from transformers import AutoModelForCausalLM, AutoTokenizer

from distilloop.config import Params
from stages import merge_lora
from stages.merge_lora import check_inputs


def bf16_logits(model_dir):
    inputs = check_inputs(AutoTokenizer.from_pretrained(model_dir), PROMPTS, 64)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
    with torch.no_grad():
        return model(**inputs).logits.float(), inputs["attention_mask"].bool()


def test_a_bf16_base_merges_in_bf16_within_a_bf16_tolerance(bf16_model_dir, trained_adapter, tmp_path):  # noqa: F811
    out = tmp_path / "merged"
    metrics = merge_lora.run(Params(), bf16_model_dir, trained_adapter, out, tmp_path / "merge.json", PROMPTS)
    assert metrics["dtype"] == "bfloat16" and metrics["device"] == "cpu"
    assert stored_dtypes(out) == {"BF16"}  # written in the model's dtype, half the bytes of float32
    assert Params().merge_lora.tolerance < metrics["tolerance"]  # float32's 1e-3 is below bf16 rounding
    assert metrics["max_abs_logit_diff"] <= metrics["tolerance"]
    # the tolerance is still far below what the adapter changes: a merge that lost it would fail
    merged, mask = bf16_logits(out)
    base, _ = bf16_logits(bf16_model_dir)
    assert float((merged - base).abs()[mask].max()) > 3 * metrics["tolerance"]


def test_a_float32_base_keeps_the_configured_tolerance(tiny_model_dir, trained_adapter, tmp_path):  # noqa: F811
    metrics = merge_lora.run(Params(), tiny_model_dir, trained_adapter, tmp_path / "m", tmp_path / "m.json", PROMPTS)
    assert metrics["dtype"] == "float32" and metrics["tolerance"] == Params().merge_lora.tolerance
    assert stored_dtypes(tmp_path / "m") == {"F32"}
