"""The distilloop command: every stage is a subcommand; command-line mistakes are usage errors."""

from __future__ import annotations

from conftest import run_cli

STAGES = (
    "export",
    "base",
    "baseline",
    "correct",
    "merge",
    "train",
    "evaluate",
    "select",
    "rl",
    "merge_lora",
    "quantise",
)


def test_every_stage_and_tool_is_a_command(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    listed = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    assert set(STAGES) | {"score", "status", "serve"} <= listed, listed


def test_a_bad_option_value_is_a_usage_error_not_a_traceback(tmp_path):
    for args in (("evaluate", "--epoch", "abc"), ("no-such-command",), ("serve", "--port", "abc")):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and "Usage:" in result.stderr


def test_a_stage_command_is_described_by_its_stage_module(tmp_path):
    """One source: `distilloop --help` shows the first paragraph of each stage module's docstring."""
    import ast

    from conftest import ROOT

    from distilloop.cli import STAGES as COMMANDS
    from distilloop.cli import stage_summary

    for name in COMMANDS:
        docstring = ast.get_docstring(ast.parse((ROOT / "stages" / f"{name}.py").read_text(encoding="utf-8")))
        first = " ".join(docstring.split("\n\n")[0].split())
        assert first.endswith(stage_summary(name)) and len(stage_summary(name)) > 20, name
    assert stage_summary("train").startswith("continue the LoRA adapter of epoch N-1")
    result = run_cli("--help", cwd=tmp_path)
    assert "continue the LoRA adapter of epoch N-1" in " ".join(result.stdout.replace("│", " ").split())
