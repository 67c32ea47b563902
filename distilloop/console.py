"""Terminal output shared by the stages: one console, progress bars, one-screen summaries."""

from __future__ import annotations

import sys
import warnings

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True, highlight=False)


def progress(*extra_columns) -> Progress:
    """A progress bar on stderr; `extra_columns` add live figures such as tokens/s or cost."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        console=console,
        transient=not console.is_terminal,
        disable=not console.is_terminal,
    )


def summary_table(title: str, columns: tuple[str, ...], rows: list[tuple]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    return table


def quiet_libraries() -> None:
    """The stages have their own progress bars and summaries: library bars ("Loading weights"), info logs
    and deprecation notices about the libraries' own internals would bury them. Call it before loading a
    model."""
    import datasets
    import transformers

    for library in ("transformers", "trl", "peft"):
        warnings.filterwarnings("ignore", category=FutureWarning, module=library)
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_warning()


def fail(message: str) -> None:
    """The one line a user sees for an error they can fix."""
    print(f"distilloop: error: {message}", file=sys.stderr)
