"""The function axis: a record's harness compiled with the answer in one translation unit and run in
the sandbox (sandbox.py).

Harness convention (docs/gate.md): appended after the answer, includes its own headers, prints `ok <n>`
or `FAIL <n>: <detail>` per test vector and `harness: <passed>/<total>` last, returns 0 iff all pass.
An answer that defines its own main() still gets tested: its main is renamed by a #define around the
answer only (and costs a style finding elsewhere).

The verdict cannot be printed by the answer. The binary is static and its entry point is ours
(RUNTIME below): before the C library starts, so before any constructor, ifunc resolver or main, it
reads a per-run random nonce from fd 3 (a pipe the compiler never had), closes it, lowers its rlimits
and installs the `program` seccomp filter (no new process or program, no network, no io_uring ...).
Our main() calls the harness's main (renamed), blocks signals, flushes stdout and writes one last line,
`distilloop-verdict <nonce> <return code> <passed> <total>` (counters read from the harness's own
`hx_passed`/`hx_total` where it has them), then `_exit`s past any atexit handler or destructor. No
verdict line with the right nonce at the very end = no score: an answer that prints `harness: 7/7` and
`_exit(0)`s scores 0. Only FAIL lines that quote the harness's own checks reach findings, escaped and
capped; other program output never does. (Code in the same process that deliberately rewrites the
harness's memory is beyond what any in-process harness can rule out.)
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from distilloop.gate.c_code import sandbox, seccomp
from distilloop.gate.c_code.c_tools import FORCED_HEADERS, Finding

# Linked into every harness binary (trusted code, ours): a failed allocation at the sandbox's memory
# limit says so and exits, instead of turning into an anonymous crash on a NULL pointer.
ALLOCATION_WRAPPERS = (
    r"""
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
"""
    % sandbox.MEMORY_MARKER
)

# The trusted runtime (x86_64): entry point, lock-down with raw system calls (no libc, no TLS yet),
# and main() around the harness's main. Filled in per run with the filter and the limits.
RUNTIME = (
    r"""
#include <stddef.h>
#include <stdio.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#pragma GCC optimize ("no-stack-protector")

#define DL_NONCE 32
static char distilloop_nonce[DL_NONCE + 1];
static const unsigned char distilloop_filter[] = { %(filter)s };
static const struct { unsigned long len; const void *code; } distilloop_fprog = { %(filter_len)d, distilloop_filter };
static const struct { long which; struct rlimit value; } distilloop_limits[] = {
    { RLIMIT_CPU, { %(cpu)d, %(cpu)d } }, { RLIMIT_AS, { %(memory)dUL, %(memory)dUL } }, { RLIMIT_FSIZE, { 0, 0 } },
    { RLIMIT_CORE, { 0, 0 } }, { RLIMIT_NPROC, { 1, 1 } }, { RLIMIT_NOFILE, { 64, 64 } },
};

static long distilloop_sys(long n, long a, long b, long c)
{
    long r;
    register long r10 __asm__("r10") = 0;
    register long r8 __asm__("r8") = 0;
    __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
    return r;
}

__attribute__((used)) void distilloop_lockdown(void)
{
    long got = 0;
    unsigned i;
    while (got < DL_NONCE) {
        long n = distilloop_sys(0 /* read */, 3, (long)(distilloop_nonce + got), DL_NONCE - got);
        if (n <= 0) { distilloop_sys(231 /* exit_group */, 126, 0, 0); }
        got += n;
    }
    distilloop_sys(3 /* close */, 3, 0, 0);
    for (i = 0U; i < sizeof distilloop_limits / sizeof distilloop_limits[0]; i++) {
        if (distilloop_sys(160 /* setrlimit */, distilloop_limits[i].which, (long)&distilloop_limits[i].value, 0) != 0) {
            distilloop_sys(231, 126, 0, 0);
        }
    }
    if (distilloop_sys(157 /* prctl */, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0) != 0
        || distilloop_sys(317 /* seccomp */, 1 /* SET_MODE_FILTER */, 0, (long)&distilloop_fprog) != 0) {
        distilloop_sys(231, 126, 0, 0);
    }
}

