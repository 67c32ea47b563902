"""The student: batched generation equals one-at-a-time generation under the shared decoding rules
(distilloop/student/decoding.py) and stop rules (distilloop/student/stopping.py), the epoch-0 adapter equals the base model,
truncation and task budgets, the chat template, and the GGUF -> HF conversion of the bundled model.

Generation tests run on a tiny random Llama built from a config (tests/conftest.py), in float32."""

from __future__ import annotations

import pytest
import torch
from conftest import RECITED

from distilloop import UserError
from distilloop.config import LoraParams, StudentParams
from distilloop.student.decoding import logits_processors
from distilloop.student.generation import answer_records, generate, render_prompts
from distilloop.student.model import load_student, new_adapter
from distilloop.student.stopping import answer_end

PROMPTS = [
    "Pack an 802.1Q TCI.",
    "Write a C99 function that returns the gPTP message type of a header byte, with a doc comment.",
    "CRC?",
    "Validate a Qbv gate control list: every interval is above zero and the sum fits the cycle time.",
    "Return the SRP class A PCP.",
]


def _params(**overrides) -> StudentParams:
    return StudentParams(**{"dtype": "float32", "max_new_tokens": 12, **overrides})


@pytest.fixture(scope="module")
def varied_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny Llama with larger random weights: at the default init scale it answers every prompt with
    the same newline run, which would make order and equality checks vacuous."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    torch.manual_seed(0)
    with torch.no_grad():
        for _name, weight in model.named_parameters():
            if weight.dim() == 2:
                weight.normal_(std=0.3)
    out = tmp_path_factory.mktemp("varied-llama")
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def tiny(varied_model_dir):
    return load_student(varied_model_dir, None, _params())


def _one_at_a_time(model, tokenizer, prompt: str, params: StudentParams, task: str | None = None) -> list[int]:
    """The reference: transformers' own `model.generate` on one unpadded prompt, the rules of
    distilloop/student/decoding.py as a LogitsProcessor (its built-in repetition penalty off: that one covers the
    prompt); the new tokens up to the end-of-sequence token, cut after the token that completes the
    answer for `task`."""
    ids = tokenizer(render_prompts(tokenizer, [prompt], params)[0], add_special_tokens=False, return_tensors="pt")
    eos = model.generation_config.eos_token_id
    length = ids["input_ids"].shape[1]
    with torch.inference_mode():
        new = model.generate(
            **ids,
            max_new_tokens=params.token_budget(task),
            do_sample=False,
            repetition_penalty=1.0,
            pad_token_id=tokenizer.pad_token_id,
            logits_processor=logits_processors(
                length, params.repetition_penalty, params.repeat_last_n, params.no_repeat_ngram_size
            ),
        )[0, length:].tolist()
    eos = set(eos if isinstance(eos, list) else [eos])
    new = next((new[:i] for i, token in enumerate(new) if token in eos), new)
    end = answer_end(task)
    return next((new[: i + 1] for i, token in enumerate(new) if end.feed(tokenizer.decode([token]))), new)


@pytest.mark.parametrize(
    "settings",
    [
        {"repetition_penalty": 1.0},
        {"repetition_penalty": 1.1, "no_repeat_ngram_size": 3},
        {"repetition_penalty": 1.5, "repeat_last_n": 3},  # tokens leave the window while the answer goes on
    ],
)
def test_batched_greedy_equals_one_at_a_time(tiny, settings):
    model, tokenizer = tiny
    batched = generate(model, tokenizer, PROMPTS, _params(batch_size=3, **settings))
    reference = [_one_at_a_time(model, tokenizer, prompt, _params(**settings)) for prompt in PROMPTS]
    assert [g.text for g in batched] == [tokenizer.decode(ids, skip_special_tokens=True) for ids in reference]
    assert [g.tokens for g in batched] == [len(ids) for ids in reference]
    assert all(g.tokens > 0 and g.seconds > 0 for g in batched)
    assert len({g.text for g in batched}) > 1  # different prompts, different answers: order was restored


def test_penalty_covers_recent_generated_tokens_only():
    """The rules themselves: prompt tokens keep their logits, and so do generated tokens that have left
    the window; the rest are divided (positive) or multiplied (negative) by the penalty, once each."""
    prompt, generated = [11, 12, 13], [12, 20, 21, 20, 22]
    scores = torch.tensor([[2.0] * 11 + [2.0, 2.0, 2.0] + [2.0] * 6 + [-2.0, 2.0, 2.0, 2.0]])
    rules = logits_processors(len(prompt), 2.0, 4, 0)
    out = rules(torch.tensor([prompt + generated]), scores.clone())[0]
    penalised = {token for token in range(scores.shape[1]) if out[token] != scores[0, token]}
    assert penalised == {20, 21, 22}  # 12 is in the prompt and has left the 4-token window
    assert out[20] == -4.0 and out[21] == 1.0 and out[22] == 1.0


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


