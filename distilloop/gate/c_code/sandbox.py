"""Build and run untrusted C (an answer with its harness) inside bubblewrap: the only place generated
code is compiled to a program and run.

One `bwrap` call per harness: new user, mount, PID, IPC, UTS, network and cgroup namespaces (no network
device); a read-only root of the toolchain and libc only (/usr/bin, /usr/lib*, /usr/libexec,
/usr/include; no /etc, /proc, home or project); a private tmpfs work dir holding only the sources;
uid/gid 65534 (root first drops to `nobody` for real, so even a mount we got wrong reads as nobody);
an empty environment; the `tools` seccomp filter (seccomp.py) on everything inside; killed with its
parent. Inside, /bin/sh compiles (gcc and as read only what is mounted: `#include`/`.incbin` of a host
path finds nothing) and then execs the harness, which locks itself down before any answer code runs
(harness.py: rlimits, the `program` filter, the verdict nonce on fd 3 that the compiler never saw).

Where namespaces cannot be made, `check()` refuses with one line unless params allow the weak mode:
the same script without bwrap (rlimits, uid drop and seccomp, but the compiler and the program see
the host's files). Every way a run can go wrong is returned as an outcome, never raised.
"""

from __future__ import annotations

import ctypes
import os
import select
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from distilloop import UserError
from distilloop.gate.c_code import seccomp

NOBODY = 65534
TOOL_MEMORY_MB = 2048  # gcc, as and ld together (the harness lowers its own limits further)
TMPFS_BYTES = 256 * 2**20  # /work and /tmp inside the sandbox
DIAGNOSTIC_BYTES = 65536  # compiler output read back
COMPILED = "distilloop-sandbox: compiled"
# printed by the allocation wrappers (harness.py) when malloc fails at the address-space limit
MEMORY_MARKER = "distilloop-sandbox: allocation failed at the memory limit"
ROOT_DIRS = ("/usr/bin", "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/include")


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 2.0
    memory_mb: int = 256
    wall_seconds: float = 10.0
    output_bytes: int = 65536


@dataclass
class Outcome:
    """What happened. `problem` is None for a program that ran and exited by itself within every limit."""

    compiled: bool
    diagnostics: str  # the compiler's messages (trusted tools, not the program)
    returncode: int | None
    output: str  # the program's stdout + stderr: untrusted, never shown as is
    problem: str | None = None  # compile | timeout | crash | memory | output | forbidden
    detail: str = ""
    seconds: float = 0.0


# --- availability -------------------------------------------------------------------------------------


def _drop_to_nobody() -> None:
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)


