"""What the stages print where stderr is not a terminal (a log, `dvc repro` piped): one line per progress
task, no carriage returns, and no machine's absolute paths in summaries."""

from __future__ import annotations

from pathlib import Path

from distilloop import console as output
from distilloop.console import progress, shown


def test_progress_in_a_log_is_one_line_per_task_on_stdout(capsys):
    assert not output.console.is_terminal  # pytest captures stderr
    with progress() as bar:
        scoring = bar.add_task("epoch 1 val", total=3, rate="-")
        for _ in range(3):
            bar.advance(scoring)
        bar.update(scoring, rate="12.5")
        bar.add_task("epoch 1 test", total=2)
    printed = capsys.readouterr()
    assert printed.err == "" and "\r" not in printed.out
    assert printed.out.splitlines() == ["epoch 1 val: 3/3 in 0 s (rate 12.5)", "epoch 1 test: 0/2 in 0 s"]


def test_summaries_show_paths_relative_to_the_project_package_or_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path.parent))
    assert shown(tmp_path / "runs/epoch-1/adapter") == "runs/epoch-1/adapter"
    assert shown("models/base") == "models/base"
    assert shown(Path(output.__file__).parent / "data" / "c_tasks.jsonl") == "distilloop/data/c_tasks.jsonl"
    assert shown(tmp_path.parent / "elsewhere" / "model.gguf") == "~/elsewhere/model.gguf"
    assert shown("/opt/models/student.gguf") == "student.gguf"
    assert shown("bundled:smollm2-135m-instruct") == "bundled:smollm2-135m-instruct"


def test_a_failing_task_prints_nothing_and_a_line_never_shows_a_password(capsys):
    try:
        with progress() as bar:
            bar.add_task("export postgresql://nobody:secret@127.0.0.1/db", total=1)
            raise ValueError("the stage fails")
    except ValueError:
        pass
    assert capsys.readouterr() == ("", "")  # the stage's one error line stays alone
    with progress() as bar:
        bar.add_task("export postgresql://nobody:secret@127.0.0.1/db [x]", total=1)
    assert capsys.readouterr().out.strip() == "export postgresql://***@127.0.0.1/db [x]: 0/1 in 0 s"
