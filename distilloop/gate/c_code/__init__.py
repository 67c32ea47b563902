"""The c_code task: extract the code from a reply, measure it on five axes, combine them into a score.

Axes (0-10; weights and minimums from gate.c_code):
  syntax    gcc -fsyntax-only, strict C99 (-pedantic -Wall -Wextra); each warning costs points; code that
            only compiles as GNU C with <stdint.h>/<stdbool.h>/<stddef.h> forced in gets `lenient_score`
  function  the record's harness: 10 * passed/total (built with the answer, run in the sandbox); without
            a harness, 10 if the answer defines the requested function with a compatible signature
  protocol  the protocol facts the record names (protocol.py), share of facts right
  safety    MISRA-C:2012 (cppcheck addon + AST checks) and cppcheck's own defects, weighted per rule
  style     documentation of every function and parameter, function length, complexity
An axis that does not apply (no facts named, no function known) is left out and the weights are
renormalised over the rest. An answer that does not define the requested function (a lone #define, a
macro, a prototype) fails whatever else it scores, and its score is capped.

Samples are analysed in chunks by a pool of processes; each chunk runs every tool once over all its
samples (c_tools.py).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import resource
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from distilloop.config import GateParams
from distilloop.gate.c_code import c_ast, c_style, c_text, c_tools, harness, protocol, sandbox
from distilloop.gate.c_code.c_tools import Finding
from distilloop.gate.extract import extract_c
from distilloop.gate.verdict import verdict, weighted_score

FAKE_LIBC = Path(__file__).resolve().parent / "fake_libc"
MAX_CHUNK = 128
MAX_COMPILER_FINDINGS = 5
SIGNATURE_IN_PROMPT = re.compile(r"`([^`\n]*?\b([A-Za-z_]\w*)\s*\([^()`\n]*\))\s*;?`")
SIGNATURE_IN_TEXT = re.compile(
    r"\b((?:const\s+)?(?:void|bool|_Bool|char|int|unsigned|u?int(?:8|16|32|64)_t|size_t|float|double|[A-Za-z_]\w*_t)"
    r"\s*\**\s*([A-Za-z_]\w*)\s*\([^()\n]*\))"
)


@dataclass
class Sample:
    """What a worker needs about one record (small and picklable)."""

    index: int
    code: str
    function: str | None
    signature: str | None
    facts: dict
    harness: str | None
    findings: list[Finding] = field(default_factory=list)
    refused: bool = False
    truncated: bool = False
    unfinished: bool = False  # unbalanced braces/parentheses or an open comment/literal at the end


def requested_function(record: dict) -> tuple[str | None, str | None]:
    """(function name, signature) the prompt asks for: from checks, else a signature quoted in the prompt."""
    checks = record.get("checks") if isinstance(record.get("checks"), dict) else {}
    signature = checks.get("signature") if isinstance(checks.get("signature"), str) else None
    name = checks.get("function") if isinstance(checks.get("function"), str) else None
    if name is None and signature is None:
        prompt = str(record.get("prompt", ""))
        match = SIGNATURE_IN_PROMPT.search(prompt) or SIGNATURE_IN_TEXT.search(prompt)
        if match:
            signature, name = match.group(1), match.group(2)
    if name is None and signature:
        match = re.search(r"([A-Za-z_]\w*)\s*\(", signature)
        name = match.group(1) if match else None
    return name, signature


def prepare(index: int, record: dict) -> Sample:
    reply = record.get("output")
    code, cut = extract_c(reply if isinstance(reply, str) else "")
    checks = record.get("checks") if isinstance(record.get("checks"), dict) else {}
    name, signature = requested_function(record)
    harness_source = checks.get("harness") if isinstance(checks.get("harness"), str) else None
    sample = Sample(index, code, name, signature, protocol.requested(checks), harness_source)
    scan = c_text.scan(code)
    reasons = []
    if record.get("truncated"):
        reasons.append("generation stopped at max_new_tokens")
    if cut:
        reasons.append("the reply ends inside an unclosed ``` fence")
    sample.unfinished = bool(code.strip()) and c_text.truncated(scan)
    if sample.unfinished:
        reasons.append("the code ends with unclosed braces, parentheses, a comment or a literal")
    if reasons:
        sample.truncated = True
        sample.findings.append(Finding("truncated", None, "; ".join(reasons)))
    if not code.strip():
        sample.findings.append(Finding("empty", None, "no C code in the answer"))
    for problem in c_text.unsafe_directives(scan):
        sample.refused = True
        sample.findings.append(Finding("include-path", None, f"{problem}: the code was not compiled"))
    if harness_source is not None and c_text.unsafe_directives(c_text.scan(harness_source)):
        sample.harness = None
        sample.findings.append(
            Finding("harness-include", None, "the record's harness includes a path outside the project: not run")
        )
    return sample


# --- scoring many records -----------------------------------------------------------------------------


def score(records: list[dict], gate: GateParams, on_progress=None, timings: dict | None = None) -> list[dict]:
    """Score c_code records (each with an `output`); returns the results in order."""
    samples = [prepare(index, record) for index, record in enumerate(records)]
    workers = gate.workers or len(os.sched_getaffinity(0))
    count = max(workers, math.ceil(len(samples) / MAX_CHUNK)) if samples else 0
    chunks = [samples[i::count] for i in range(count) if samples[i::count]]
    results: dict[int, dict] = {}
    spent: Counter = Counter()

    def collect(chunk_results, chunk_timings):
        results.update(chunk_results)
        spent.update(chunk_timings)
        if on_progress:
            on_progress(len(chunk_results))

    config = gate.c_code.harness
    if config.enabled and any(sample.harness for sample in samples):
        sandbox.check(config.allow_weak_sandbox)
    if chunks:  # always in worker processes: they are single-threaded, so limits set between fork and exec are safe
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
            futures = [pool.submit(analyse_chunk, chunk, gate) for chunk in chunks]
            for future in as_completed(futures):
                collect(*future.result())
    if timings is not None:
        timings.update(spent)
    return [{**record, **results[index]} for index, record in enumerate(records)]


def analyse_chunk(samples: list[Sample], gate: GateParams) -> tuple[dict[int, dict], dict[str, float]]:
    """Run every tool over a chunk of samples in one temporary directory; results by sample index."""
    config = gate.c_code
    timeout = config.tool_timeout_seconds
    timings: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="distilloop-gate-") as tmp:
        workdir = Path(tmp)
        live = [sample for sample in samples if sample.code.strip() and not sample.refused]
        probes = {sample.index: _write_sample(workdir, sample) for sample in live}

        clock = _cpu_seconds()
        targets = {index: ("probe.c" if lines else "answer.c") for index, lines in probes.items()}
        strict = c_tools.gcc_syntax(workdir, targets, lenient=False, timeout=timeout)
        failing = {index: targets[index] for index, result in strict.items() if result.errors}
        lenient = c_tools.gcc_syntax(workdir, failing, lenient=True, timeout=timeout) if failing else {}
        timings["syntax"] += _cpu_seconds() - clock

        clock = _cpu_seconds()
        stubs = _stub_headers(workdir, live)
        preprocessed = c_tools.gcc_preprocess(workdir, [s.index for s in live], FAKE_LIBC, stubs, timeout)
        trees = {}
        for sample in live:
            text = preprocessed.get(sample.index)
            trees[sample.index] = (
                c_ast.analyse(text, f"s{sample.index}/answer.c", sample.code)
                if text is not None
                else Finding("ast-parse", None, "the code could not be preprocessed")
            )
        timings["ast"] += _cpu_seconds() - clock

        clock = _cpu_seconds()
        misra = c_tools.cppcheck_misra(workdir, [s.index for s in live], timeout) if live else {}
        timings["misra"] += _cpu_seconds() - clock

        clock = _cpu_seconds()
        harnesses = {}
        limits = sandbox.Limits(
            config.harness.cpu_seconds,
            config.harness.memory_mb,
            config.harness.wall_seconds,
            config.harness.output_bytes,
        )
        for sample in live:
            compiles = not strict[sample.index].errors or not lenient[sample.index].errors
            if sample.harness and config.harness.enabled and compiles:
                tree = trees[sample.index]
                defines_main = (
                    any(f.name == "main" for f in tree.functions)
                    if isinstance(tree, c_ast.AstInfo)
                    else c_text.defines_function(c_text.scan(sample.code), "main")
                )
                harnesses[sample.index] = harness.build_and_run(
                    workdir / f"s{sample.index}" / "run",
                    sample.code,
                    sample.harness,
                    defines_main,
                    limits,
                    timeout,
                    weak=sandbox.strong_available() is not None,
                )
        timings["harness"] += _cpu_seconds() - clock

        clock = _cpu_seconds()
        results = {}
        for sample in samples:
            results[sample.index] = compose(
                sample,
                strict.get(sample.index),
                lenient.get(sample.index),
                probes.get(sample.index, {}),
                trees.get(sample.index),
                misra.get(sample.index, []),
                harnesses.get(sample.index),
                gate,
            )
        timings["compose"] += _cpu_seconds() - clock
    return results, dict(timings)


def _cpu_seconds() -> float:
    """CPU time of this process and of the tools it ran (robust on a busy machine, unlike wall time)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _write_sample(workdir: Path, sample: Sample) -> dict[int, str]:
    """Write answer.c, and probe.c when there is anything to probe; returns probe line -> what it checks."""
    directory = c_tools.sample_dir(workdir, sample.index)
    directory.mkdir()
    (directory / "answer.c").write_text(sample.code, encoding="utf-8")
    if sample.unfinished:
        return {}  # probes after an unfinished answer would only report the answer's own end
    lines = {}
    # the sentinel catches an answer that ends inside a declaration: its error lands on line 2, not on a probe
    body = ['#include "answer.c"', "typedef int distilloop_answer_ends_here;"]
    for fact, line in protocol.probe_lines(sample.facts):
        body.append(line)
        lines[len(body)] = fact
    if sample.signature and sample.function and not re.search(r"[;{}#]", sample.signature):
        body.append(f"#undef {sample.function}")  # a function-like macro of that name is not the function
        body.append(sample.signature.strip().rstrip(";") + ";")
        lines[len(body)] = "signature"
    if lines:
        (directory / "probe.c").write_text("\n".join(body) + "\n", encoding="utf-8")
    return lines


