"""base: the bundled GGUF becomes a working HF model; local HF directories work; bad input is one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_one_line_error, run_cli

from distilloop.config import StudentParams
from distilloop.student.generation import render_prompts
from distilloop.student.model import BUNDLED_STUDENT, SOURCE_FILE, bundled_gguf, load_student, materialise

PARAMS = StudentParams(dtype="float32", repetition_penalty=1.0)


@pytest.mark.slow
def test_bundled_gguf_converts_to_a_working_hf_model(tmp_path):
    """Honest check of the conversion (dequantisation, q/k permutation, tokenizer, chat template): the HF
    model's next-token choice agrees with llama.cpp running the original GGUF at nearly every prompt
    position (llama.cpp's Q4_1 kernels quantise activations too, so not exactly), and it answers a
    factual question correctly."""
    from llama_cpp import Llama

    out = tmp_path / "base"
    info = materialise(BUNDLED_STUDENT, out)
    assert not info["reused"] and info["architecture"] == "LlamaForCausalLM"
    assert 130e6 < info["parameters"] < 140e6
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja", SOURCE_FILE} <= {
        p.name for p in out.iterdir()
    }
    assert "quantization_config" not in (out / "config.json").read_text()

    model, tokenizer = load_student(out, None, PARAMS, threads=1)
    text = render_prompts(tokenizer, ["What is the capital of France?"], PARAMS)[0]
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        hf_logits = model(torch.tensor([ids])).logits[0].numpy()
        answer = model.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False)[0, len(ids) :]
    assert "Paris" in tokenizer.decode(answer, skip_special_tokens=True)

    llm = Llama(model_path=str(bundled_gguf()), n_ctx=256, n_threads=1, logits_all=True, verbose=False)
    assert llm.tokenize(text.encode(), add_bos=False, special=True) == ids  # same tokenizer
    llm.eval(ids)
    cpp_logits = np.array(llm.scores[: len(ids)])
    agreement = (cpp_logits.argmax(-1) == hf_logits.argmax(-1)).mean()
    assert agreement >= 0.9, agreement
    assert np.corrcoef(cpp_logits[-1], hf_logits[-1])[0, 1] > 0.99

    assert materialise(BUNDLED_STUDENT, out)["reused"]  # unchanged source: no second conversion


def test_local_hf_directory(tiny_model_dir, tmp_path):
    out = tmp_path / "base"
    info = materialise(str(tiny_model_dir), out)
    assert not info["reused"]
    original, tokenizer = load_student(tiny_model_dir, None, PARAMS)
    copied, _ = load_student(out, None, PARAMS, threads=1)
    ids = tokenizer(render_prompts(tokenizer, ["Pack a TCI."], PARAMS), return_tensors="pt")
    with torch.inference_mode():
        assert torch.equal(original(**ids).logits, copied(**ids).logits)


@pytest.mark.parametrize(
    "model, message",
    [
        ("/no/such/model", "student.model: /no/such/model not found"),
        ("bundled:llama-70b", "unknown bundled model"),
        ("{dir}", "is not a Hugging Face model directory"),
        ("{dir}/bad.gguf", "cannot read this GGUF"),
    ],
)
def test_bad_model_is_one_line_and_exit_1(tmp_path, model, message):
    (tmp_path / "bad.gguf").write_bytes(b"not a gguf")
    model = model.format(dir=tmp_path)
    (tmp_path / "params.yaml").write_text(f"student:\n  model: {model}\n")
    assert_one_line_error(run_cli("base", cwd=tmp_path), message)
    assert not (tmp_path / "models" / "base").exists()


def test_bad_student_param_names_the_key(tmp_path):
    (tmp_path / "params.yaml").write_text("student:\n  max_new_tokens: 0\n")
    assert_one_line_error(
        run_cli("base", cwd=tmp_path), "params.yaml: student.max_new_tokens:", "greater than or equal to 1 (got 0)"
    )


def test_the_stage_log_has_no_progress_bars_or_machine_paths(tiny_model_dir, tmp_path):
    """Its stderr is a file here, as under `dvc repro > log`: the summary, no carriage-return bars (the
    libraries' own included), and the model shown by name, not by this machine's absolute path."""
    result = run_cli("base", "--model", str(tiny_model_dir), "--out", "models/base", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    assert str(tiny_model_dir) not in result.stderr and str(tmp_path) not in result.stderr
    assert "models/base" in result.stderr and Path(tiny_model_dir).name in result.stderr
