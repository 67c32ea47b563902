"""Hostile answers against the real gate: real gcc, real bubblewrap, a real TCP listener. Each attack is
scored through `score_records` and must (a) leave everything outside the sandbox as it was, (b) not
leak what it read into the scored record, and (c) end in a named finding with no function score."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from distilloop import UserError
from distilloop.config import parse
from distilloop.gate.c_code import harness, sandbox
from distilloop.gate.scoring import score_records

SANDBOX_MISSING = sandbox.strong_available()
CI_ON_LINUX = sys.platform.startswith("linux") and bool(os.environ.get("CI"))


@pytest.fixture(scope="module")
def bubblewrap():
    """The real sandbox the attacks run in. Where it is missing the tests skip on a developer's machine, but
    fail in CI on Linux (`CI` set, as .ci/run and CI services do): a green CI run has run every attack."""
    if SANDBOX_MISSING is not None:
        if CI_ON_LINUX:
            pytest.fail(f"CI on Linux must run the containment tests, but: {SANDBOX_MISSING}", pytrace=False)
        pytest.skip(f"no bubblewrap sandbox here: {SANDBOX_MISSING}")


HARNESS = r"""#include <stdio.h>
#include <stdint.h>
static unsigned hx_total = 0U;
static unsigned hx_passed = 0U;
static void hx_u(const char *what, unsigned long long got, unsigned long long want)
{
    hx_total++;
    if (got == want) { hx_passed++; printf("ok %u\n", hx_total); }
    else { printf("FAIL %u: %s: got 0x%llx, want 0x%llx\n", hx_total, what, got, want); }
}
#define HX_U(got, want) hx_u(#got, (unsigned long long)(got), (unsigned long long)(want))
int main(void)
{
    HX_U(work(1U), 2U);
    HX_U(work(41U), 42U);
    printf("harness: %u/%u\n", hx_passed, hx_total);
    return (hx_passed == hx_total) ? 0 : 1;
}
"""
ANSWER = """#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
static void attack(void) {{
{attack}
}}
static void __attribute__((constructor)) early(void) {{ {early} }}
/**
 * @brief Add one.
 * @param x Input.
 * @return x + 1.
 */
