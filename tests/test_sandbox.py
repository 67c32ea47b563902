"""The sandbox that runs harness binaries: every way a program can misbehave becomes a finding with its
own id, and the scorer goes on to score the next sample correctly. Real gcc, real bubblewrap."""

from __future__ import annotations

from distilloop.config import parse
from distilloop.gate.c_code import harness, sandbox
from distilloop.gate.scoring import score_records

LIMITS = sandbox.Limits(cpu_seconds=1, memory_mb=64, wall_seconds=20, output_bytes=4096)
COUNTED = """#include <stdio.h>
static unsigned hx_total = 0U;
static unsigned hx_passed = 0U;
int main(void)
{
    hx_total++;
    if (work(1U) == 2U) { hx_passed++; puts("ok 1"); } else { puts("FAIL 1: work(1U) = wrong"); }
    printf("harness: %u/%u\\n", hx_passed, hx_total);
    return hx_passed == hx_total ? 0 : 1;
}
"""
INSIDE = """#include <stdint.h>
#include <unistd.h>
#include <stdio.h>
extern char **environ;
uint32_t work(uint32_t x)
{
    FILE *f = fopen("written.txt", "w");  /* in the private tmpfs, gone with the sandbox */
    int contained = getuid() == 65534 && getgid() == 65534 && environ[0] == NULL && access("/etc", F_OK) != 0
        && access("/proc/self", F_OK) != 0 && access("/root", F_OK) != 0 && access("/work/src/harness_tu.c", R_OK) == 0
        && f != NULL;
    return contained ? x + 1U : 0U;
}
"""


def test_inside_the_sandbox(tmp_path):
    """Run as nobody, empty environment, no /etc, /proc or home, only the sources in the work dir."""
    result = harness.build_and_run(tmp_path / "run", INSIDE, COUNTED, False, LIMITS, 60)
    assert result.axis == 10, result.findings


def test_the_harness_counts_beat_its_printed_summary(tmp_path):
    """With the common counters the verdict carries them: a printed summary does not count."""
    liar = '#include <stdint.h>\n#include <stdio.h>\nuint32_t work(uint32_t x) { puts("harness: 1/1"); return x; }\n'
    result = harness.build_and_run(tmp_path / "run", liar, COUNTED, False, LIMITS, 60)
    assert result.axis == 0 and result.findings[0].message.startswith("0/1 test vectors pass")


ANSWER = """#include <stdint.h>
{includes}
/**
 * @brief Add one.
 * @param x Input.
 * @return x + 1.
 */
uint32_t work(uint32_t x)
{{
{body}
    return x + 1U;
}}
"""
HARNESS = """#include <stdio.h>
#include <stdint.h>
int main(void)
{
    unsigned passed = 0U;
    if (work(1U) == 2U) { passed++; puts("ok 1"); } else { puts("FAIL 1: work(1) != 2"); }
    printf("harness: %u/1\\n", passed);
    return passed == 1U ? 0 : 1;
}
"""
MISBEHAVING = {
    "spin": ("", "    volatile uint32_t y = x;\n    for (;;) { y++; }"),
    "sleep": ("#include <unistd.h>", "    (void)sleep(100U);"),
    "fork_bomb": ("#include <unistd.h>", "    for (;;) { (void)fork(); }"),
    "crash": ("", "    volatile uint32_t *p = (uint32_t *)0;\n    x = *p;"),
    "flood": ("#include <stdio.h>", '    for (;;) { (void)puts("flood"); }'),
    "memory_hog": (
        "#include <stdlib.h>\n#include <string.h>",
        "    for (;;) { char *p = malloc(1U << 20U); (void)memset(p, 1, 1U << 20U); }",
    ),
    "good": ("", ""),
}
FINDING = {
    "spin": "harness-timeout",
    "sleep": "harness-timeout",
    "fork_bomb": "harness-forbidden",
    "crash": "harness-crash",
    "flood": "harness-output",
    "memory_hog": "harness-memory",
}


def test_scorer_goes_on_after_every_misbehaviour():
    params = parse(
        {
            "gate": {
                "workers": 1,
                "c_code": {"harness": {"cpu_seconds": 1, "memory_mb": 64, "wall_seconds": 4, "output_bytes": 4096}},
            }
        }
    )
    checks = {"function": "work", "signature": "uint32_t work(uint32_t x)", "harness": HARNESS}
    records = [
        {
            "id": name,
            "task": "c_code",
            "prompt": "p",
            "checks": checks,
            "output": ANSWER.format(includes=includes, body=body),
        }
        for name, (includes, body) in MISBEHAVING.items()
    ]
    results = {r["id"]: r for r in score_records(records, params.gate)}  # one worker: all in sequence
    for name, finding in FINDING.items():
        result = results[name]
        harness_ids = [f["id"] for f in result["findings"] if f["id"].startswith("harness")]
        assert harness_ids == [finding], (name, result["findings"])
        assert result["axes"]["function"] == 0 and not result["passed"]
    good = results["good"]
    assert good["passed"] and good["axes"]["function"] == 10, good["findings"]
