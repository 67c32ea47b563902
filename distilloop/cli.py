"""The `distilloop` command: the by-hand tools (export, score, status, serve, profile) and the pipeline's
stages, each also usable by hand (`distilloop train --epoch 2` runs stages/train.py of the project here).

Errors a user can cause end with one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path
from typing import Annotated

import typer

from distilloop import UserError
from distilloop.cloud.cli import app as cloud_app
from distilloop.command import ParamsOption, load_params, run_app

STAGES = ("base", "baseline", "correct", "merge", "train", "evaluate", "select", "rl", "merge_lora", "quantise")

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Iterative teacher-student distillation as a DVC pipeline.",
)


@app.callback()
def _root() -> None:
    """Iterative teacher-student distillation as a DVC pipeline."""


def stage_script(name: str) -> Path:
    """stages/NAME.py of the project in the current directory, else of the checkout this package runs from."""
    for root in (Path.cwd(), Path(__file__).resolve().parent.parent):
        if (root / "stages" / f"{name}.py").is_file():
            return root / "stages" / f"{name}.py"
    raise UserError(f"{name}: no stages/{name}.py here; run it from a distilloop project (the folder with dvc.yaml)")


def stage_summary(name: str) -> str:
    """The first paragraph of stages/NAME.py's docstring, read without importing the stage."""
    import ast

    try:
        docstring = ast.get_docstring(ast.parse(stage_script(name).read_text(encoding="utf-8"))) or ""
    except UserError:
        return "a pipeline stage; run it from a distilloop project"
    summary = " ".join(docstring.split("\n\n")[0].split())
    return re.sub(rf"^{name}(@N)?: ", "", summary)  # "train@N: continue ..." -> "continue ..."


def add_stage_command(name: str) -> None:
    def command(context: typer.Context) -> None:
        script = stage_script(name)
        sys.argv = [str(script), *context.args]
        runpy.run_path(str(script), run_name="__main__")

    command.__doc__ = f"{stage_summary(name)} (stages/{name}.py; --help lists its options)"
    app.command(
        name, add_help_option=False, context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
    )(command)


for _name in STAGES:
    add_stage_command(_name)
app.add_typer(cloud_app, name="cloud")  # distilloop cloud run|status|logs|schedule (distilloop/cloud/cli.py)


@app.command()
def export(
    source: Annotated[
        str | None, typer.Option(help="override export.source: file, SQLAlchemy URL, s3://, bundled:...")
    ] = None,
    query: Annotated[str | None, typer.Option(help="SQL query for a database source")] = None,
    out: Annotated[Path | None, typer.Option(help="output directory (default data/export)")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Read the source, render prompts, split by a stable id hash, write records and rejects."""
    from distilloop import export as exporter

    params = load_params(params_file)
    if query is not None:
        params.export.query = query
    if out is None:
        exporter.run(params, source)
    else:
        exporter.run(params, source, out_dir=out, metrics_path=out / "export-metrics.json")


@app.command()
def score(
    in_file: Annotated[Path, typer.Option("--in", help="JSONL of records, each with an `output` field")],
    out: Annotated[Path, typer.Option("--out", help="where the scored records go (rejects: OUT's .rejects.jsonl)")],
    task: Annotated[
        str | None, typer.Option(help="task of records that name none: c_code | json_record | a gate.tasks name")
    ] = None,
    metrics: Annotated[Path | None, typer.Option(help="also write the summary as JSON here")] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Score answers with the quality gate (C code: compile, MISRA, protocol, harness, style; JSON)."""
    from distilloop import score as scorer

    scorer.run(load_params(params_file), in_file, out, task, metrics)


@app.command()
def status(params_file: ParamsOption = Path("params.yaml")):
    """One table, a row per epoch: pass rates, mean score, corrections, teacher calls, cost, train loss."""
    from distilloop import status as report

    report.run(load_params(params_file))


@app.command()
def serve(
    model: Annotated[
        str | None, typer.Option(help="a .gguf file or an HF model directory (default serve.model)")
    ] = None,
    host: Annotated[str | None, typer.Option(help="address to listen on (default serve.host, 127.0.0.1)")] = None,
    port: Annotated[
        int | None, typer.Option(help="TCP port (default SAGEMAKER_BIND_TO_PORT, else serve.port)", min=1, max=65535)
    ] = None,
    params_file: ParamsOption = Path("params.yaml"),
):
    """Serve the model over HTTP: /ping, /invocations (SageMaker), /v1/chat/completions (OpenAI)."""
    from distilloop.serve import server

    server.run(load_params(params_file), model, host, port)


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
    run_app(app)


if __name__ == "__main__":
    main()
