"""HF -> GGUF with llama.cpp's converter, quantisation, and the Modelfile, on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest

from distilloop import UserError
from distilloop.release import gguf as llama_tools

PROMPT = "Write a C function that packs a VLAN tag."


@pytest.fixture(scope="module")
def gguf_files(tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("gguf")
    f16 = llama_tools.convert_hf_to_gguf(tiny_model_dir, out / "model-f16.gguf")
    files = {"f16": f16}
    for kind in ("q8_0", "q4_k_m"):
        files[kind] = llama_tools.quantize(f16, out / f"model-{kind}.gguf", kind)
    return files


def gguf_logits(path, ids):
    from llama_cpp import Llama

    llm = Llama(str(path), n_ctx=128, logits_all=True, verbose=False, n_threads=2)
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)])
    finally:
        llm.close()


def test_gguf_computes_the_same_function_as_the_hf_model(tiny_model_dir, gguf_files):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ids = AutoTokenizer.from_pretrained(tiny_model_dir)(PROMPT)["input_ids"]
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    with torch.no_grad():
        reference = model(torch.tensor([ids])).logits[0].numpy()
    errors = {kind: float(np.abs(gguf_logits(path, ids) - reference).max()) for kind, path in gguf_files.items()}
    # f16 rounding only; q8_0 a little more; q4_k_m (q5_0 fallback at width 64) more still
    assert errors["f16"] < 5e-3 and errors["q8_0"] < 5e-2 and errors["q4_k_m"] < 0.2, errors
    sizes = {kind: path.stat().st_size for kind, path in gguf_files.items()}
    assert sizes["f16"] > sizes["q8_0"] > sizes["q4_k_m"]


def test_quantise_refuses_unknown_types_and_missing_input(tmp_path, gguf_files):
    with pytest.raises(UserError, match="unknown type 'q3'"):
        llama_tools.quantize(gguf_files["f16"], tmp_path / "x.gguf", "q3")
    with pytest.raises(UserError, match="failed"):
        llama_tools.quantize(tmp_path / "missing.gguf", tmp_path / "y.gguf", "q8_0")


def test_modelfile_names_the_model_and_the_chat_stops():
    text = llama_tools.modelfile("model-q4_k_m.gguf", "You write MISRA-C.", ["<|im_end|>"], 0.2, 4096, 1.1, 48)
    assert text.splitlines()[0] == "FROM ./model-q4_k_m.gguf"
    assert 'PARAMETER stop "<|im_end|>"' in text and "PARAMETER num_ctx 4096" in text
    assert "PARAMETER repeat_penalty 1.1" in text and "PARAMETER repeat_last_n 48" in text
    assert "<|im_start|>{{ .Role }}" in text and 'SYSTEM """You write MISRA-C."""' in text


def test_llama_cpp_penalises_only_recent_generated_tokens():
    """What llama-cpp-python 0.3.x does with `repeat_penalty`, measured: its greedy answer equals one made
    with the penalty off and our own penalty over the last `last_n_tokens_size` generated tokens applied
    as a logits processor, and differs from one whose penalty also covers the prompt. So llama_tools.chat
    can use the native penalty as distilloop/student/decoding.py defines it."""
    from llama_cpp import Llama

    from distilloop.student.model import bundled_gguf

    llm = Llama(model_path=str(bundled_gguf()), n_ctx=512, n_threads=1, verbose=False)
    prompt = llm.tokenize(
        b"<|im_start|>user\nRepeat this handle five times, separated by commas: emre_ito042"
        b"<|im_end|>\n<|im_start|>assistant\n",
        add_bos=False,
        special=True,
    )
    penalty = 1.8

    def greedy(**options) -> list[int]:
        out = []
        for token in llm.generate(prompt, temp=0.0, **options):
            if token == llm.token_eos() or len(out) == 40:
                break
            out.append(token)
        return out

    def penalising(last_n: int | None):  # None: the prompt and every generated token
        def apply(input_ids, scores):
            window = set(input_ids.tolist() if last_n is None else input_ids[len(prompt) :].tolist()[-last_n:])
            scores = scores.copy()
            for token in window:
                scores[token] = scores[token] * penalty if scores[token] <= 0 else scores[token] / penalty
            return scores

        return [apply]

    try:
        for last_n in (64, 4):
            llm.last_n_tokens_size = last_n
            native = greedy(repeat_penalty=penalty)
            assert native == greedy(repeat_penalty=1.0, logits_processor=penalising(last_n)), last_n
            assert native != greedy(repeat_penalty=1.0, logits_processor=penalising(None)), last_n
        assert native != greedy(repeat_penalty=1.0)  # the penalty changes this answer at all
    finally:
        llm.close()
