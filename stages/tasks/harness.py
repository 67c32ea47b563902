"""The function axis: a record's harness compiled with the answer in one translation unit and run in
the sandbox.

Harness convention (common.md): appended after the answer, includes its own headers, prints `ok <n>`
or `FAIL <n>: <detail>` per test vector and `harness: <passed>/<total>` last, exits 0 iff all pass.
An answer that defines its own main() still gets tested: its main is renamed by a #define around the
answer only (and costs a style finding elsewhere).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from stages.tasks import sandbox
from stages.tasks.c_tools import FORCED_HEADERS, Finding

# Linked into every harness binary (trusted code, ours): a failed allocation at the sandbox's memory
# limit says so and exits, instead of turning into an anonymous crash on a NULL pointer.
ALLOCATION_WRAPPERS = r"""
#include <stddef.h>
#include <unistd.h>
void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *old, size_t size);
static void distilloop_out_of_memory(void)
{
    static const char message[] = "\n%s\n";
    (void)write(1, message, sizeof message - 1U);
    _exit(125);
}
void *__wrap_malloc(size_t size) { void *p = __real_malloc(size); if (p == NULL && size > 0U) { distilloop_out_of_memory(); } return p; }
void *__wrap_calloc(size_t count, size_t size) { void *p = __real_calloc(count, size); if (p == NULL && count > 0U && size > 0U) { distilloop_out_of_memory(); } return p; }
void *__wrap_realloc(void *old, size_t size) { void *p = __real_realloc(old, size); if (p == NULL && size > 0U) { distilloop_out_of_memory(); } return p; }
""" % sandbox.MEMORY_MARKER
WRAP_FLAGS = ["-Wl,--wrap=malloc", "-Wl,--wrap=calloc", "-Wl,--wrap=realloc"]
SUMMARY = re.compile(r"^harness:\s*(\d+)\s*/\s*(\d+)\s*$")
FLAGS = ["-std=gnu99", "-O0", "-w", "-fdiagnostics-plain-output",
         *(flag for header in FORCED_HEADERS for flag in ("-include", header))]
MAX_REPORTED_FAILURES = 3


@dataclass
class HarnessResult:
    axis: float            # 10 * passed / total; 0 when it did not build or did not finish
    findings: list[Finding]


def translation_unit(answer: str, harness: str, answer_defines_main: bool) -> str:
    head = "#define main distilloop_answer_main\n" if answer_defines_main else ""
    tail = "#undef main\n" if answer_defines_main else ""
    return f'{head}#line 1 "answer.c"\n{answer}\n{tail}#line 1 "harness.c"\n{harness}\n'


def build_and_run(directory: Path, answer: str, harness: str, answer_defines_main: bool,
                  limits: sandbox.Limits, timeout: float) -> HarnessResult:
    """Compile answer + harness in `directory` (gcc never runs what it builds) and run the binary."""
    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "harness_tu.c"
    binary = directory / "harness.bin"
    source.write_text(translation_unit(answer, harness, answer_defines_main), encoding="utf-8")
    (directory / "alloc_wrappers.c").write_text(ALLOCATION_WRAPPERS, encoding="utf-8")
    command = ["gcc", *FLAGS, "-o", binary.name, source.name, "alloc_wrappers.c", *WRAP_FLAGS, "-lm"]
    try:
        built = subprocess.run(command, cwd=directory,
                               capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return HarnessResult(0.0, [Finding("harness-compile", None, "compiling the harness timed out")])
    if built.returncode != 0 or not binary.exists():
        errors = [line for line in built.stderr.decode("utf-8", "replace").splitlines() if "error" in line]
        own = [line for line in errors if line.startswith(("answer.c:", "harness.c:"))]  # before system headers
        detail = "; ".join((own or errors)[:3]) or "gcc failed"
        return HarnessResult(0.0, [Finding("harness-compile", None, f"answer + harness do not build: {detail[:400]}")])
    os.chmod(directory, 0o755)  # the sandbox may run the binary as `nobody`
    outcome = sandbox.run(binary, limits)
    return judge(outcome)


def judge(outcome: sandbox.Outcome) -> HarnessResult:
    if outcome.problem is not None:
        return HarnessResult(0.0, [Finding(f"harness-{outcome.problem}", None, f"harness run {outcome.detail}")])
    lines = outcome.output.strip().splitlines()
    summary = SUMMARY.match(lines[-1].strip()) if lines else None
    if summary is None or int(summary.group(2)) == 0:
        return HarnessResult(0.0, [Finding("harness", None, f"no `harness: passed/total` line (exit code {outcome.returncode})")])
    passed, total = int(summary.group(1)), int(summary.group(2))
    if (outcome.returncode == 0) != (passed == total) or passed > total:
        return HarnessResult(0.0, [Finding("harness", None, f"exit code {outcome.returncode} disagrees with `harness: {passed}/{total}`")])
    if passed == total:
        return HarnessResult(10.0, [])
    failures = [line.strip()[:200] for line in lines if line.startswith("FAIL")][:MAX_REPORTED_FAILURES]
    detail = "; ".join(failures) or "no FAIL lines printed"
    return HarnessResult(10.0 * passed / total, [Finding("harness", None, f"{passed}/{total} test vectors pass: {detail}")])
