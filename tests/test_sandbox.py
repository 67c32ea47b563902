"""The sandbox that runs harness binaries: every way a program can misbehave becomes a finding with its
own id, and the scorer goes on to score the next sample correctly. Real gcc, real processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from stages.params import parse
from stages.tasks import harness, sandbox, score_records

LIMITS = sandbox.Limits(cpu_seconds=1, memory_mb=64, wall_seconds=3, output_bytes=4096)

PROGRAMS = {
    "ok": '#include <stdio.h>\nint main(void) { puts("ok 1"); puts("harness: 1/1"); return 0; }',
    "spin": "int main(void) { volatile unsigned x = 0U; for (;;) { x++; } }",
    "sleep": "#include <unistd.h>\nint main(void) { sleep(100); return 0; }",
    "fork_bomb": "#include <unistd.h>\nint main(void) { for (;;) { (void)fork(); } }",
    "crash": "int main(void) { volatile int *p = 0; return *p; }",
    "flood": '#include <stdio.h>\nint main(void) { for (;;) { puts("flooding the pipe with output"); } }',
    "memory_hog": "#include <stdlib.h>\n#include <string.h>\n"
                  "int main(void) { for (;;) { char *p = malloc(1 << 20); memset(p, 1, 1 << 20); } }",
    "inspect": '#include <stdio.h>\n#include <unistd.h>\nextern char **environ;\n'
               'int main(void) { FILE *f = fopen("written.txt", "w");\n'
               '  printf("uid=%d env=%d file=%d\\n", (int)getuid(), environ[0] != 0, f != 0); return 0; }',
}


@pytest.fixture(scope="module")
def binaries():
    directory = Path(tempfile.mkdtemp(prefix="distilloop-test-sandbox-"))  # searchable by `nobody`
    os.chmod(directory, 0o755)
    (directory / "wrappers.c").write_text(harness.ALLOCATION_WRAPPERS)
    for name, source in PROGRAMS.items():
        (directory / f"{name}.c").write_text(source + "\n")
        subprocess.run(["gcc", "-O0", "-w", "-o", name, f"{name}.c", "wrappers.c", *harness.WRAP_FLAGS],
                       cwd=directory, check=True)
    yield directory
    shutil.rmtree(directory)


@pytest.mark.parametrize("name,problem", [
    ("ok", None), ("spin", "timeout"), ("sleep", "timeout"), ("fork_bomb", "fork"), ("crash", "crash"),
    ("flood", "output"), ("memory_hog", "memory"),
])
def test_each_misbehaviour_has_its_own_outcome(binaries, name, problem):
    outcome = sandbox.run(binaries / name, LIMITS)
    assert outcome.problem == problem, outcome
    assert outcome.seconds < LIMITS.wall_seconds + 5, outcome  # killed on time, with slack for a loaded machine
    if name == "ok":
        assert outcome.returncode == 0 and outcome.output.splitlines() == ["ok 1", "harness: 1/1"]
    if name == "flood":
        assert len(outcome.output.encode()) <= LIMITS.output_bytes
    if name == "sleep":
        assert "wall clock" in outcome.detail


def test_empty_environment_no_files_and_no_root(binaries, tmp_path):
    outcome = sandbox.run(binaries / "inspect", LIMITS)
    assert outcome.problem is None
    fields = dict(part.split("=") for part in outcome.output.split())
    assert fields["env"] == "0" and fields["file"] == "0"  # nothing inherited, nothing written
    if os.geteuid() == 0:
        assert fields["uid"] == str(sandbox.NOBODY)
    assert not list(binaries.glob("written.txt"))


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
    "memory_hog": ("#include <stdlib.h>\n#include <string.h>",
                   "    for (;;) { char *p = malloc(1U << 20U); (void)memset(p, 1, 1U << 20U); }"),
    "good": ("", ""),
}
FINDING = {"spin": "harness-timeout", "sleep": "harness-timeout", "fork_bomb": "harness-fork",
           "crash": "harness-crash", "flood": "harness-output", "memory_hog": "harness-memory"}


def test_scorer_goes_on_after_every_misbehaviour():
    params = parse({"gate": {"workers": 1, "c_code": {"harness": {
        "cpu_seconds": 1, "memory_mb": 64, "wall_seconds": 3, "output_bytes": 4096}}}})
    checks = {"function": "work", "signature": "uint32_t work(uint32_t x)", "harness": HARNESS}
    records = [{"id": name, "task": "c_code", "prompt": "p", "checks": checks,
                "output": ANSWER.format(includes=includes, body=body)} for name, (includes, body) in MISBEHAVING.items()]
    results = {r["id"]: r for r in score_records(records, params)}  # one worker: all in sequence
    for name, finding in FINDING.items():
        result = results[name]
        harness_ids = [f["id"] for f in result["findings"] if f["id"].startswith("harness")]
        assert harness_ids == [finding], (name, result["findings"])
        assert result["axes"]["function"] == 0 and not result["passed"]
    good = results["good"]
    assert good["passed"] and good["axes"]["function"] == 10, good["findings"]