def _stub_headers(workdir: Path, samples: list[Sample]) -> Path:
    """Empty stand-ins for headers the fake libc lacks, so one unknown include does not hide the code."""
    stubs = workdir / "stubs"
    stubs.mkdir()
    for sample in samples:
        for name in c_text.included_headers(c_text.scan(sample.code)):
            if not (FAKE_LIBC / name).exists():
                try:
                    (stubs / name).parent.mkdir(parents=True, exist_ok=True)
                    (stubs / name).touch()
                except OSError:
                    pass
    return stubs


# --- one sample's axes and score ------------------------------------------------------------------------


def compose(sample, strict, lenient, probes, tree, misra_findings, harness_result, gate: GateParams) -> dict:
    config = gate.c_code
    findings = list(sample.findings)
    axes: dict[str, float] = {}
    live = sample.code.strip() and not sample.refused
    scan = c_text.scan(sample.code)
    ast_ok = isinstance(tree, c_ast.AstInfo)

    # syntax
    compiled_strict = live and strict is not None and not strict.errors
    compiled = compiled_strict or (live and lenient is not None and not lenient.errors)
    if compiled_strict:
        warnings = strict.warnings
        axes["syntax"] = max(config.lenient_score, 10.0 - config.warning_penalty * len(warnings)) if warnings else 10.0
        findings += [Finding("compile-warning", w.line, w.message) for w in warnings[:MAX_COMPILER_FINDINGS]]
    elif compiled:
        axes["syntax"] = config.lenient_score
        findings += [
            Finding("compile", e.line, f"strict C99: {e.message}") for e in strict.errors[:MAX_COMPILER_FINDINGS]
        ]
    else:
        axes["syntax"] = 0.0
        errors = lenient.errors if lenient is not None else strict.errors if strict is not None else []
        findings += [Finding("compile", e.line, e.message) for e in errors[:MAX_COMPILER_FINDINGS]]
    probe_result = (strict if compiled_strict else lenient) if compiled else None
    probe_errors = (
        {probes[line]: message for line, message in probe_result.probe_errors.items() if line in probes}
        if probe_result is not None
        else None
    )

    # function
    defined = False
    if sample.function and live:
        defined = (
            any(f.name == sample.function for f in tree.functions)
            if ast_ok
            else c_text.defines_function(scan, sample.function)
        )
        if not defined:
            findings.append(
                Finding(
                    "function-missing",
                    None,
                    f"the answer does not define {sample.function}() "
                    "(a macro, a prototype or another name does not count)",
                )
            )
        elif probe_errors is not None and "signature" in probe_errors:
            defined = False
            findings.append(
                Finding(
                    "signature",
                    None,
                    f"{sample.function} does not match `{sample.signature}`: {probe_errors['signature'][:200]}",
                )
            )
    elif sample.function:
        findings.append(Finding("function-missing", None, f"the answer does not define {sample.function}()"))
    if harness_result is not None:
        findings += harness_result.findings
        axes["function"] = harness_result.axis if defined or not sample.function else 0.0
    elif sample.harness and config.harness.enabled:
        axes["function"] = 0.0  # there is no code to run it against
    elif sample.function:
        axes["function"] = 10.0 if defined else 0.0

    # protocol
    if sample.facts:
        defined_names = (tree.declared if ast_ok else set()) | c_text.macro_names(scan)
        verdicts = protocol.judge(
            sample.facts,
            probe_errors,
            tree.constants if ast_ok else {},
            c_text.integers(scan),
            defined_names,
            bool(sample.harness),
        )
        judged = [v for v in verdicts if v.ok is not None]
        if live:  # an empty answer already says everything with `empty`
            findings += [Finding(f"protocol-{v.fact}", None, v.message) for v in verdicts if v.ok is not True]
        if judged:
            axes["protocol"] = 10.0 * sum(v.ok for v in judged) / len(judged) if live else 0.0

    # safety and style
    if live:
        safety = _merge(misra_findings + (tree.findings if ast_ok else [tree] if tree is not None else []))
        findings += safety
        axes["safety"] = _axis_score(safety, config)
        style = c_style.findings(tree, scan, config.max_function_lines, config.max_complexity) if ast_ok else []
        findings += style
        axes["style"] = _axis_score(style, config) if ast_ok else 0.0
    else:
        axes["safety"] = axes["style"] = 0.0

    requirement_met = not sample.function or defined
    cap = None if requirement_met else config.missing_function_cap
    return {
        **verdict(
            weighted_score(axes, config.weights, cap),
            axes,
            gate.pass_score,
            config.minimums,
            blocked=not live or not requirement_met,
        ),
        "truncated": sample.truncated,
        "findings": [_as_dict(f) for f in findings],
    }


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per (id, line): cppcheck and the AST often see the same goto."""
    seen, merged = set(), []
    for finding in findings:
        key = (finding.id, finding.line)
        if key not in seen:
            seen.add(key)
            merged.append(finding)
    return sorted(merged, key=lambda f: (f.line or 0, f.id))


def _axis_score(findings: list[Finding], config) -> float:
    counts = Counter(finding.id for finding in findings)
    penalty = sum(
        config.rule_weights.get(rule, config.default_rule_weight) * min(count, config.max_repeats_per_rule)
        for rule, count in counts.items()
    )
    return max(0.0, 10.0 - penalty)


def _as_dict(finding: Finding) -> dict:
    item = {"id": finding.id}
    if finding.line is not None:
        item["line"] = finding.line
    item["message"] = finding.message
    return item
