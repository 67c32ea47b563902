"""The student: batched generation equals one-at-a-time generation, the epoch-0 adapter equals the base
model, truncation, the chat template, and the GGUF -> HF conversion of the bundled model.

Generation tests run on a tiny random Llama built from a config (tests/conftest.py), in float32."""

from __future__ import annotations

import pytest
import torch

from stages.params import LoraParams, StudentParams
from stages.generation import answer_records, generate, render_prompts
from stages.student import load_student, new_adapter

PROMPTS = [
    "Pack an 802.1Q TCI.",
    "Write a C99 function that returns the gPTP message type of a header byte, with a doc comment.",
    "CRC?",
    "Validate a Qbv gate control list: every interval is above zero and the sum fits the cycle time.",
    "Return the SRP class A PCP.",
]


def _params(**overrides) -> StudentParams:
    return StudentParams(**{"dtype": "float32", "max_new_tokens": 12, "threads": 1, **overrides})


@pytest.fixture(scope="module")
def varied_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny Llama with larger random weights: at the default init scale it answers every prompt with
    the same newline run, which would make order and equality checks vacuous."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    torch.manual_seed(0)
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if weight.dim() == 2:
                weight.normal_(std=0.3)
    out = tmp_path_factory.mktemp("varied-llama")
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny(varied_model_dir):
    return load_student(varied_model_dir, None, _params())


def _one_at_a_time(model, tokenizer, prompt: str, params: StudentParams) -> list[int]:
    """The reference: transformers' own `model.generate` on one unpadded prompt; the new tokens up to the
    end-of-sequence token."""
    ids = tokenizer(render_prompts(tokenizer, [prompt], params)[0], add_special_tokens=False, return_tensors="pt")
    eos = model.generation_config.eos_token_id
    with torch.inference_mode():
        new = model.generate(**ids, max_new_tokens=params.max_new_tokens, do_sample=False,
                             repetition_penalty=params.repetition_penalty, pad_token_id=tokenizer.pad_token_id,
                             no_repeat_ngram_size=params.no_repeat_ngram_size or None
                             )[0, ids["input_ids"].shape[1]:].tolist()
    eos = set(eos if isinstance(eos, list) else [eos])
    return next((new[:i] for i, token in enumerate(new) if token in eos), new)


@pytest.mark.parametrize("settings", [
    {"repetition_penalty": 1.0},
    {"repetition_penalty": 1.1, "no_repeat_ngram_size": 3},
])
def test_batched_greedy_equals_one_at_a_time(tiny, settings):
    model, tokenizer = tiny
    batched = generate(model, tokenizer, PROMPTS, _params(batch_size=3, **settings))
    reference = [_one_at_a_time(model, tokenizer, prompt, _params(**settings)) for prompt in PROMPTS]
    assert [g.text for g in batched] == [tokenizer.decode(ids, skip_special_tokens=True) for ids in reference]
    assert [g.tokens for g in batched] == [len(ids) for ids in reference]
    assert all(g.tokens > 0 and g.seconds > 0 for g in batched)
    assert len({g.text for g in batched}) > 1  # different prompts, different answers: order was restored


def test_rows_that_end_early_leave_the_others_unchanged(tiny):
    """Answers ending at different steps (finished rows are dropped from the batch mid-way) still equal
    the one-at-a-time answers: tokens that two answers emit early are made end-of-sequence tokens."""
    model, tokenizer = tiny
    settings = _params(repetition_penalty=1.1, max_new_tokens=10)
    full = [_one_at_a_time(model, tokenizer, prompt, settings) for prompt in PROMPTS]
    stops = {full[0][2], full[1][4]}  # two answers end early, at different steps
    saved = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = [saved, *stops]
    try:
        batched = generate(model, tokenizer, PROMPTS, settings.model_copy(update={"batch_size": 5}))
        reference = [_one_at_a_time(model, tokenizer, prompt, settings) for prompt in PROMPTS]
    finally:
        model.generation_config.eos_token_id = saved
    lengths = [len(ids) for ids in reference]
    assert sorted(lengths)[1] < max(lengths)  # two rows ended while others went on: the batch shrank
    assert [g.tokens for g in batched] == lengths
    assert [g.text for g in batched] == [tokenizer.decode(ids, skip_special_tokens=True) for ids in reference]
    assert [g.truncated for g in batched] == [length == 10 for length in lengths]


