"""What every command shares: the --params option, loading params.yaml, and running a command so that
an error a user can cause ends with one line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from distilloop import UserError
from distilloop.config import PARAMS_FILE, environment_overrides, load, parse
from distilloop.console import fail

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download weights or data from a hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# no library's tqdm bars (transformers converting a GGUF, ...): redrawn with carriage returns they fill a log; the
# stages print their own progress (distilloop.console.progress). tqdm reads this when it is first imported.
os.environ.setdefault("TQDM_DISABLE", "1")

ParamsOption = Annotated[Path, typer.Option("--params", help="params file (defaults apply when absent)")]
ModelDirOption = Annotated[Path, typer.Option("--model", help="base model directory (HF format)")]


def load_params(path: Path):
    if not path.exists() and path == PARAMS_FILE:  # standalone use outside a project: the documented defaults
        return parse(environment_overrides({}, os.environ), "the defaults (no params.yaml here)")
    return load(path)


def run_app(app: typer.Typer, args: list[str] | None = None) -> None:
    # typer handles usage errors itself (a usage line and exit 2); what a user can get wrong beyond
    # the command line arrives here as UserError.
    try:
        app(args=args)
    except UserError as exc:
        fail(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)


def run_command(function: Callable, name: str | None = None) -> None:
    """Run one function as a command line program (a stage's `python -m stages.NAME ...`)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command(name=name)(function)
    run_app(app, sys.argv[1:])
