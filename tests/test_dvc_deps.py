"""dvc.yaml never reuses a stale result: every stage lists the code it runs as deps, and the params.yaml keys
that code reads as params.

Each stage's import closure is computed by walking the imports (and the `package.module:Name` strings of
registries such as the teachers') from its module in stages/, within distilloop/ and stages/. A module in
the closure that no dep covers fails, as does a code dep that covers no module of the closure (a stale dep
reruns a stage for nothing). A directory dep covers every file under it, and so must hold only code the
stage runs: an edit of the GRPO code must not rerun every training epoch.
"""

from __future__ import annotations

import ast
import copy
import re
import typing
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from pydantic import BaseModel

from distilloop import config as schema

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
    idle = sorted(
        str(path.relative_to(ROOT))
        for dep in deps
        if (ROOT / dep).is_dir()
        for path in (ROOT / dep).rglob("*.py")
        if path.relative_to(ROOT) not in needed
    )
    assert not idle, f"dvc.yaml stage {name}: directory deps hold code it never runs (list its files): {idle}"


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


# --- params: each stage lists the params.yaml keys its code reads --------------------------------------------
#
# The reads are found in the functions a stage can reach: starting from its module's top level and `main`, a
# function or class of the closure is reachable once a reachable body names it (a call, a reference, a registry
# string); a class brings all its methods. In those bodies every attribute chain on a params object is a read:
# `params.train.lora.r` -> train.lora.r. A params object is a name bound to Params or a section: by annotation
# (`gate: GateParams`), by assignment (`config = params.quantise`, `self.params = params`), or by convention
# (an unannotated `params` is Params, an unannotated `gate` is params.gate). A chain that stops at a section
# reads nothing itself (the function it is handed to reads what it needs), except `.model_dump()` (every key)
# and the section's own methods (`student.token_budget(...)` reads what token_budget reads).


# keys that never change a result but are not under runtime: (yet)
NOT_A_RESULT = {
    "gate.workers": "scoring processes; it belongs in runtime: with the gate's next change",
    "teacher.api_key_env": "which variable holds the key: who pays for an answer, not what it is",
}
# modules that build a section object of their own and hand it on: what they call reads that object, not params
BUILDS_ITS_OWN = {
    Path("distilloop/teachers/backends/hf.py"): "the hf teacher (or judge) generates with a StudentParams it builds",
}


def section_classes() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """(class name -> {field: dotted params key} for Params and every section under it, section key -> class)."""
    tables: dict[str, dict[str, str]] = {}
    sections: dict[str, str] = {}
    where: dict[str, set[str]] = {}

    def visit(model: type[BaseModel], prefix: str) -> None:
        sections[prefix.rstrip(".")] = model.__name__
        where.setdefault(model.__name__, set()).add(prefix)
        table = tables.setdefault(model.__name__, {})
        for name, field in model.model_fields.items():
            key = f"{prefix}{name}"
            table[name] = key
            inner = field.annotation
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                visit(inner, f"{key}.")
            elif typing.get_origin(inner) is dict:  # a mapping of sections (gate.tasks): any name
                value = typing.get_args(inner)[-1]
                if isinstance(value, type) and issubclass(value, BaseModel):
                    visit(value, f"{key}.*.")
            else:  # X | None, X | Y
                for option in typing.get_args(inner):
                    if isinstance(option, type) and issubclass(option, BaseModel):
                        visit(option, f"{key}.")

    visit(schema.Params, "")
    combined = {}  # a view over several sections (TeacherSettings: teacher and runtime.teacher)
    for name, cls in vars(schema).items():
        if isinstance(cls, type) and issubclass(cls, BaseModel) and name not in tables:
            for base in cls.__mro__[1:]:
                combined.setdefault(name, {}).update(
                    {k: v for k, v in tables.get(base.__name__, {}).items() if k not in combined.get(name, {})}
                )
    tables.update({name: table for name, table in combined.items() if table})
    ambiguous = {name for name, prefixes in where.items() if len(prefixes) > 1}  # Price: the teacher's, a judge's
    for name in ambiguous:  # an object of it could be any of them: a read through it names no key
        del tables[name]
    return tables, {key: cls for key, cls in sections.items() if cls not in ambiguous}


