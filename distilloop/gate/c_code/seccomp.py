"""Seccomp filters (classic BPF, built here with struct packing) for the harness sandbox.

Two profiles, x86_64 only:
  tools    what gcc, as, ld and /bin/sh inside the sandbox may not do: no network (socket, io_uring,
           which opens sockets by itself), no tracing, no kernel interfaces (bpf, perf, keyrings,
           modules), no mounts or namespaces (including clone with CLONE_NEW* flags). Refused calls
           fail with EPERM; clone3 answers ENOSYS so the C library falls back to clone, whose flags a
           filter can read.
  program  everything `tools` refuses, plus new processes and programs (fork, vfork, clone, clone3,
           execve, execveat), SysV/POSIX IPC, kill, personality, chroot: the process is killed
           (SIGSYS), so every attempt becomes a named finding. The harness binary installs it on
           itself as its very first instructions (harness.py), before any answer code can run.
"""

from __future__ import annotations

import platform
import struct

ARCH_X86_64 = 0xC000003E
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
EPERM, ENOSYS = 1, 38
CLONE_NAMESPACES = 0x7E020080  # NEWNS NEWCGROUP NEWUTS NEWIPC NEWUSER NEWPID NEWNET NEWTIME

# x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl)
DANGEROUS = {  # refused to everything in the sandbox
    "socket": 41,
    "socketpair": 53,
    "ptrace": 101,
    "syslog": 103,
    "uselib": 134,
    "vhangup": 153,
    "pivot_root": 155,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "sethostname": 170,
    "setdomainname": 171,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "fanotify_init": 300,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
    "memfd_secret": 447,
}
PROGRAM_ONLY = {  # also refused to the harness program once it runs
    "shmget": 29,
    "shmat": 30,
    "shmctl": 31,
    "clone": 56,
    "fork": 57,
    "vfork": 58,
    "execve": 59,
    "kill": 62,
    "semget": 64,
    "msgget": 68,
    "personality": 135,
    "chroot": 161,
    "mq_open": 240,
    "execveat": 322,
    "clone3": 435,
}
NR_CLONE, NR_CLONE3 = 56, 435


def supported() -> bool:
    return platform.machine() == "x86_64"


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


LD_W_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06


def program(profile: str) -> bytes:
    """The filter for `profile` ("tools" or "program") as packed sock_filter structs."""
    head = [
        _insn(LD_W_ABS, 4),
        _insn(JEQ, ARCH_X86_64, 1, 0),
        _insn(RET, RET_KILL_PROCESS),
        _insn(LD_W_ABS, 0),
        _insn(JGE, 0x40000000, 0, 1),
        _insn(RET, RET_KILL_PROCESS),
    ]  # other ABIs (x32): none of ours
    body = []
    if profile == "program":
        for number in sorted({*DANGEROUS.values(), *PROGRAM_ONLY.values()}):
            body += [_insn(JEQ, number, 0, 1), _insn(RET, RET_KILL_PROCESS)]
        tail = [_insn(RET, RET_ALLOW)]
    else:
        for number in sorted(DANGEROUS.values()):
            body += [_insn(JEQ, number, 0, 1), _insn(RET, RET_ERRNO | EPERM)]
        body += [_insn(JEQ, NR_CLONE3, 0, 1), _insn(RET, RET_ERRNO | ENOSYS)]
        # clone: refuse namespace flags (the low word of args[0], at offset 16 of seccomp_data)
        tail = [
            _insn(JEQ, NR_CLONE, 0, 3),
            _insn(LD_W_ABS, 16),
            _insn(JSET, CLONE_NAMESPACES, 0, 1),
            _insn(RET, RET_ERRNO | EPERM),
            _insn(RET, RET_ALLOW),
        ]
    return b"".join(head + body + tail)


def c_array(data: bytes) -> str:
    """`data` as the initialiser of a C unsigned char array."""
    return ", ".join(f"0x{byte:02x}" for byte in data)
