"""base: materialise the student in models/base/ as a plain Hugging Face model, offline.

`params.student.model` names the bundled SmolLM2-135M-Instruct GGUF, a local HF directory or a local
.gguf file. A GGUF is dequantised to float32 weights with its tokenizer and chat template. Re-running
against an unchanged source reuses the directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distilloop.command import ParamsOption, load_params, run_command
from distilloop.config import Params
from distilloop.console import console, shown, summary_table
from distilloop.paths import BASE_DIR
from distilloop.student.model import materialise


def run(params: Params, model: str | None = None, out_dir: Path = BASE_DIR) -> dict:
    spec = model or params.student.model
    with console.status(f"base: converting {shown(spec)} -> {shown(out_dir)}"):
        info = materialise(spec, out_dir)
    rows = [("model", shown(spec)), ("source", shown(info["source"])), ("written to", shown(out_dir))]
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
