"""dvc.yaml never reuses a stale result: every stage lists the code it runs as deps.

Each stage's import closure is computed by walking the imports (and the `package.module:Name` strings of
registries such as the teachers') from its module in stages/, within distilloop/ and stages/. A module in
the closure that no dep covers fails, as does a code dep that covers no module of the closure (a stale dep
reruns a stage for nothing). A directory dep covers every file under it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

CODE_ROOTS = ("distilloop", "stages")
REGISTRY_STRING = re.compile(r"^((?:distilloop|stages)(?:\.\w+)+)(?::\w+)?$")


def module_file(name: str) -> Path | None:
    """distilloop.gate.c_code -> distilloop/gate/c_code/__init__.py; None when not one of ours."""
    if name.split(".")[0] not in CODE_ROOTS:
        return None
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_names(path: Path) -> set[str]:
    """Every module name `path` imports (at any depth, lazily too), including `from package import module`."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and REGISTRY_STRING.match(node.value):
            names.add(REGISTRY_STRING.match(node.value).group(1))
    return names


def closure(start: Path) -> set[Path]:
    """The files a stage runs: its module (run as `python -m stages.NAME`, so stages/__init__.py too), every
    one of ours it imports transitively, and their packages."""
    seen, todo = set(), [start, *([start.parent / "__init__.py"] if start.parent.name == "stages" else [])]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported_names(path):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ first
                found = module_file(".".join(parts[:depth]))
                if found is not None:
                    todo.append(found)
    return {path.relative_to(ROOT) for path in seen}


def code_deps(stage: dict) -> list[Path]:
    deps = [Path(next(iter(dep)) if isinstance(dep, dict) else dep) for dep in stage.get("deps", [])]
    return [dep for dep in deps if dep.parts[0] in CODE_ROOTS]


def covered(path: Path, deps: list[Path]) -> bool:
    return any(path == dep or dep in path.parents for dep in deps)


def stage_module(name: str, stage: dict) -> Path:
    body = stage.get("do", stage)
    command = body["cmd"]
    match = re.search(r"\bpython -m stages\.(\w+)\b", command)
    assert match, f"{name}: cmd {command!r} does not run a stage module"
    return Path("stages") / f"{match.group(1)}.py"


PIPELINE = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


@pytest.mark.parametrize("name", sorted(PIPELINE))
def test_stage_deps_cover_its_code_closure(name):
    stage = PIPELINE[name]
    body = stage.get("do", stage)
    module = stage_module(name, stage)
    assert module.stem == name, f"{name}: runs {module}, not stages/{name}.py"
    deps = code_deps(body)
    needed = closure(ROOT / module)
    missing = sorted(str(path) for path in needed if not covered(path, deps))
    assert not missing, f"dvc.yaml stage {name}: code it runs is missing from deps: {missing}"
    stale = sorted(str(dep) for dep in deps if not any(covered(path, [dep]) for path in needed))
    assert not stale, f"dvc.yaml stage {name}: deps that it never runs: {stale}"


@pytest.mark.parametrize("name", sorted(PIPELINE))
def test_no_stage_imports_another_stage(name):
    module = stage_module(name, PIPELINE[name])
    others = sorted(
        str(path)
        for path in closure(ROOT / module)
        if path.parts[0] == "stages" and path not in (module, Path("stages/__init__.py"))
    )
    assert not others, f"stages/{name}.py imports other stages: {others}"


def test_every_stage_module_is_a_dvc_stage():
    modules = {path.stem for path in (ROOT / "stages").glob("*.py")} - {"__init__"}
    assert modules == set(PIPELINE)


def test_the_library_has_no_import_cycles():
    graph = {}
    for path in (ROOT / "distilloop").rglob("*.py"):
        edges = set()
        for name in imported_names(path):
            found = module_file(name)
            if found is not None and found != path and found.name != "__init__.py":
                edges.add(found)
        graph[path] = edges

    def cycle_from(node, trail):
        for target in graph.get(node, ()):
            if target in trail:
                return [*trail[trail.index(target) :], target]
            found = cycle_from(target, [*trail, target])
            if found:
                return found
        return None

    for start in graph:
        found = cycle_from(start, [start])
        assert not found, "import cycle: " + " -> ".join(str(p.relative_to(ROOT)) for p in found)