def test_top_layers_adapter_stops_the_backward_below_it(varied_model_dir):
    """train.lora.layers=1 on the 2-layer model: LoRA pairs only in the top layer, and the backward pass
    never reaches the layer below (its output needs no gradient)."""
    model, tokenizer = load_student(varied_model_dir, None, _params())
    adapted = new_adapter(model, LoraParams(target_modules=["q_proj", "v_proj"], layers=1))
    lora_layers = {name.split(".layers.")[1].split(".")[0] for name, _ in adapted.named_parameters() if "lora_" in name}
    assert lora_layers == {"1"}
    for name, weight in adapted.named_parameters():
        if "lora_B" in name:
            weight.data.normal_(std=0.5)  # B = 0 would leave A without a gradient

    needs_gradient = {}  # a layer whose output needs no gradient is never visited by the backward pass
    for index, layer in enumerate(adapted.base_model.model.model.layers):
        layer.register_forward_hook(
            lambda _m, _i, out, index=index: needs_gradient.update({index: out[0].requires_grad})
        )
    ids = tokenizer(render_prompts(tokenizer, PROMPTS[:1], _params()), return_tensors="pt")
    adapted(**ids, labels=ids["input_ids"]).loss.backward()
    assert needs_gradient == {0: False, 1: True}
    assert all(w.grad is not None for name, w in adapted.named_parameters() if "lora_A" in name)

    with pytest.raises(UserError, match=r"train.lora.layers: the student has 2 layers, must be <= 2 \(got 3\)"):
        new_adapter(load_student(varied_model_dir, None, _params())[0], LoraParams(layers=3))


def test_truncation_flag(tiny):
    model, tokenizer = tiny
    cut = generate(model, tokenizer, PROMPTS[:2], _params(max_new_tokens=4, batch_size=2))
    assert all(g.truncated and g.tokens == 4 for g in cut)

    # make the third token the random model emits its end-of-sequence token: it then stops there
    ids = tokenizer(render_prompts(tokenizer, PROMPTS[:1], _params()), return_tensors="pt")
    with torch.inference_mode():
        first = model.generate(
            **ids, max_new_tokens=6, do_sample=False, repetition_penalty=1.0, pad_token_id=tokenizer.pad_token_id
        )[0, ids["input_ids"].shape[1] :].tolist()
    stop = next(token for position, token in enumerate(first) if position >= 2 and token not in first[:position])
    saved = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = [stop]
    try:
        ended = generate(model, tokenizer, PROMPTS[:1], _params(max_new_tokens=12, repetition_penalty=1.0))[0]
    finally:
        model.generation_config.eos_token_id = saved
    assert not ended.truncated
    assert ended.tokens == first.index(stop)
    assert ended.text == tokenizer.decode(first[: first.index(stop)], skip_special_tokens=True)


def test_chat_template_is_applied(tiny):
    model, tokenizer = tiny
    rendered = render_prompts(tokenizer, ["Pack a TCI."], _params())[0]
    assert rendered.endswith("<|im_start|>user\nPack a TCI.<|im_end|>\n<|im_start|>assistant\n")
    custom = render_prompts(tokenizer, ["Pack a TCI."], _params(system_prompt="You write MISRA-C."))[0]
    assert custom.startswith("<|im_start|>system\nYou write MISRA-C.<|im_end|>\n")

    # generate() answers the templated prompt, not the raw text
    ids = tokenizer(rendered, add_special_tokens=False, return_tensors="pt")
    length = ids["input_ids"].shape[1]
    with torch.inference_mode():
        direct = model.generate(
            **ids,
            max_new_tokens=12,
            do_sample=False,
            repetition_penalty=1.0,
            logits_processor=logits_processors(length, 1.1, 64),
            pad_token_id=tokenizer.pad_token_id,
        )[0, length:]
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


@pytest.fixture(scope="module")
def reciting(reciting_dir):
    return load_student(reciting_dir, None, _params())