__asm__(".text\n.globl distilloop_entry\n.type distilloop_entry, @function\ndistilloop_entry:\n"
        "  mov %%rsp, %%r12\n  and $-16, %%rsp\n  call distilloop_lockdown\n  mov %%r12, %%rsp\n"
        "  xor %%edx, %%edx\n  jmp _start\n");

int distilloop_harness_main(void);
%(counters_decl)s
int main(void)
{
    int rc = distilloop_harness_main();
    sigset_t all;
    char line[128];
    int n;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    fflush(stdout);
    n = snprintf(line, sizeof line, "\n%(marker)s %%s %%d %%ld %%ld\n", distilloop_nonce, rc, %(counters)s);
    (void)write(1, line, (size_t)n);
    _exit(0);
}
"""
    + ALLOCATION_WRAPPERS
)
VERDICT_MARKER = "distilloop-verdict"
COUNTERS = """long distilloop_hx_passed(void);
long distilloop_hx_total(void);"""
COUNTER_ACCESSORS = """
long distilloop_hx_passed(void) { return (long)hx_passed; }
long distilloop_hx_total(void) { return (long)hx_total; }
"""
WRAP_FLAGS = ["-Wl,--wrap=malloc", "-Wl,--wrap=calloc", "-Wl,--wrap=realloc"]
SUMMARY = re.compile(r"^harness:\s*(\d+)\s*/\s*(\d+)\s*$")
VERDICT = re.compile(rf"\n{VERDICT_MARKER} ([0-9a-f]{{32}}) (-?\d+) (-?\d+) (-?\d+)\n?$")
FAIL_LINE = re.compile(r"^FAIL (\d+): (?:expected (.+)|(.+?)(?:: got |: byte | = ).*)$")
FLAGS = [
    "-std=gnu99",
    "-O0",
    "-w",
    "-fdiagnostics-plain-output",
    "-static",
    "-Wl,-e,distilloop_entry",
    *(flag for header in FORCED_HEADERS for flag in ("-include", header)),
]
MAX_REPORTED_FAILURES = 3
MAX_FINDING_CHARS = 200


@dataclass
class HarnessResult:
    axis: float  # 10 * passed / total; 0 when it did not build or did not finish
    findings: list[Finding]


def uses_counters(harness: str) -> bool:
    return bool(re.search(r"\bhx_passed\b", harness) and re.search(r"\bhx_total\b", harness))


def translation_unit(answer: str, harness: str, answer_defines_main: bool) -> str:
    head = "#define main distilloop_answer_main\n" if answer_defines_main else ""
    tail = "#undef main\n" if answer_defines_main else ""
    accessors = f'#line 1 "distilloop_counters.c"\n{COUNTER_ACCESSORS}' if uses_counters(harness) else ""
    return (
        f'{head}#line 1 "answer.c"\n{answer}\n{tail}#define main distilloop_harness_main\n'
        f'#line 1 "harness.c"\n{harness}\n#undef main\n{accessors}'
    )


def runtime(limits: sandbox.Limits, counters: bool) -> str:
    program = seccomp.program("program")
    return RUNTIME % {
        "filter": seccomp.c_array(program),
        "filter_len": len(program) // 8,
        "cpu": max(1, int(limits.cpu_seconds + 0.999)),
        "memory": limits.memory_mb * 2**20,
        "counters_decl": COUNTERS if counters else "",
        "marker": VERDICT_MARKER,
        "counters": "distilloop_hx_passed(), distilloop_hx_total()" if counters else "-1L, -1L",
    }


def build_and_run(
    directory: Path,
    answer: str,
    harness: str,
    answer_defines_main: bool,
    limits: sandbox.Limits,
    timeout: float,
    weak: bool = False,
) -> HarnessResult:
    """Compile answer + harness and run the binary, both in the sandbox; judge its verdict."""
    sources = directory / "src"
    sources.mkdir(parents=True, exist_ok=True)
    (sources / "harness_tu.c").write_text(translation_unit(answer, harness, answer_defines_main), encoding="utf-8")
    (sources / "distilloop_rt.c").write_text(runtime(limits, uses_counters(harness)), encoding="utf-8")
    command = ["gcc", *FLAGS, "-o", "harness.bin", "src/harness_tu.c", "src/distilloop_rt.c", *WRAP_FLAGS, "-lm"]
    nonce = secrets.token_hex(16)
    outcome = sandbox.build_and_run(sources, command, nonce, limits, timeout, weak)
    return judge(outcome, nonce, harness)


def _clean(text: str) -> str:
    """Printable ASCII only, capped: what a finding may quote of program output."""
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return text[:MAX_FINDING_CHARS]


def _compile_finding(outcome: sandbox.Outcome) -> Finding:
    if outcome.detail == "compiling timed out":
        return Finding("harness-compile", None, "compiling the harness timed out")
    errors = [line for line in outcome.diagnostics.splitlines() if "error" in line]
    own = [line for line in errors if line.startswith(("src/harness_tu.c:", "answer.c:", "harness.c:"))]
    lines = [line for line in outcome.diagnostics.splitlines() if line.strip()]
    detail = "; ".join((own or errors or lines)[:3]) or outcome.detail or "gcc failed"
    return Finding("harness-compile", None, f"answer + harness do not build: {_clean(detail)[:400]}")


def judge(outcome: sandbox.Outcome, nonce: str, harness: str) -> HarnessResult:
    if not outcome.compiled:
        return HarnessResult(0.0, [_compile_finding(outcome)])
    if outcome.problem is not None:
        return HarnessResult(0.0, [Finding(f"harness-{outcome.problem}", None, f"harness run {outcome.detail}")])
    verdict = VERDICT.search(outcome.output)
    if verdict is None or not secrets.compare_digest(verdict.group(1), nonce):
        return HarnessResult(
            0.0,
            [
                Finding(
                    "harness",
                    None,
                    "the program ended before the harness finished "
                    f"(no verdict from the harness; exit code {outcome.returncode})",
                )
            ],
        )
    rc, passed, total = (int(verdict.group(i)) for i in (2, 3, 4))
    lines = outcome.output[: verdict.start()].splitlines()
    if total < 0:  # a harness without the common counters: its own summary must be the last line it printed
        summary = SUMMARY.match(lines[-1].strip()) if lines else None
        if summary is None:
            return HarnessResult(0.0, [Finding("harness", None, "no `harness: passed/total` line before the verdict")])
        passed, total = int(summary.group(1)), int(summary.group(2))
    if total <= 0 or passed > total or (rc == 0) != (passed == total):
        return HarnessResult(
            0.0, [Finding("harness", None, f"return code {rc} disagrees with {passed}/{total} passed")]
        )
    if passed == total:
        return HarnessResult(10.0, [])
    failures = _failures(lines, total, harness)
    detail = "; ".join(failures) or "no FAIL lines printed"
    return HarnessResult(
        10.0 * passed / total, [Finding("harness", None, f"{passed}/{total} test vectors pass: {detail}")]
    )


def _failures(lines: list[str], total: int, harness: str) -> list[str]:
    """FAIL lines that quote one of the harness's own checks (the stringified expression is in its
    source), numbered within the run, each once; escaped and capped."""
    bare_harness = re.sub(r'[\s"]+', "", harness)
    seen, kept = set(), []
    for line in lines:
        match = FAIL_LINE.match(line.strip())
        if not match or not 1 <= int(match.group(1)) <= total or match.group(1) in seen:
            continue
        quoted = re.sub(r'[\s"]+', "", match.group(2) or match.group(3) or "")
        if not quoted or quoted not in bare_harness:
            continue
        seen.add(match.group(1))
        kept.append(_clean(line.strip()))
        if len(kept) == MAX_REPORTED_FAILURES:
            break
    return kept