def test_epoch0_adapter_has_the_base_logits(varied_model_dir, tmp_path):
    base, tokenizer = load_student(varied_model_dir, None, _params())
    ids = tokenizer(render_prompts(tokenizer, PROMPTS[:2], _params()), return_tensors="pt", padding=True)
    with torch.inference_mode():
        expected = base(**ids).logits

    fresh, _ = load_student(varied_model_dir, None, _params())
    adapted = new_adapter(fresh, LoraParams(target_modules=None))  # detected from the architecture
    assert sorted(adapted.peft_config["default"].target_modules) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    assert adapted.get_nb_trainable_parameters()[0] > 0
    with torch.inference_mode():
        assert torch.allclose(adapted(**ids).logits, expected, atol=1e-6, rtol=0)
    adapted.save_pretrained(tmp_path / "adapter")

    for merge in (True, False):  # the saved adapter, loaded back, merged or not
        reloaded, _ = load_student(varied_model_dir, tmp_path / "adapter", _params(), merge=merge)
        with torch.inference_mode():
            assert torch.allclose(reloaded(**ids).logits, expected, atol=1e-6, rtol=0)


def test_trained_adapter_changes_the_answer(varied_model_dir, tmp_path):
    """The adapter is really applied: non-zero B changes the logits, merged or not, identically."""
    model, tokenizer = load_student(varied_model_dir, None, _params())
    adapted = new_adapter(model, LoraParams(r=4, target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(1)
    for name, weight in adapted.named_parameters():
        if "lora_B" in name:
            weight.data.normal_(std=0.5)
    adapted.save_pretrained(tmp_path / "adapter")
    ids = tokenizer(render_prompts(tokenizer, PROMPTS[:1], _params()), return_tensors="pt")
    base, _ = load_student(varied_model_dir, None, _params())
    merged, _ = load_student(varied_model_dir, tmp_path / "adapter", _params(), merge=True)
    unmerged, _ = load_student(varied_model_dir, tmp_path / "adapter", _params(), merge=False)
    with torch.inference_mode():
        base_logits, merged_logits = base(**ids).logits, merged(**ids).logits
        assert (merged_logits - base_logits).abs().max() > 1e-2
        assert (merged_logits - unmerged(**ids).logits).abs().max() < 1e-3  # float32 rounding only


def test_truncation_flag(tiny):
    model, tokenizer = tiny
    cut = generate(model, tokenizer, PROMPTS[:2], _params(max_new_tokens=4, batch_size=2))
    assert all(g.truncated and g.tokens == 4 for g in cut)

    # make the third token the random model emits its end-of-sequence token: it then stops there
    ids = tokenizer(render_prompts(tokenizer, PROMPTS[:1], _params()), return_tensors="pt")
    with torch.inference_mode():
        first = model.generate(**ids, max_new_tokens=6, do_sample=False, repetition_penalty=1.0,
                               pad_token_id=tokenizer.pad_token_id)[0, ids["input_ids"].shape[1]:].tolist()
    stop = next(token for position, token in enumerate(first) if position >= 2 and token not in first[:position])
    saved = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = [stop]
    try:
        ended = generate(model, tokenizer, PROMPTS[:1], _params(max_new_tokens=12, repetition_penalty=1.0))[0]
    finally:
        model.generation_config.eos_token_id = saved
    assert not ended.truncated
    assert ended.tokens == first.index(stop)
    assert ended.text == tokenizer.decode(first[:first.index(stop)], skip_special_tokens=True)


def test_chat_template_is_applied(tiny):
    model, tokenizer = tiny
    rendered = render_prompts(tokenizer, ["Pack a TCI."], _params())[0]
    assert rendered.endswith("<|im_start|>user\nPack a TCI.<|im_end|>\n<|im_start|>assistant\n")
    custom = render_prompts(tokenizer, ["Pack a TCI."], _params(system_prompt="You write MISRA-C."))[0]
    assert custom.startswith("<|im_start|>system\nYou write MISRA-C.<|im_end|>\n")

    # generate() answers the templated prompt, not the raw text
    ids = tokenizer(rendered, add_special_tokens=False, return_tensors="pt")
    with torch.inference_mode():
        direct = model.generate(**ids, max_new_tokens=12, do_sample=False, repetition_penalty=1.1,
                                pad_token_id=tokenizer.pad_token_id)[0, ids["input_ids"].shape[1]:]
    ours = generate(model, tokenizer, ["Pack a TCI."], _params())[0]
    assert ours.text == tokenizer.decode(direct, skip_special_tokens=True)


def test_answer_records_adds_generation_fields(tiny):
    model, tokenizer = tiny
    records = [{"id": f"r{i}", "task": "c_code", "prompt": prompt} for i, prompt in enumerate(PROMPTS[:3])]
    answered = answer_records(records, model, tokenizer, _params(batch_size=2, max_new_tokens=5))
    assert [r["id"] for r in answered] == ["r0", "r1", "r2"]
    for record in answered:
        assert isinstance(record["output"], str) and record["output"]
        assert record["truncated"] is True and record["gen"]["tokens"] == 5 and record["gen"]["seconds"] > 0
