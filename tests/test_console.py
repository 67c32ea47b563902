"""What the stages print where stderr is not a terminal (a log, `dvc repro` piped): one line per progress
task, no carriage returns, and no machine's absolute paths in summaries."""

from __future__ import annotations

from pathlib import Path

from distilloop import console as output
from distilloop.console import progress, shown


def test_progress_in_a_log_is_one_line_per_task(capsys):
    assert not output.console.is_terminal  # pytest captures stderr
    with progress() as bar:
        scoring = bar.add_task("epoch 1 val", total=3, rate="-")
        for _ in range(3):
            bar.advance(scoring)
        bar.update(scoring, rate="12.5")
        bar.add_task("epoch 1 test", total=2)
    err = capsys.readouterr().err
    assert "\r" not in err
    assert err.splitlines() == ["epoch 1 val: 3/3 in 0 s (rate 12.5)", "epoch 1 test: 0/2 in 0 s"]


def test_summaries_show_paths_relative_to_the_project_package_or_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path.parent))
    assert shown(tmp_path / "runs/epoch-1/adapter") == "runs/epoch-1/adapter"
    assert shown("models/base") == "models/base"
    assert shown(Path(output.__file__).parent / "data" / "c_tasks.jsonl") == "distilloop/data/c_tasks.jsonl"
    assert shown(tmp_path.parent / "elsewhere" / "model.gguf") == "~/elsewhere/model.gguf"
    assert shown("/opt/models/student.gguf") == "student.gguf"
    assert shown("bundled:smollm2-135m-instruct") == "bundled:smollm2-135m-instruct"
