"""Adapters and checkpoints on disk: written by renames only (a killed stage never leaves half an adapter),
stamped with what they were trained on, and checkpoints resumable only by the run that made them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from distilloop.io import write_json
from distilloop.paths import TRAINED_ON

RUN_FILE = "run.json"  # in checkpoints/: the fingerprint that makes a checkpoint resumable


def digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def replace_dir(new: Path, target: Path) -> None:
    """Put directory `new` at `target` with renames only, so a killed stage never leaves half an adapter."""
    old = target.parent / f".{target.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def staging_dir(target: Path) -> Path:
    staging = target.parent / f".{target.name}.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    return staging


def copy_adapter(source: Path, target: Path, trained_on: dict | None = None) -> None:
    staging = staging_dir(target)
    shutil.copytree(source, staging)
    if trained_on is not None:
        write_json(staging / TRAINED_ON, trained_on)
    replace_dir(staging, target)


def save_adapter(model, target: Path, trained_on: dict) -> None:
    staging = staging_dir(target)
    model.save_pretrained(staging, selected_adapters=["default"])  # DPO also holds a frozen "ref" copy
    write_json(staging / TRAINED_ON, trained_on)
    replace_dir(staging, target)


def last_checkpoint(checkpoints: Path) -> Path | None:
    """The newest complete checkpoint. The Trainer writes trainer_state.json last, so a checkpoint without
    a readable one was cut short by a kill: it is removed, and the one before it is used."""
    candidates = sorted(checkpoints.glob("checkpoint-*"), key=lambda path: int(path.name.split("-")[-1]), reverse=True)
    for candidate in candidates:
        try:
            json.loads((candidate / "trainer_state.json").read_text(encoding="utf-8"))
            if (candidate / "optimizer.pt").exists() and (candidate / "adapter_model.safetensors").exists():
                return candidate
        except (OSError, json.JSONDecodeError):
            pass
        shutil.rmtree(candidate, ignore_errors=True)
    return None


def prepare_checkpoints(checkpoints: Path, fingerprint: str) -> tuple[Path | None, dict]:
    """Resume point and run record. Checkpoints made from other inputs or params are discarded."""
    run_file = checkpoints / RUN_FILE
    record = json.loads(run_file.read_text(encoding="utf-8")) if run_file.exists() else {}
    if record.get("fingerprint") == fingerprint:
        resume = last_checkpoint(checkpoints)
        if resume is not None:
            return resume, record
    if checkpoints.exists():
        shutil.rmtree(checkpoints)
    checkpoints.mkdir(parents=True)
    record = {"fingerprint": fingerprint}
    write_json(run_file, record)
    return None, record
