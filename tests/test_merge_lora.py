"""merge_lora: merged == base + adapter (golden check on a tiny model), and the check fails loudly."""

from __future__ import annotations

import json

import pytest

from distilloop import UserError
from distilloop.config import Params

PROMPTS = ["Write a C function that packs a VLAN tag.", "Score this profile.", "int main(void) { return 0; }"]


@pytest.fixture
def trained_adapter(tiny_model_dir, tmp_path):
    """A LoRA adapter whose B matrices are non-zero, as after training (a fresh one would be a no-op)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    peft_model = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    )
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
    out = tmp_path / "adapter"
    peft_model.save_pretrained(out)
    return out


def logits(model_dir, prompts):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from stages.merge_lora import check_inputs

    inputs = check_inputs(AutoTokenizer.from_pretrained(model_dir), prompts, 64)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        return model(**inputs).logits, inputs["attention_mask"].bool()


def test_merged_model_equals_base_plus_adapter(tiny_model_dir, trained_adapter, tmp_path):
    from stages import merge_lora

    out = tmp_path / "merged"
    metrics = merge_lora.run(Params(), tiny_model_dir, trained_adapter, out, tmp_path / "merge.json", PROMPTS)
    assert metrics == json.loads((tmp_path / "merge.json").read_text())
    assert metrics["max_abs_logit_diff"] < 1e-4 and metrics["prompts"] == 3 and metrics["tokens"] > 20
    assert not (out / "adapter_config.json").exists() and (out / "model.safetensors").exists()
    assert (out / "tokenizer.json").exists()
    # the adapter really changes the model, so agreement above is not trivially true
    merged, mask = logits(out, PROMPTS)
    base, _ = logits(tiny_model_dir, PROMPTS)
    assert float((merged - base).abs()[mask].max()) > 1e-2


def test_merge_check_fails_with_one_line_above_tolerance(tiny_model_dir, trained_adapter, tmp_path):
    from stages import merge_lora

    params = Params.model_validate({"merge_lora": {"tolerance": 1e-12}})
    with pytest.raises(
        UserError, match=r"merged model differs from base\+adapter: max abs logit difference .* > tolerance 1e-12"
    ):
        merge_lora.run(params, tiny_model_dir, trained_adapter, tmp_path / "merged", tmp_path / "m.json", PROMPTS)
    assert json.loads((tmp_path / "m.json").read_text())["tolerance"] == 1e-12  # metrics still written


def test_missing_adapter_is_a_user_error(tiny_model_dir, tmp_path):
    from stages import merge_lora

    with pytest.raises(UserError, match="adapter not found"):
        merge_lora.run(Params(), tiny_model_dir, tmp_path / "nope", tmp_path / "merged", None, PROMPTS)