@lru_cache(maxsize=1)
def strong_available() -> str | None:
    """None when bwrap works here (as the user the gate runs it as), else why not, in a few words."""
    if not seccomp.supported():
        return f"no seccomp filter for this architecture ({os.uname().machine})"
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (apt-get install bubblewrap)"
    try:
        probe = subprocess.run(
            [*_bwrap_args(None, None), "/usr/bin/true"], capture_output=True, timeout=30, preexec_fn=_drop_to_nobody
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap did not start: {exc}"
    if probe.returncode != 0:
        return "bwrap cannot create namespaces here: " + probe.stderr.decode("utf-8", "replace").strip()[:200]
    return None


def check(allow_weak: bool) -> None:
    """Raise a one-line UserError if harnesses cannot run contained (and the weak mode is not allowed)."""
    reason = strong_available()
    if reason is not None and not allow_weak:
        raise UserError(
            f"sandbox: {reason}; harnesses are not run without it (set "
            "gate.c_code.harness.allow_weak_sandbox: true to accept rlimits and seccomp only, "
            "or harness.enabled: false)"
        )


# --- the command -------------------------------------------------------------------------------------


def _bwrap_args(nonce_fd: int | None, filter_fd: int | None) -> list[str]:
    args = [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/bin",
        "--setenv",
        "TMPDIR",
        "/tmp",
        "--uid",
        str(NOBODY),
        "--gid",
        str(NOBODY),
    ]
    for directory in ROOT_DIRS:
        if os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
    args += [
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--symlink",
        "usr/bin",
        "/bin",
        "--dev",
        "/dev",
        "--size",
        str(TMPFS_BYTES),
        "--tmpfs",
        "/tmp",
        "--size",
        str(TMPFS_BYTES),
        "--tmpfs",
        "/work",
    ]
    if nonce_fd is not None:
        args += ["--perms", "0400", "--file", str(nonce_fd), "/work/nonce"]
    if filter_fd is not None:
        args += ["--seccomp", str(filter_fd)]
    return args + ["--chdir", "/work"]


def run_contained(command: list[str], stdin: str, tasks_dir: Path, timeout: float) -> subprocess.CompletedProcess:
    """A user's command scorer inside the harness's namespaces (gate.tasks.NAME.scorer.sandbox): no
    network, nobody, read-only /usr, and a read-only copy of the project's tasks/ at /work/tasks, /work
    its working directory; the records on stdin, the results from stdout. TimeoutExpired past `timeout`."""
    with tempfile.TemporaryDirectory(prefix="distilloop-scorer-") as tmp:
        copy = Path(tmp) / "tasks"
        shutil.copytree(tasks_dir, copy, symlinks=False)
        for path in [Path(tmp), copy, *copy.rglob("*")]:  # nobody reads the copy, never the project
            path.chmod(0o755 if path.is_dir() else 0o644)
        extra = ["--ro-bind", "/usr/local", "/usr/local"] if os.path.isdir("/usr/local") else []
        args = [*_bwrap_args(None, None)[:-2], *extra, "--ro-bind", str(copy), "/work/tasks", "--chdir", "/work"]

        def prepare_child() -> None:  # between fork and exec: system calls only
            resource_limit(TOOL_MEMORY_MB * 2**20)
            _drop_to_nobody()

        return subprocess.run(
            [*args, *command],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=prepare_child,
        )


def script(compile_command: list[str]) -> str:
    """Take the nonce onto fd 3 and delete its file, compile with fd 3 closed, then exec the program
    with its stderr on stdout: only the shell and the compiler write to the sandbox's stderr."""
    gcc = shlex.join(compile_command)
    return (
        f"exec 3<nonce && rm -f nonce && {gcc} 3<&- </dev/null >&2 && echo '{COMPILED}' >&2 "
        "&& exec /usr/bin/env -i ./harness.bin 2>&1 </dev/null"
    )


def _pipe_with(data: bytes) -> int:
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    return read_end


def build_and_run(
    directory: Path, compile_command: list[str], nonce: str, limits: Limits, compile_timeout: float, weak: bool
) -> Outcome:
    """Compile `compile_command` (run in the work dir, with the files of `directory` under src/) and run
    ./harness.bin, contained; the program reads `nonce` from fd 3."""
    if weak:
        return _run_weak(directory, compile_command, nonce, limits, compile_timeout)
    opened = [_pipe_with(nonce.encode()), _pipe_with(seccomp.program("tools"))]
    try:  # bwrap copies the sources from descriptors we opened: the sandbox user needs no access to `directory`
        files = []
        for path in sorted(directory.iterdir()):
            opened.append(os.open(path, os.O_RDONLY))
            files += ["--file", str(opened[-1]), f"/work/src/{path.name}"]
        command = [
            *_bwrap_args(opened[0], opened[1]),
            "--dir",
            "/work/src",
            *files,
            "/bin/sh",
            "-c",
            script(compile_command),
        ]
        return _run(command, "/", tuple(opened), limits, compile_timeout, False)
    finally:
        for fd in opened:
            os.close(fd)


def _run_weak(
    directory: Path, compile_command: list[str], nonce: str, limits: Limits, compile_timeout: float
) -> Outcome:
    """The same script without namespaces, in a fresh directory the sandbox user owns."""
    work = Path(tempfile.mkdtemp(prefix="distilloop-weak-"))
    try:
        shutil.copytree(directory, work / "src")
        (work / "nonce").write_text(nonce)
        if os.geteuid() == 0:
            for path in [work, *work.rglob("*")]:
                os.chown(path, NOBODY, NOBODY)
        return _run(["/bin/sh", "-c", script(compile_command)], work, (), limits, compile_timeout, True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(command, cwd, pass_fds, limits: Limits, compile_timeout: float, weak: bool) -> Outcome:
    tools_filter = _weak_filter() if weak else None
    memory = TOOL_MEMORY_MB * 2**20

    def prepare_child() -> None:  # between fork and exec: system calls only
        resource_limit(memory)
        _drop_to_nobody()
        if tools_filter is not None:
            _install(tools_filter)

    started = time.monotonic()
    deadline = started + compile_timeout  # until the compiler is done; then wall_seconds for the program
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={"PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=pass_fds,
            start_new_session=True,
            preexec_fn=prepare_child,
        )
    except OSError as exc:
        return Outcome(False, "", None, "", "compile", f"could not start the sandbox: {exc.strerror}")
    output, diagnostics, problem, detail, deadline = _collect(process, limits, deadline)
    if problem is None and _wait(process, deadline) is None:
        problem, detail = "timeout", f"still running after {limits.wall_seconds:g} s (wall clock)"
    _kill(process)
    process.wait()
    seconds = time.monotonic() - started
    compiled = COMPILED in diagnostics
    diagnostics = diagnostics.replace(COMPILED, "").strip()
    if not compiled:
        why = "compiling timed out" if problem == "timeout" else "did not build"
        return Outcome(False, diagnostics, process.returncode, "", "compile", why, seconds)
    if problem is None and MEMORY_MARKER in output:
        problem, detail = "memory", f"ran out of its {limits.memory_mb} MB memory limit (an allocation failed)"
    if problem is None:
        problem, detail = _classify(process.returncode)
    return Outcome(True, diagnostics, process.returncode, output, problem, detail, seconds)


def resource_limit(memory: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _drain(stream, into: bytearray, cap: int) -> None:
    """Append what `stream` has ready now (never waiting), up to `cap` bytes in all."""
    while len(into) < cap and select.select([stream], [], [], 0)[0]:
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            return
        into += chunk[: cap - len(into)]


def _collect(process: subprocess.Popen, limits: Limits, deadline: float):
    """Read stdout (the program, capped at output_bytes) and stderr (shell and compiler) until both close;
    once the shell says the build is done, the deadline becomes wall_seconds from then."""
    caps = {process.stdout: limits.output_bytes, process.stderr: DIAGNOSTIC_BYTES}
    data = {process.stdout: bytearray(), process.stderr: bytearray()}
    open_streams = list(caps)
    problem, detail, running = None, "", False
    try:
        while open_streams:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                problem, detail = "timeout", f"still running after {limits.wall_seconds:g} s (wall clock)"
                break
            ready, _, _ = select.select(open_streams, [], [], min(remaining, 0.5))
            for stream in ready:
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    open_streams.remove(stream)
                    continue
                data[stream] += chunk
                if stream is process.stderr and not running and COMPILED.encode() in data[stream]:
                    running, deadline = True, time.monotonic() + limits.wall_seconds
                if len(data[stream]) > caps[stream]:
                    del data[stream][caps[stream] :]
                    if stream is process.stdout:
                        problem, detail = "output", f"more than {limits.output_bytes} bytes of output"
                        # the shell wrote its build marker before the program ran: read what stderr holds
                        # now, or a flood read first would look like a build that never finished
                        _drain(process.stderr, data[process.stderr], caps[process.stderr])
                        open_streams = []
                        break
                    open_streams.remove(stream)
    finally:
        process.stdout.close()
        process.stderr.close()
    return (
        data[process.stdout].decode("utf-8", "replace"),
        data[process.stderr].decode("utf-8", "replace"),
        problem,
        detail,
        deadline,
    )


def _wait(process: subprocess.Popen, deadline: float) -> int | None:
    pause = 0.001
    while (code := process.poll()) is None:
        if time.monotonic() >= deadline:
            return None
        time.sleep(pause)
        pause = min(pause * 2, 0.02)
    return code


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # bwrap; --die-with-parent takes the sandbox with it
    except (ProcessLookupError, PermissionError):
        pass


def _classify(code: int) -> tuple[str | None, str]:
    """bwrap and sh report a program killed by signal N as exit status 128 + N."""
    number = code - 128 if code > 128 else -code if code < 0 else 0
    if number == 0:
        return None, ""
    name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else f"signal {number}"
    if number in (signal.SIGXCPU, signal.SIGKILL):
        return "timeout", f"used up its CPU time ({name})"
    if number == signal.SIGSYS:
        return "forbidden", (
            "made a system call the sandbox forbids (a new process or program, network, "
            "io_uring, tracing, IPC, mounts, ...) and was killed"
        )
    return "crash", f"killed by {name}"


# --- the weak mode's filter (installed by Python between fork and exec) --------------------------------


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _weak_filter():
    program = seccomp.program("tools")
    buffer = ctypes.create_string_buffer(program)
    return buffer, _SockFprog(len(program) // 8, ctypes.addressof(buffer)), _libc()


@lru_cache(maxsize=1)
def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _install(prepared) -> None:
    libc = prepared[2]
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(prepared[1]), 0, 0) != 0:
        os._exit(126)  # never run without the filter
