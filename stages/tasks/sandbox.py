"""Run an untrusted binary (a compiled harness) with hard limits; the only place generated code runs.

Limits, set in the child between fork and exec: CPU seconds, address space, no files written
(RLIMIT_FSIZE 0), no core dumps, no new processes; a new session so the whole group can be killed on
the wall timeout; an empty environment; a fresh temporary working directory; stdout and stderr read
through one pipe with a byte cap. When started as root the child also drops to user `nobody`. Where
the kernel allows it a seccomp filter kills the process on fork/clone (so a fork bomb is named as
one) and refuses sockets, kill and ptrace.

Every way a run can go wrong is returned as an outcome, never raised: hang, CPU limit, crash,
memory exhaustion (reported by the allocation wrappers in harness.py), output flood, process creation.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import select
import signal
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

NOBODY = 65534
# printed by the allocation wrappers harness binaries are linked with (harness.py) when malloc fails at
# the address-space limit; the peak RSS cannot tell, as it includes the forked Python before exec
MEMORY_MARKER = "distilloop-sandbox: allocation failed at the memory limit"

# --- seccomp -------------------------------------------------------------------------------------

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
RET_KILL_PROCESS = 0x80000000
RET_ERRNO_EPERM = 0x00050000 | 1
RET_ALLOW = 0x7FFF0000
# (audit arch, syscalls killed: process creation, syscalls refused with EPERM: network, signals, tracing)
SYSCALLS = {
    "x86_64": (0xC000003E, (56, 57, 58, 435), (41, 62, 101)),  # clone fork vfork clone3 | socket kill ptrace
    "aarch64": (0xC00000B7, (220, 435), (198, 129, 117)),       # clone clone3 | socket kill ptrace
}


def _bpf(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


@lru_cache(maxsize=1)
def _seccomp_program() -> bytes | None:
    """A classic-BPF seccomp filter for this machine's architecture, or None where unsupported."""
    spec = SYSCALLS.get(platform.machine())
    if spec is None:
        return None
    arch, kill, refuse = spec
    ld_arch, ld_nr, jeq, jge, ret = 0x20, 0x20, 0x15, 0x35, 0x06
    program = [_bpf(ld_arch, 4), _bpf(jeq, arch, 1, 0), _bpf(ret, RET_KILL_PROCESS), _bpf(ld_nr, 0)]
    if platform.machine() == "x86_64":
        program += [_bpf(jge, 0x40000000, 0, 1), _bpf(ret, RET_KILL_PROCESS)]  # the x32 ABI: none of ours
    for number in kill:
        program += [_bpf(jeq, number, 0, 1), _bpf(ret, RET_KILL_PROCESS)]
    for number in refuse:
        program += [_bpf(jeq, number, 0, 1), _bpf(ret, RET_ERRNO_EPERM)]
    program.append(_bpf(ret, RET_ALLOW))
    return b"".join(program)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@lru_cache(maxsize=1)
def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _install_seccomp(libc, fprog) -> None:
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return
    libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)


# --- running ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 2.0
    memory_mb: int = 256
    wall_seconds: float = 10.0
    output_bytes: int = 65536


@dataclass
class Outcome:
    """What happened. `problem` is None for a run that exited by itself within every limit."""

    returncode: int | None
    output: str
    problem: str | None = None   # timeout | crash | memory | output | fork
    detail: str = ""
    seconds: float = 0.0


def _may_drop_to_nobody(path: Path) -> bool:
    """Root drops to `nobody`, which needs every directory above the binary to be searchable."""
    if os.geteuid() != 0:
        return False
    return all(os.stat(parent).st_mode & 0o001 for parent in path.resolve().parents)


def run(binary: Path, limits: Limits) -> Outcome:
    """Run `binary` (no arguments) inside the limits and return its outcome."""
    binary = Path(binary)
    drop = _may_drop_to_nobody(binary)
    program = _seccomp_program()
    # Everything the child needs is built here: the child only makes system calls between fork and exec.
    libc = _libc()
    filter_buffer = ctypes.create_string_buffer(program) if program else None
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(filter_buffer)) if program else None
    cpu = max(1, int(limits.cpu_seconds + 0.999))
    memory = limits.memory_mb * 2**20

    with tempfile.TemporaryDirectory(prefix="distilloop-run-") as workdir:
        if drop:
            os.chmod(workdir, 0o755)  # readable, not writable, for nobody

        def limit_child() -> None:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if drop:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))  # after setuid: the count is per user
            if fprog is not None:
                _install_seccomp(libc, fprog)

        started = time.monotonic()
        try:
            process = subprocess.Popen(
                [str(binary.resolve())], cwd=workdir, env={}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=limit_child, close_fds=True,
            )
        except OSError as exc:
            return Outcome(None, "", "crash", f"could not start: {exc.strerror}")
        output, problem, detail = _collect(process, limits, started)
        waited = _wait(process.pid, started + limits.wall_seconds) if problem is None else None
        if problem is None and waited is None:
            problem, detail = "timeout", f"still running after {limits.wall_seconds:g} s (wall clock)"
        _kill_group(process)
        status, usage = waited or os.wait4(process.pid, 0)[1:]
        seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    text = output.decode("utf-8", "replace")
    if problem is None and MEMORY_MARKER in text:
        problem, detail = "memory", f"ran out of its {limits.memory_mb} MB memory limit (an allocation failed)"
    if problem is None:
        problem, detail = _classify(process.returncode, usage, limits)
    return Outcome(process.returncode, text, problem, detail, seconds)


def _collect(process: subprocess.Popen, limits: Limits, started: float) -> tuple[bytes, str | None, str]:
    """Read the child's output until it closes, the cap is passed or the wall clock runs out."""
    chunks: list[bytes] = []
    size = 0
    stream = process.stdout
    try:
        while True:
            remaining = limits.wall_seconds - (time.monotonic() - started)
            if remaining <= 0:
                return b"".join(chunks), "timeout", f"still running after {limits.wall_seconds:g} s (wall clock)"
            ready, _, _ = select.select([stream], [], [], min(remaining, 0.5))
            if not ready:
                continue
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                return b"".join(chunks), None, ""
            chunks.append(chunk)
            size += len(chunk)
            if size > limits.output_bytes:
                kept = b"".join(chunks)[: limits.output_bytes]
                return kept, "output", f"more than {limits.output_bytes} bytes of output"
    finally:
        stream.close()


def _wait(pid: int, deadline: float):
    """(status, rusage) once `pid` exits, or None at the deadline. Its output is closed by now, so this
    is the short wait between its last write and its exit."""
    pause = 0.001
    while True:
        reaped, status, usage = os.wait4(pid, os.WNOHANG)
        if reaped:
            return status, usage
        if time.monotonic() >= deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.02)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _classify(code: int, usage, limits: Limits) -> tuple[str | None, str]:
    if code >= 0:
        return None, ""
    number = -code
    name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else f"signal {number}"
    cpu = usage.ru_utime + usage.ru_stime  # sampled by the kernel: can read a little under the limit
    if number == signal.SIGXCPU or (number == signal.SIGKILL and cpu >= limits.cpu_seconds * 0.5):
        return "timeout", f"used its {limits.cpu_seconds:g} s of CPU time ({name})"
    if number == signal.SIGSYS:
        return "fork", "tried to create a process (killed by the sandbox)"
    return "crash", f"killed by {name}"