uint32_t work(uint32_t x)
{{
    {late}
    return x + 1U;
}}
"""
CONNECT = """    struct sockaddr_in a; int s = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a); a.sin_family = AF_INET; a.sin_port = htons(@PORT@); a.sin_addr.s_addr = htonl(0x7f000001);
    (void)connect(s, (struct sockaddr *)&a, sizeof a); (void)write(s, "pwned", 5);"""
IO_URING = """    unsigned char p[120]; long fd; memset(p, 0, sizeof p);
    fd = syscall(425 /* io_uring_setup */, 8, p);
    if (fd >= 0) { @CONNECT@ }"""
SHELL = '    char *argv[] = {"/bin/sh", "-c", "echo pwned > @OUTSIDE@/shell; cat /etc/hostname", NULL}; execve("/bin/sh", argv, NULL);'
NO_VERDICT = "_exit(3);"

# name: (attack body, where it runs: early = a constructor before main, late = inside the function, expected finding)
ATTACKS = {
    "execve": (SHELL, "early", "harness-forbidden"),
    "fork": ("    (void)fork();", "early", "harness-forbidden"),
    "vfork": ("    if (vfork() == 0) { _exit(0); }", "early", "harness-forbidden"),
    "clone3": (
        "    unsigned long long args[11] = {0}; (void)syscall(435, args, sizeof args);",
        "early",
        "harness-forbidden",
    ),
    "raw-socket-connect": (CONNECT, "early", "harness-forbidden"),
    "io-uring-connect": (IO_URING.replace("@CONNECT@", CONNECT), "early", "harness-forbidden"),
    "ptrace": ("    (void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);", "early", "harness-forbidden"),
    "shared-memory": ("    (void)shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);", "early", "harness-forbidden"),
    "prctl-then-exec": (
        "    (void)prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0); (void)prctl(PR_SET_SECCOMP, 0, 0, 0, 0);\n" + SHELL,
        "early",
        "harness-forbidden",
    ),
    "unshare": (
        "    (void)syscall(SYS_unshare, 0x10020000L);  /* CLONE_NEWUSER | CLONE_NEWNS */",
        "early",
        "harness-forbidden",
    ),
    "mount": ('    (void)mount("none", "/usr", "tmpfs", 0, NULL);', "early", "harness-forbidden"),
    "kill-storm": ("    for (;;) { (void)kill(-1, SIGKILL); }", "early", "harness-forbidden"),
    "forged-verdict": ('    printf("ok 1\\nok 2\\nharness: 2/2\\n"); fflush(stdout); _exit(0);', "late", "harness"),
    "read-passwd": (
        '    char line[256]; unsigned n = 1U; FILE *f = fopen("/etc/passwd", "r");\n'
        '    while (f != NULL && fgets(line, sizeof line, f) != NULL) { printf("FAIL %u: work(1U): got %s", n++, line); }\n'
        '    printf("harness: 0/2\\n"); fflush(stdout); ' + NO_VERDICT,
        "late",
        "harness",
    ),
    "read-canary": (
        '    char text[256] = {0}; FILE *f = fopen("@CANARY@", "r");\n'
        '    if (f != NULL) { (void)fread(text, 1, 255, f); printf("FAIL 1: work(1U): got %s\\n", text); }\n'
        "    fflush(stdout); " + NO_VERDICT,
        "late",
        "harness",
    ),
    "env-secret": (
        '    printf("FAIL 1: work(1U): got %s\\n", getenv("DISTILLOOP_TEST_SECRET")); fflush(stdout); ' + NO_VERDICT,
        "late",
        "harness",
    ),
    "fopen-tmp": (
        '    FILE *f = fopen("@OUTSIDE@/fopen", "w"); if (f) { fputs("x", f); fclose(f); } ' + NO_VERDICT,
        "early",
        "harness",
    ),
    "creat": ('    (void)open("@OUTSIDE@/creat", O_CREAT | O_WRONLY, 0644); ' + NO_VERDICT, "early", "harness"),
    "mkdir-symlink": (
        '    (void)mkdir("@OUTSIDE@/dir", 0755); (void)symlink("/etc/passwd", "@OUTSIDE@/link"); ' + NO_VERDICT,
        "early",
        "harness",
    ),
    "unlink-truncate": (
        '    (void)truncate("@OUTSIDE@/keep", 0); (void)unlink("@OUTSIDE@/keep"); ' + NO_VERDICT,
        "early",
        "harness",
    ),
    "proc-self-mem": (
        '    int fd = open("/proc/self/mem", O_RDWR); if (fd >= 0) { (void)pwrite(fd, "x", 1, 0); } ' + NO_VERDICT,
        "early",
        "harness",
    ),
    "setrlimit-raise": (
        "    struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY}; (void)setrlimit(RLIMIT_CPU, &r);\n"
        "    volatile unsigned long y = 0UL; for (;;) { y++; }",
        "early",
        "harness-timeout",
    ),
    "signal-storm": (
        "    struct itimerval t; t.it_interval.tv_sec = 0; t.it_interval.tv_usec = 1; t.it_value = t.it_interval;\n"
        "    signal(SIGALRM, SIG_IGN); signal(SIGPROF, SIG_IGN);\n"
        "    (void)setitimer(ITIMER_PROF, &t, NULL); for (;;) { (void)raise(SIGALRM); }",
        "early",
        "harness-timeout",
    ),
    "huge-stack": ("    volatile char big[1 << 30]; big[0] = 1; big[(1 << 30) - 1] = 2;", "early", "harness-crash"),
    "stdout-1gb": (
        "    static char block[1 << 20]; int i; memset(block, 'A', sizeof block);\n"
        "    for (i = 0; i < 1024; i++) { (void)write(1, block, sizeof block); }",
        "early",
        "harness-output",
    ),
    "incbin-canary": (
        '    }\n__asm__(".section .rodata\\n.incbin \\"@CANARY@\\"\\n.text");\nstatic void unused(void) {',
        "early",
        "harness-compile",
    ),
}


@pytest.fixture(scope="module")
def world(bubblewrap):
    """Things outside the sandbox an attack would touch: a listener, a canary, a file to keep, a secret."""
    outside = Path(tempfile.mkdtemp(prefix="distilloop-outside-"))
    (outside / "keep").write_text("keep me\n")
    canary = outside / "canary"
    canary_text = "canary-" + secrets.token_hex(8)
    canary.write_text(canary_text)
    os.chmod(canary, 0o600)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    secret = "secret-" + secrets.token_hex(8)
    os.environ["DISTILLOOP_TEST_SECRET"] = secret
    yield {
        "outside": outside,
        "canary": canary,
        "canary_text": canary_text,
        "listener": listener,
        "port": listener.getsockname()[1],
        "secret": secret,
    }
    del os.environ["DISTILLOOP_TEST_SECRET"]
    listener.close()


def answer(name: str, world: dict) -> str:
    body, where, _ = ATTACKS[name]
    body = body.replace("@PORT@", str(world["port"])).replace("@OUTSIDE@", str(world["outside"]))
    body = body.replace("@CANARY@", str(world["canary"]))
    call = "attack();"
    return ANSWER.format(attack=body, early=call if where == "early" else "", late=call if where == "late" else "")


@pytest.fixture(scope="module")
def scored(world):
    params = parse(
        {
            "gate": {
                "workers": 2,
                "c_code": {"harness": {"cpu_seconds": 1, "memory_mb": 64, "wall_seconds": 20, "output_bytes": 4096}},
            }
        }
    )
    checks = {"function": "work", "signature": "uint32_t work(uint32_t x)", "harness": HARNESS}
    records = [
        {"id": name, "task": "c_code", "prompt": "p", "checks": checks, "output": answer(name, world)}
        for name in ATTACKS
    ]
    records.append(
        {
            "id": "honest",
            "task": "c_code",
            "prompt": "p",
            "checks": checks,
            "output": ANSWER.format(attack="", early="", late=""),
        }
    )
    return {record["id"]: record for record in score_records(records, params.gate)}


def test_an_honest_answer_still_scores(scored):
    assert scored["honest"]["axes"]["function"] == 10, scored["honest"]["findings"]


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_contained_and_named(scored, world, name):
    result = scored[name]
    ids = [f["id"] for f in result["findings"] if f["id"].startswith("harness")]
    assert ids == [ATTACKS[name][2]], result["findings"]
    assert result["axes"]["function"] == 0 and not result["passed"]
    text = json.dumps(result["findings"])
    assert world["canary_text"] not in text and world["secret"] not in text
    assert Path("/etc/passwd").read_text().splitlines()[0] not in text
    assert len(text) < 4000  # no flood reaches the record


def test_nothing_outside_was_touched(scored, world):
    outside = world["outside"]
    assert sorted(p.name for p in outside.iterdir()) == ["canary", "keep"]
    assert (outside / "keep").read_text() == "keep me\n"
    with pytest.raises(BlockingIOError):  # no connection ever reached the listener
        world["listener"].accept()


@pytest.mark.usefixtures("bubblewrap")
def test_forged_fail_lines_never_reach_findings(tmp_path):
    """A failing answer that prints fake FAIL lines: only the harness's own checks are quoted."""
    fake = '#include <stdio.h>\n#include <stdint.h>\nuint32_t work(uint32_t x) { printf("FAIL 1: leaked text\\n"); return x; }\n'
    result = harness.build_and_run(tmp_path / "run", fake, HARNESS, False, sandbox.Limits(1, 64, 20, 4096), 60)
    assert result.axis == 0 and len(result.findings) == 1
    message = result.findings[0].message
    assert "leaked text" not in message and "FAIL 1: work(1U): got 0x1, want 0x2" in message


