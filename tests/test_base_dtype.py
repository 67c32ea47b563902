"""base keeps an HF source in its own dtype on disk, each run loads it in its own; a hub id is refused
offline in one line and recognised only where no local path has its name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import assert_one_line_error, run_cli
from safetensors import safe_open

from distilloop.config import Params, StudentParams
from distilloop.student.model import hub_id, load_student
from stages import base as stage


@pytest.fixture(scope="module")
def bf16_model_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """conftest's tiny Llama saved in bf16, as hub checkpoints of recent models are."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path_factory.mktemp("tiny-bf16")
    AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16).save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out)
    return out


def stored_dtypes(model_dir: Path) -> set[torch.dtype]:
    dtypes = set()
    for file in model_dir.glob("*.safetensors"):
        with safe_open(str(file), "pt") as handle:
            dtypes |= {handle.get_slice(name).get_dtype() for name in handle.keys()}  # noqa: SIM118
    return dtypes


def test_a_bf16_source_is_bf16_on_disk_and_loads_in_the_runs_dtype(bf16_model_dir, tmp_path):
    out = tmp_path / "base"
    info = stage.run(Params(), str(bf16_model_dir), out, metrics_path=tmp_path / "base.json")
    assert not info["reused"] and info["dtype"] == "bfloat16"
    assert stored_dtypes(out) == {"BF16"}  # not widened to float32
    source_bytes = sum(f.stat().st_size for f in bf16_model_dir.glob("*.safetensors"))
    assert sum(f.stat().st_size for f in out.glob("*.safetensors")) == source_bytes
    assert json.loads((tmp_path / "base.json").read_text()) == {
        "model": str(bf16_model_dir),
        "revision": None,
        "dtype": "bfloat16",
    }
    # each run its own dtype: float32 generation, bf16 generation, from the same bf16 weights
    fp32, tokenizer = load_student(out, None, StudentParams(dtype="float32", device="cpu"), threads=1)
    bf16, _ = load_student(out, None, StudentParams(dtype="bfloat16", device="cpu"), threads=1)
    assert {p.dtype for p in fp32.parameters()} == {torch.float32}
    assert {p.dtype for p in bf16.parameters()} == {torch.bfloat16}
    ids = tokenizer(["Pack a TCI."], return_tensors="pt")
    with torch.inference_mode():
        widened, native = fp32(**ids).logits, bf16(**ids).logits.float()
    assert torch.equal(fp32.model.embed_tokens.weight.bfloat16(), bf16.model.embed_tokens.weight)  # same weights
    assert (widened - native).abs().max() < 0.05 * widened.abs().max()  # bf16 arithmetic, not other weights


def test_a_float32_source_stays_float32(tiny_model_dir, tmp_path):
    stage.run(Params(), str(tiny_model_dir), tmp_path / "base", metrics_path=tmp_path / "base.json")
    assert stored_dtypes(tmp_path / "base") == {"F32"}


def test_a_hub_id_is_refused_offline_in_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text("student:\n  model: HuggingFaceTB/SmolLM2-360M-Instruct\n")
    result = run_cli("base", cwd=tmp_path)  # the tests' environment sets HF_HUB_OFFLINE=1
    assert_one_line_error(
        result, "student.model: HuggingFaceTB/SmolLM2-360M-Instruct is a Hugging Face hub id", "HF_HUB_OFFLINE is set"
    )
    assert not (tmp_path / "models" / "base").exists()


def test_what_counts_as_a_hub_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert hub_id("Qwen/Qwen2.5-0.5B-Instruct") == ("Qwen/Qwen2.5-0.5B-Instruct", None)
    assert hub_id("org/name@3f1c0a9") == ("org/name", "3f1c0a9")
    (tmp_path / "models" / "mine").mkdir(parents=True)
    assert hub_id("models/mine") is None  # a local directory of that name wins
    assert hub_id("/abs/path") is None and hub_id("./rel/path") is None and hub_id("bundled:x") is None
