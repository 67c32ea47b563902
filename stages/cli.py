"""The `distilloop` command: one subcommand per DVC stage, each also usable by hand.

Errors a user can cause end with one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import click
import typer

from stages import UserError
from stages.console import fail

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
    from stages import params

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
    from stages import export as stage

    params = load_params(params_file)
    if query is not None:
        params.export.query = query
    if out is None:
        stage.run(params, source)
    else:
        stage.run(params, source, out_dir=out, metrics_path=out / "export-metrics.json")


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


def main() -> None:
    try:
        result = app(standalone_mode=False)
    except UserError as exc:
        fail(str(exc))
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        fail("interrupted")
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
