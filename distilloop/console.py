"""Terminal output shared by the stages: one console, progress bars, one-screen summaries."""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True, highlight=False)
steps = Console(highlight=False, soft_wrap=True)  # stdout: a log's one line per finished step (LineProgress)


URL_CREDENTIALS = re.compile(r"(?<=//)[^/@\s]+@")  # a source such as postgresql://user:password@host


class LineProgress(Progress):
    """Where stderr is not a terminal (a log, `dvc repro` piped): no bar redrawn with carriage returns, but
    one line per task when it ends, e.g. `epoch 1 val: 59/59 in 41 s (rate 118.2)`, on stdout: stderr stays
    for the summaries and, when a stage fails, its one error line."""

    def __init__(self, *columns):
        super().__init__(*columns, console=console, disable=True)
        self._reported: set = set()

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        if exc_type is not None:  # the stage fails: its one error line is all a user sees
            self._reported.update(task.id for task in self.tasks)
        self.stop()

    def stop(self) -> None:
        super().stop()
        for task in self.tasks:
            if task.id in self._reported:
                continue
            self._reported.add(task.id)
            done = f"{task.completed:g}" + (f"/{task.total:g}" if task.total is not None else "")
            fields = ", ".join(f"{name} {value}" for name, value in task.fields.items())
            elapsed = f" in {task.elapsed:.0f} s" if task.elapsed is not None else ""
            line = f"{task.description}: {done}{elapsed}" + (f" ({fields})" if fields else "")
            steps.print(URL_CREDENTIALS.sub("***@", line), markup=False)


def progress(*extra_columns) -> Progress:
    """A progress bar on stderr; `extra_columns` add live figures such as tokens/s or cost. Not a terminal:
    one line per task instead (LineProgress)."""
    if not console.is_terminal:
        return LineProgress()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        console=console,
    )


def shown(path: str | Path) -> str:
    """A path as a stage summary shows it: relative to the project, the package or home, never a machine's
    absolute path."""
    path = Path(path)
    if not path.is_absolute():
        return str(path)
    for root, label in ((Path.cwd(), ""), (Path(__file__).resolve().parent, "distilloop/"), (Path.home(), "~/")):
        try:
            return label + str(path.relative_to(root))
        except ValueError:
            continue
    return path.name


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