def test_no_token_after_a_complete_answer(reciting):
    model, tokenizer = reciting
    prompts = list(RECITED)
    params = _params(repetition_penalty=1.0, max_new_tokens=96, batch_size=3)
    free = generate(model, tokenizer, prompts, params)  # no task: the model recites everything, then its EOS
    assert [g.text for g in free] == list(RECITED.values())

    tasks = ["json_record", "c_code", "json_record"]
    stopped = generate(model, tokenizer, prompts, params, tasks=tasks)
    expected = [
        'Here it is: {"handle": "ann_lee7", "reason": "knows \\"}\\" and {braces}", "extra": {"n": 1}}',
        "Sure.\n```c\nint gate_open(void) { return 1; }\n```",
        '```json\n{"handle": "x"}\n```',
    ]
    assert [g.text for g in stopped] == expected
    # the last token taken is the one that completes the answer: one token fewer and it is incomplete
    for g, text, task in zip(stopped, expected, tasks):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert g.tokens == len(ids) and not g.truncated
        end = answer_end(task)
        assert not any(end.feed(tokenizer.decode([token])) for token in ids[:-1])
        assert end.feed(tokenizer.decode([ids[-1]]))


def test_task_budget_truncates_a_runaway_answer(reciting):
    model, tokenizer = reciting
    prompts = list(RECITED)[:2]
    params = _params(repetition_penalty=1.0, max_new_tokens=96, batch_size=2, max_new_tokens_by_task={"json_record": 5})
    json_answer, c_answer = generate(model, tokenizer, prompts, params, tasks=["json_record", "c_code"])
    assert json_answer.tokens == 5 and json_answer.truncated  # cut by its task's budget
    assert c_answer.text.endswith("```") and not c_answer.truncated  # the other row ran on to its own end


def test_gguf_chat_stops_where_the_engine_does(reciting, reciting_dir, tmp_path):
    """llama_tools.chat (quantise, the llamacpp teacher) on the f16 GGUF of the same model: the same
    answers, cut at the same token, and nothing generated after a complete answer."""
    from distilloop.release import gguf as llama_tools

    model, tokenizer = reciting
    params = _params(repetition_penalty=1.0, max_new_tokens=96, batch_size=3)
    tasks = ["json_record", "c_code", "json_record"]
    engine = generate(model, tokenizer, list(RECITED), params, tasks=tasks)
    llm = llama_tools.load_gguf(llama_tools.convert_hf_to_gguf(reciting_dir, tmp_path / "f16.gguf"), 512, 1)
    try:
        replies = [
            llama_tools.chat(llm, prompt, None, params.token_budget(task), task=task)
            for prompt, task in zip(RECITED, tasks)
        ]
        free = llama_tools.chat(llm, list(RECITED)[1], None, 96)  # no task: on to the end-of-sequence token
        together = llama_tools.chat_many(llm, list(RECITED), None, [96] * 3, tasks, parallel=2)  # quantise's path
    finally:
        llm.close()
    assert [r["text"] for r in replies] == [g.text for g in engine]
    assert [r["tokens"] for r in replies] == [g.tokens for g in engine]
    assert not any(r["truncated"] for r in replies)
    assert [(r["text"], r["tokens"], r["truncated"]) for r in together] == [
        (r["text"], r["tokens"], r["truncated"]) for r in replies
    ]
    assert free["text"] == RECITED[list(RECITED)[1]] and free["tokens"] > replies[1]["tokens"]


@pytest.mark.parametrize("penalty, window", [(1.0, 64), (1.5, 3)])
def test_gguf_answers_together_equal_one_at_a_time(varied_model_dir, tiny, tmp_path, penalty, window):
    """chat_many (several sequences in one llama.cpp context, the penalty applied in Python) gives the
    answers chat gives one prompt at a time (llama.cpp's own penalty sampler), and both the engine's."""
    from distilloop.release import gguf as llama_tools

    model, tokenizer = tiny
    params = _params(repetition_penalty=penalty, repeat_last_n=window, batch_size=5)
    engine = generate(model, tokenizer, PROMPTS, params)
    llm = llama_tools.load_gguf(llama_tools.convert_hf_to_gguf(varied_model_dir, tmp_path / "f16.gguf"), 512, 1)
    try:
        alone = [llama_tools.chat(llm, prompt, None, 12, 0.0, penalty, 0, window) for prompt in PROMPTS]
        together = llama_tools.chat_many(
            llm, PROMPTS, None, [12] * len(PROMPTS), [None] * len(PROMPTS), penalty, window, parallel=3
        )
    finally:
        llm.close()
    assert [r["text"] for r in together] == [r["text"] for r in alone]
    assert [r["tokens"] for r in together] == [r["tokens"] for r in alone]
    # the chat template's opening (system turn, user header) was prefilled once and shared
    assert all(r["shared_prompt_tokens"] >= 10 for r in together)
    assert sum(r["text"] == g.text for r, g in zip(alone, engine)) >= 4  # f16 rounding may tip one greedy choice
