"""Amazon States Language: a structural check, and a small interpreter of the subset the nightly machine
uses (Task with injected results, Pass, Choice, Succeed, Fail; Parameters with JSONPath including filters,
and the intrinsics States.Format, ArrayGetItem, StringToJson, JsonToString), so the machine's branches can
be run without AWS. Step Functions itself is the authority; this only catches what it would reject or route
differently in these states."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

TYPES = {"Task", "Pass", "Choice", "Succeed", "Fail", "Wait", "Parallel", "Map"}


def targets(state: dict) -> list[str]:
    found = [state["Next"]] if "Next" in state else []
    found += [rule["Next"] for rule in state.get("Choices", []) if "Next" in rule]
    found += [state["Default"]] if "Default" in state else []
    found += [catch["Next"] for catch in state.get("Catch", [])]
    return found


def validate(definition: dict, terminals: set[str] | None = None) -> list[str]:
    """Problems: StartAt or a Next/Default/Catch target undefined, a state without a way on, a state not
    reachable from StartAt, terminal states other than `terminals`."""
    states = definition.get("States") or {}
    problems = []
    if definition.get("StartAt") not in states:
        problems.append(f"StartAt {definition.get('StartAt')!r} is not a state")
    for name, state in states.items():
        kind = state.get("Type")
        if kind not in TYPES:
            problems.append(f"{name}: Type {kind!r}")
        for target in targets(state):
            if target not in states:
                problems.append(f"{name}: goes to undefined state {target!r}")
        if kind == "Choice":
            if not state.get("Choices"):
                problems.append(f"{name}: a Choice without Choices")
            if any("Next" not in rule for rule in state.get("Choices", [])):
                problems.append(f"{name}: a choice rule without Next")
        elif kind not in ("Succeed", "Fail") and ("Next" in state) == bool(state.get("End")):
            problems.append(f"{name}: needs exactly one of Next and End")
    seen, todo = set(), [definition.get("StartAt")]
    while todo:
        name = todo.pop()
        if name in states and name not in seen:
            seen.add(name)
            todo += targets(states[name])
    problems += [f"{name}: not reachable from StartAt" for name in states if name not in seen]
    ends = {n for n, s in states.items() if s.get("Type") in ("Succeed", "Fail") or s.get("End")}
    if terminals is not None and ends != terminals:
        problems.append(f"terminal states {sorted(ends)}, expected {sorted(terminals)}")
    return problems


# --- JSONPath and intrinsics ----------------------------------------------------------------------

_MISSING = object()
_STEP = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_]+) == '([^']*)'\)\]")


class StatesError(Exception):
    def __init__(self, error: str, cause: str = ""):
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


def get_path(path: str, data, context: dict | None = None):
    """The value at `path`; _MISSING where it leads nowhere. A filter yields a list (as in Step Functions)."""
    if path.startswith("$$"):
        data, path = context or {}, path[1:]
    if not path.startswith("$"):
        raise StatesError("States.Runtime", f"not a path: {path}")
    rest, values, filtered = path[1:], [data], False
    while rest:
        match = _STEP.match(rest)
        if not match:
            raise StatesError("States.Runtime", f"unsupported path {path}")
        key, index, field, equals = match.groups()
        out = []
        for value in values:
            if key is not None and isinstance(value, dict) and key in value:
                out.append(value[key])
            elif index is not None and isinstance(value, list) and int(index) < len(value):
                out.append(value[int(index)])
            elif field is not None and isinstance(value, list):
                out += [item for item in value if isinstance(item, dict) and item.get(field) == equals]
                filtered = True
        values, rest = out, rest[match.end() :]
    if filtered:
        return values
    return values[0] if values else _MISSING


def _arguments(text: str) -> list[str]:
    parts, depth, quoted, current = [], 0, False, ""
    for char in text:
        if char == "'" and not current.endswith("\\"):
            quoted = not quoted
        if char == "," and not quoted and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += (char == "(") - (char == ")") if not quoted else 0
        current += char
    return [*parts, current.strip()] if current.strip() else parts


def evaluate(expression: str, data, context: dict):
    match = re.fullmatch(r"(States\.[A-Za-z]+)\((.*)\)", expression)
    if not match:
        value = get_path(expression, data, context)
        if value is _MISSING:
            raise StatesError("States.Runtime", f"{expression} matches nothing in the input")
        return value
    name, args = match.group(1), []
    for arg in _arguments(match.group(2)):
        if arg.startswith("'"):
            args.append(arg[1:-1].replace("\\'", "'"))
        elif arg.startswith("$") or arg.startswith("States."):
            args.append(evaluate(arg, data, context))
        else:
            args.append(json.loads(arg))
    if name == "States.Format":
        pieces = args[0].split("{}")
        if len(pieces) - 1 != len(args) - 1:
            raise StatesError("States.Runtime", f"{expression}: placeholders and arguments differ")
        out = pieces[0]
        for piece, value in zip(pieces[1:], args[1:]):
            out += (value if isinstance(value, str) else json.dumps(value)) + piece
        return out
    if name == "States.ArrayGetItem":
        if not isinstance(args[0], list) or not 0 <= args[1] < len(args[0]):
            raise StatesError("States.Runtime", f"{expression}: no item {args[1]}")
        return args[0][args[1]]
    if name == "States.StringToJson":
        return json.loads(args[0])
    if name == "States.JsonToString":
        return json.dumps(args[0], separators=(",", ":"))
    raise StatesError("States.Runtime", f"intrinsic {name} is not in this interpreter's subset")


def parameters(template, data, context: dict):
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = evaluate(value, data, context)
            else:
                out[key] = parameters(value, data, context)
        return out
    if isinstance(template, list):
        return [parameters(item, data, context) for item in template]
    return template


def put_result(data, result_path: str | None, result):
    if result_path is None:
        return data
    if result_path == "$":
        return result
    out = json.loads(json.dumps(data))
    keys = result_path[2:].split(".")
    node = out
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = result
    return out


# --- Choice rules ---------------------------------------------------------------------------------

_COMPARE = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThanEquals": lambda a, b: a >= b,
}
_KIND = {"Numeric": (int, float), "String": (str,), "Boolean": (bool,)}


def rule_matches(rule: dict, data, context: dict) -> bool:
    if "And" in rule:
        return all(rule_matches(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(rule_matches(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not rule_matches(rule["Not"], data, context)
    value = get_path(rule["Variable"], data, context)
    if "IsPresent" in rule:
        return (value is not _MISSING) == rule["IsPresent"]
    for operator, expected in rule.items():
        found = re.fullmatch(
            r"(Numeric|String|Boolean)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals)(Path)?", operator
        )
        if found:
            kind, comparison, is_path = found.groups()
            if is_path:
                expected = get_path(expected, data, context)
            if value is _MISSING or expected is _MISSING:
                raise StatesError("States.Runtime", f"{rule['Variable']}: no value to compare")
            types = _KIND[kind]
            if not isinstance(value, types) or not isinstance(expected, types):
                return False  # Step Functions: a value of another type does not match
            return _COMPARE[comparison](value, expected)
    raise StatesError("States.Runtime", f"unsupported choice rule {sorted(rule)}")


# --- running --------------------------------------------------------------------------------------


def run(
    definition: dict, data, tasks: dict[str, Callable[[dict], object]], context: dict | None = None
) -> tuple[str, object, list[tuple[str, object]]]:
    """Run the machine on `data`, each Task's result from tasks[resource](parameters) (which may raise
    StatesError). Returns (the terminal state, the output or the Fail state's error, [(state, parameters)])."""
    context = context or {"Execution": {"Name": "test-execution"}}
    states, name, trace = definition["States"], definition["StartAt"], []
    for _ in range(1000):
        state = states[name]
        kind = state["Type"]
        if kind == "Succeed":
            return name, data, trace
        if kind == "Fail":
            return name, {"Error": state.get("Error"), "Cause": state.get("Cause")}, trace
        if kind == "Choice":
            trace.append((name, None))
            name = next(
                (rule["Next"] for rule in state["Choices"] if rule_matches(rule, data, context)), state.get("Default")
            )
            if name is None:
                raise StatesError("States.NoChoiceMatched", trace[-1][0])
            continue
        effective = parameters(state["Parameters"], data, context) if "Parameters" in state else data
        trace.append((name, effective))
        if kind == "Pass":
            result = state.get("Result", effective)
        elif kind == "Task":
            try:
                result = tasks[state["Resource"]](effective)
            except StatesError as exc:
                catch = next(
                    (c for c in state.get("Catch", []) if {"States.ALL", exc.error} & set(c["ErrorEquals"])), None
                )
                if catch is None:
                    raise
                data = put_result(data, catch.get("ResultPath", "$"), {"Error": exc.error, "Cause": exc.cause})
                name = catch["Next"]
                continue
        else:
            raise StatesError("States.Runtime", f"{name}: {kind} is not in this interpreter's subset")
        data = put_result(data, state.get("ResultPath", "$"), result)
        if state.get("End"):
            return name, data, trace
        name = state["Next"]
    raise StatesError("States.Runtime", "more than 1000 transitions")