@pytest.mark.usefixtures("bubblewrap")
def test_absolute_include_cannot_read_host_files(tmp_path):
    """The include check aside (it refuses this earlier), the compiler itself sees no /etc."""
    include = '#include "/etc/passwd"\n#include <stdint.h>\nuint32_t work(uint32_t x) { return x + 1U; }\n'
    result = harness.build_and_run(tmp_path / "run", include, HARNESS, False, sandbox.Limits(1, 64, 20, 4096), 60)
    assert [f.id for f in result.findings] == ["harness-compile"]
    assert "No such file" in result.findings[0].message
    assert Path("/etc/passwd").read_text().splitlines()[0] not in result.findings[0].message


def test_without_bubblewrap_the_gate_refuses_unless_allowed(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no bwrap on it
    sandbox.strong_available.cache_clear()
    try:
        with pytest.raises(UserError) as refused:
            sandbox.check(allow_weak=False)
        assert "\n" not in str(refused.value) and "allow_weak_sandbox" in str(refused.value)
        sandbox.check(allow_weak=True)  # explicitly allowed: no error
        good = ANSWER.format(attack="", early="", late="")
        result = harness.build_and_run(
            tmp_path / "run", good, HARNESS, False, sandbox.Limits(1, 64, 20, 4096), 60, weak=True
        )
        assert result.axis == 10, result.findings
    finally:
        sandbox.strong_available.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the CI rule is for Linux")
@pytest.mark.parametrize("ci, outcome", [("true", "1 error"), ("", "1 skipped")])
def test_ci_on_linux_fails_rather_than_skips_without_bubblewrap(tmp_path, ci, outcome):
    """This module run where no bwrap is on PATH: an error under CI, a skip (with its reason) elsewhere."""
    env = {"PATH": str(tmp_path), "PYTHONPATH": str(Path(__file__).parent.parent), "CI": ci, "HOME": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", __file__, "-k", "forged_fail_lines"],
        cwd=Path(__file__).parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert outcome in run.stdout.splitlines()[-1], run.stdout[-2000:]
    assert (run.returncode != 0) == bool(ci)
    assert "bubblewrap (bwrap) is not installed" in run.stdout
