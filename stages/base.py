"""base: materialise the student in models/base/ as a plain Hugging Face model, offline.

`params.student.model` names the bundled SmolLM2-135M-Instruct GGUF, a local HF directory, a local
.gguf file, or (on a machine that is online, HF_HUB_OFFLINE unset) a hub id ORG/NAME[@REVISION]. A GGUF is
dequantised to float32 weights with its tokenizer and chat template; an HF model keeps its own dtype on disk
(bf16 stays bf16), and each run loads it in its own dtype. A hub id's resolved commit sha goes to
metrics/base.json. Re-running against an unchanged source reuses the directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, shown, summary_table
from distilloop.io import write_json
from distilloop.paths import BASE_DIR, METRICS_DIR
from distilloop.student.model import materialise


def run(params: Params, model: str | None = None, out_dir: Path = BASE_DIR, metrics_path: Path | None = None) -> dict:
    spec = model or params.student.model
    with console.status(f"base: converting {shown(spec)} -> {shown(out_dir)}"):
        info = materialise(spec, out_dir)
    config = json.loads((Path(out_dir) / "config.json").read_text())
    dtype = config.get("dtype") or config.get("torch_dtype")
    if metrics_path is None and out_dir == BASE_DIR:
        metrics_path = METRICS_DIR / "base.json"
    if metrics_path is not None:
        write_json(metrics_path, {"model": spec, "revision": info.get("revision"), "dtype": dtype})
    rows = [("model", shown(spec)), ("source", shown(info["source"])), ("written to", f"{shown(out_dir)} ({dtype})")]
    if info.get("revision"):
        rows.append(("revision", info["revision"]))
    if info["reused"]:
        rows.append(("status", "unchanged source: reused"))
    else:
        rows += [("architecture", info["architecture"]), ("parameters", f"{info['parameters'] / 1e6:.1f} M")]
    console.print(summary_table("base", ("", ""), rows))
    return info


def main(
    model: Annotated[
        str | None, typer.Option(help="override student.model: a .gguf file, an HF directory, bundled:...")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="output directory (default models/base)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Materialise the student as a Hugging Face model directory, offline."""
    params = load_params(params_file)
    run(params, model, **({"out_dir": out} if out else {}))


if __name__ == "__main__":
    run_command(main)
