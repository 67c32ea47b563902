"""The `distilloop` command: one subcommand per DVC stage, each also usable by hand.

Errors a user can cause end with one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from distilloop import UserError
from distilloop.console import fail

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download weights or data from a hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Iterative teacher-student distillation as a DVC pipeline.")



@app.callback()
def _root() -> None:
    """Iterative teacher-student distillation as a DVC pipeline."""


ParamsOption = Annotated[Path, typer.Option("--params", help="params file (defaults apply when absent)")]


def load_params(path: Path):
    from distilloop import config as params

    if not path.exists() and path == params.PARAMS_FILE:
        return params.Params()  # standalone use outside a project: the documented defaults
    return params.load(path)


@app.command()
def export(
    source: Annotated[Optional[str], typer.Option(help="override export.source: file, SQLAlchemy URL, s3://, bundled:...")] = None,
    query: Annotated[Optional[str], typer.Option(help="SQL query for a database source")] = None,
    out: Annotated[Optional[Path], typer.Option(help="output directory (default data/export)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Read the source, render prompts, split by a stable id hash, write records and rejects."""
    from distilloop import export as stage

    params = load_params(params_file)
    if query is not None:
        params.export.query = query
    if out is None:
        stage.run(params, source)
    else:
        stage.run(params, source, out_dir=out, metrics_path=out / "export-metrics.json")