SECTIONS, SECTION_OF_KEY = section_classes()
CONVENTIONS = {"params": "Params", **{name: SECTION_OF_KEY.get(name) for name in ("gate",)}}


def class_in(annotation: ast.expr | None) -> str | None:
    """The section class an annotation names (`X`, `"X"`, `X | None`), else None."""
    if annotation is None:
        return None
    for node in ast.walk(annotation):
        name = node.id if isinstance(node, ast.Name) else node.value if isinstance(node, ast.Constant) else None
        if isinstance(name, str) and name in SECTIONS:
            return name
    return None


def chain(node: ast.expr) -> tuple[str, list[str]] | None:
    """`a.b.c` -> ("a", ["b", "c"]); `self.params.x` -> ("self.params", ["x"])."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    attrs.reverse()
    if node.id == "self" and attrs:
        return f"self.{attrs[0]}", attrs[1:]
    return node.id, attrs


def method_reads() -> dict[tuple[str, str], set[str]]:
    """(class, method or property) of config.py -> the keys it reads through self."""
    reads = {}
    for node in ast.walk(ast.parse((ROOT / "distilloop/config.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and node.name in SECTIONS:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name not in SECTIONS[node.name]:
                    found = set()
                    for sub in ast.walk(item):
                        parts = chain(sub) if isinstance(sub, ast.Attribute) else None
                        if parts and parts[0].startswith("self."):
                            field = parts[0].removeprefix("self.")
                            if field in SECTIONS[node.name]:
                                found.add(SECTIONS[node.name][field])
                    reads[(node.name, item.name)] = found
    return reads


METHOD_READS = method_reads()


class Reads(ast.NodeVisitor):
    """The params keys one function body reads, with the names bound to params objects in it."""

    def __init__(self, bound: dict[str, str]):
        self.bound = dict(bound)
        self.keys: set[str] = set()

    def resolve(self, node: ast.expr) -> str | None:
        """The section class of an expression that is a params object, recording what its chain reads."""
        found = chain(node)
        if found is None:
            return None
        root, attrs = found
        cls = self.bound.get(root)
        if cls is None:
            return None
        for attr in attrs:
            table = SECTIONS[cls]
            if attr in table:
                key = table[attr]
                if key in SECTION_OF_KEY:
                    cls = SECTION_OF_KEY[key]
                else:
                    self.keys.add(key)
                    return None
            elif attr in ("model_dump", "model_dump_json"):
                if cls != "Params":  # a section's every key; the whole Params is handed on (to workers) instead
                    self.keys.update(table.values())
                return None
            else:
                self.keys.update(METHOD_READS.get((cls, attr), set()))
                return cls if attr == "model_copy" else None
        return cls

    def bind(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for one, other in zip(target.elts, value.elts):
                self.bind(one, other)
            return
        cls = self.resolve(value.func if isinstance(value, ast.Call) and self._is_copy(value) else value)
        name = chain(target)
        if cls is not None and name is not None and not name[1]:
            self.bound[name[0]] = cls

    def _is_copy(self, call: ast.Call) -> bool:
        return isinstance(call.func, ast.Attribute) and call.func.attr == "model_copy"

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.bind(target, node.value)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):  # getattr(params.x, "y")
                self.resolve(ast.Attribute(value=node.args[0], attr=name.value, ctx=ast.Load()))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self.resolve(node) is None:
            self.generic_visit(node)

    def visit_FunctionDef(self, node) -> None:  # nested functions see the enclosing bindings
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            cls = class_in(arg.annotation) or (CONVENTIONS.get(arg.arg) if arg.annotation is None else None)
            if cls is not None:
                self.bound[arg.arg] = cls
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = ast.NodeVisitor.generic_visit


def self_bindings(node: ast.ClassDef) -> dict[str, str]:
    """`self.params = params` in a method whose `params` is a params object: self.params is one in every method."""
    attributes = {}
    for item in ast.walk(node):
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bound = {a.arg: argument_class(a) for a in item.args.args}
            for sub in ast.walk(item):
                if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Name) and bound.get(sub.value.id):
                    for target in sub.targets:
                        name = chain(target)
                        if name and name[0].startswith("self.") and not name[1]:
                            attributes[name[0]] = bound[sub.value.id]
    return attributes


def argument_class(arg: ast.arg) -> str | None:
    return class_in(arg.annotation) or (CONVENTIONS.get(arg.arg) if arg.annotation is None else None)


class Module:
    """One file of the closure: its top-level functions and classes, its methods, and what its names import."""

    def __init__(self, path: Path):
        self.path = path
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        self.top = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        self.functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        self.imports: dict[str, tuple[str, str | None]] = {}  # local name -> (module, name in it or None)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:  # `import a.b as c`: c is a.b; `import a.b`: a is a
                    module = alias.name if alias.asname else alias.name.split(".")[0]
                    self.imports[alias.asname or module] = (module, None)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:  # `from a import b`: the module a.b, or the name b of a
                    submodule = f"{node.module}.{alias.name}"
                    target = (submodule, None) if module_file(submodule) else (node.module, alias.name)
                    self.imports[alias.asname or alias.name] = target


class Reachable:
    """The bodies a stage can run, found from its module's top level and `main` (see above)."""

    def __init__(self, module: Path):
        self.modules = {path: Module(path) for path in closure(ROOT / module)}
        self.methods: dict[str, list] = {}
        self.bases: dict[int, ast.Module] = {}
        for mod in self.modules.values():
            for cls in mod.classes.values():
                for item in cls.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.methods.setdefault(item.name, []).append((mod, item, self_bindings(cls)))
        start = self.modules[module]
        self.todo = [(start, ast.Module(body=start.top, type_ignores=[]), {}, False)]
        self.todo += [(start, start.functions["main"], {}, False)] if "main" in start.functions else []

    def named(self, module_name: str, name: str, depth: int = 0) -> list:
        """The function or class `name` of module `module_name` (following a package's re-exports)."""
        path = module_file(module_name)
        mod = self.modules.get(path.relative_to(ROOT)) if path else None
        if mod is None or depth > 3:
            return []
        if name in mod.functions:
            return [(mod, mod.functions[name], {})]
        if name in mod.classes:
            return self.class_bodies(mod, mod.classes[name])
        if name in mod.imports and mod.imports[name][1] is not None:
            return self.named(*mod.imports[name], depth + 1)
        return []

    def class_bodies(self, mod: Module, cls: ast.ClassDef) -> list:
        bound = self_bindings(cls)
        if id(cls) not in self.bases:  # a subclass runs its base's methods: its bases are a reference
            self.bases[id(cls)] = ast.Module(body=[ast.Expr(base) for base in cls.bases], type_ignores=[])
        bases = self.bases[id(cls)]
        methods = [item for item in cls.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
        return [(mod, bases, {}), *((mod, item, bound) for item in methods)]

    def referenced(self, mod: Module, node: ast.AST) -> list:
        found = []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                if sub.id in mod.functions:
                    found.append((mod, mod.functions[sub.id], {}))
                elif sub.id in mod.classes:
                    found += self.class_bodies(mod, mod.classes[sub.id])
                elif sub.id in mod.imports and mod.imports[sub.id][1] is not None:
                    found += self.named(*mod.imports[sub.id])
            elif isinstance(sub, ast.Attribute):
                owner = sub.value.id if isinstance(sub.value, ast.Name) else None
                if owner in mod.imports and mod.imports[owner][1] is None:  # module.function
                    found += self.named(mod.imports[owner][0], sub.attr)
                else:  # a method of some object, or a function of a module this one imports: all of that name
                    found += [] if sub.attr.startswith("__") else self.methods.get(sub.attr, [])  # super().__init__
                    for target, name in mod.imports.values():
                        found += self.named(target, sub.attr) if name is None else []
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and REGISTRY_STRING.match(sub.value):
                module_name, _, name = sub.value.partition(":")
                found += self.named(module_name, name) if name else []
        return found

    def keys(self) -> set[str]:
        seen, keys = set(), set()
        while self.todo:
            mod, node, bound, foreign = self.todo.pop()
            if (id(node), foreign) in seen:
                continue
            seen.add((id(node), foreign))
            reads = Reads(bound)
            reads.visit(node)
            keys |= set() if foreign else reads.keys
            onward = foreign or mod.path in BUILDS_ITS_OWN
            self.todo += [(*item, onward) for item in self.referenced(mod, node)]
        return keys


def params_read(module: Path) -> set[str]:
    """Every params key the stage `module` can read (runtime: and NOT_A_RESULT aside)."""
    keys = Reachable(module).keys()
    return {key for key in keys if not key.startswith("runtime.") and key not in NOT_A_RESULT}


def listed_params(stage: dict) -> list[str]:
    body = stage.get("do", stage)
    return [next(iter(entry)) if isinstance(entry, dict) else entry for entry in body.get("params", [])]


def covers(entry: str, key: str) -> bool:
    pattern = re.escape(entry).replace(r"\*", r"[^.]+")
    return re.fullmatch(pattern, key) is not None or re.match(pattern + r"\.", key) is not None


def params_problems(name: str, stage: dict) -> list[str]:
    reads = params_read(stage_module(name, stage))
    listed = listed_params(stage)
    problems = [f"reads {key} but does not list it" for key in sorted(reads) if not any(covers(e, key) for e in listed)]
    problems += [f"lists {entry}, which it never reads" for entry in listed if not any(covers(entry, k) for k in reads)]
    problems += [
        f"lists {entry}: runtime settings never change a result"
        for entry in listed
        if entry == "runtime" or entry.startswith("runtime.")
    ]
    return problems


@pytest.mark.parametrize("name", sorted(PIPELINE))
def test_stage_params_are_the_keys_its_code_reads(name):
    problems = params_problems(name, PIPELINE[name])
    assert not problems, f"dvc.yaml stage {name}: " + "; ".join(problems)


def test_a_stage_that_reads_a_key_it_does_not_list_fails():
    """correct@N reads export.near_duplicate_threshold (correct.augment's leakage check): without it in the
    stage's params, a change to it would leave a stale augmented.jsonl, and the check names it."""
    stage = copy.deepcopy(PIPELINE["correct"])
    stage["do"]["params"].remove("export.near_duplicate_threshold")
    assert params_problems("correct", stage) == ["reads export.near_duplicate_threshold but does not list it"]

    stage = copy.deepcopy(PIPELINE["train"])
    stage["do"]["params"] = [entry for entry in stage["do"]["params"] if entry != "train"] + ["train.method"]
    problems = params_problems("train", stage)
    assert "reads train.learning_rate but does not list it" in problems
    assert "reads quality_threshold but does not list it" not in problems  # train never reads it


def test_a_stage_that_lists_a_key_it_never_reads_or_a_runtime_key_fails():
    stage = copy.deepcopy(PIPELINE["merge"])
    stage["do"]["params"] += ["quantise.types", "runtime.threads"]
    assert params_problems("merge", stage) == [
        "lists quantise.types, which it never reads",
        "lists runtime.threads, which it never reads",
        "lists runtime.threads: runtime settings never change a result",
    ]