@app.command()
def base(
    model: Annotated[Optional[str], typer.Option(help="override student.model: a .gguf file, an HF directory, bundled:...")] = None,
    out: Annotated[Optional[Path], typer.Option(help="output directory (default models/base)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Materialise the student as a Hugging Face model directory, offline."""
    from stages import base as stage

    params = load_params(params_file)
    stage.run(params, model, **({"out_dir": out} if out else {}))


ModelDirOption = Annotated[Path, typer.Option("--model", help="base model directory (HF format)")]


@app.command()
def baseline(model: ModelDirOption = Path("models/base"), params_file: ParamsOption = Path("params.yaml")):
    """Epoch 0: a fresh LoRA adapter (equal to the base model) answers pool, val and test; score them."""
    from stages import baseline as stage

    stage.run(load_params(params_file), model)


@app.command()
def evaluate(
    epoch: Annotated[Optional[int], typer.Option(help="evaluate runs/epoch-N/adapter on pool, val and test")] = None,
    adapter: Annotated[Optional[Path], typer.Option(help="by hand: a LoRA adapter directory (default: none)")] = None,
    in_file: Annotated[Optional[Path], typer.Option("--in", help="by hand: export records to answer and score")] = None,
    out: Annotated[Optional[Path], typer.Option(help="by hand: where the scored records go")] = None,
    model: ModelDirOption = Path("models/base"),
    params_file: ParamsOption = Path("params.yaml"),
):
    """Answer and score with adapter N (`--epoch N`), or any file by hand (`--in FILE --out FILE`)."""
    from stages import evaluate as stage

    params = load_params(params_file)
    if epoch is not None:
        if in_file or out or adapter:
            raise UserError("evaluate: give either --epoch N, or --in FILE --out FILE [--adapter DIR]")
        stage.run(params, epoch, model)
    elif in_file is not None and out is not None:
        stage.run_file(params, adapter, in_file, out, model)
    else:
        raise UserError("evaluate: give --epoch N, or --in FILE --out FILE [--adapter DIR]")


@app.command()
def correct(
    epoch: Annotated[Optional[int], typer.Option(min=1, help="epoch N: reads runs/epoch-(N-1)/pool.scored.jsonl")] = None,
    in_path: Annotated[Optional[Path], typer.Option("--in", help="scored records to correct (instead of --epoch)")] = None,
    out: Annotated[Optional[Path], typer.Option(help="corrections JSONL (metrics go next to it as .metrics.json)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Send the answers that failed the gate to the teacher (cached, budgeted), verify each correction."""
    from stages import correct as stage

    if epoch is None and (in_path is None or out is None):
        raise UserError("correct: give --epoch N, or both --in SCORED.jsonl and --out CORRECTIONS.jsonl")
    stage.run(load_params(params_file), epoch, in_path, out)


@app.command()
def merge(
    epoch: Annotated[int, typer.Option(min=1, help="epoch N: bank N-1 + accepted corrections of N")],
    out: Annotated[Optional[Path], typer.Option(help="output directory (default runs/epoch-N)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Add the accepted corrections to the bank of examples; write this epoch's lesson and preference pairs."""
    from stages import merge as stage

    stage.run(load_params(params_file), epoch, out_dir=out)


@app.command()
def score(
    in_file: Annotated[Path, typer.Option("--in", help="JSONL of records, each with an `output` field")],
    out: Annotated[Path, typer.Option("--out", help="where the scored records go (rejects: OUT's .rejects.jsonl)")],
    task: Annotated[Optional[str], typer.Option(help="task of records that name none: c_code | json_record")] = None,
    metrics: Annotated[Optional[Path], typer.Option(help="also write the summary as JSON here")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Score answers with the quality gate (C code: compile, MISRA, protocol, harness, style; JSON)."""
    from distilloop import score as stage

    stage.run(load_params(params_file), in_file, out, task, metrics)


@app.command("select")
def select_(params_file: ParamsOption = Path("params.yaml")):
    """Pick the best epoch by its val score; copy its adapter to models/best-adapter."""
    from stages import select

    select.run(load_params(params_file))


@app.command("merge_lora")
def merge_lora(
    adapter: Annotated[Optional[Path], typer.Option(help="adapter directory (default models/best-adapter)")] = None,
    out: Annotated[Optional[Path], typer.Option(help="output directory (default models/merged)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Merge the best adapter into the base model and check the logits agree."""
    from stages import merge_lora as stage

    kwargs = {"adapter_dir": adapter} if adapter else {}
    if out:
        kwargs.update(out_dir=out, metrics_path=out.parent / f"{out.name}-merge.json")
    stage.run(load_params(params_file), **kwargs)


@app.command()
def quantise(params_file: ParamsOption = Path("params.yaml")):
    """GGUF files of the merged model (f16, q8_0, q4_k_m) and an Ollama Modelfile, each scored again."""
    from stages import quantise as stage

    stage.run(load_params(params_file))


@app.command()
def status(params_file: ParamsOption = Path("params.yaml")):
    """One table, a row per epoch: pass rates, mean score, corrections, teacher calls, cost, train loss."""
    from distilloop import status as stage

    stage.run(load_params(params_file))


@app.command()
def serve(
    model: Annotated[Optional[str], typer.Option(help="a .gguf file or an HF model directory (default serve.model)")] = None,
    host: Annotated[Optional[str], typer.Option(help="address to listen on (default serve.host, 127.0.0.1)")] = None,
    port: Annotated[Optional[int], typer.Option(help="TCP port (default SAGEMAKER_BIND_TO_PORT, else serve.port)",
                                                min=1, max=65535)] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Serve the model over HTTP: /ping, /invocations (SageMaker), /v1/chat/completions (OpenAI)."""
    from distilloop.serve import server as stage

    stage.run(load_params(params_file), model, host, port)


@app.command()
def train(
    epoch: Annotated[int, typer.Option(min=1, help="loop epoch N: continues adapter N-1 on train set N")],
    data: Annotated[Optional[Path], typer.Option("--in", help="train set (pairs for dpo) instead of runs/epoch-N/")] = None,
    out: Annotated[Optional[Path], typer.Option(help="directory for adapter/, checkpoints/, live/ and metrics")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """LoRA-train adapter N from adapter N-1 (sft, dpo or kd), with early stopping on val and resume."""
    from stages import train as stage

    stage.run(load_params(params_file), epoch, data, out)


@app.command()
def profile(
    name: Annotated[str, typer.Argument(help="a profile in profiles/, e.g. smoke")],
    params_file: ParamsOption = Path("params.yaml"),
):
    """Write a params profile (profiles/NAME.yaml) into params.yaml, e.g. `smoke` for a minutes-long run."""
    from distilloop.config import apply_profile

    apply_profile(name, params_file)
    print(f"{params_file}: profile {name} applied (git checkout {params_file} undoes it)")


def main() -> None:
    # typer handles usage errors itself (a usage line and exit 2); what a user can get wrong beyond
    # the command line arrives here as UserError.
    try:
        app()
    except UserError as exc:
        fail(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
