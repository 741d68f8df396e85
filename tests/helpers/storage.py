"""Proving "no audio touches the disk" at the syscall level: strace every file a process opens.

Every open for writing, creation, rename, link or truncate is reported, except under the
paths a test allows (devices, /proc, the PulseAudio runtime directory, the settings file).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

FILE_SYSCALLS = (
    "open,openat,openat2,creat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,"
    "truncate,mkdir,mkdirat,memfd_create"
)
_WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_TMPFILE|O_APPEND")
_CALL = re.compile(r"^\d+\s+(?P<call>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>-?\d+|\?)")
_PATH = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ALWAYS_WRITES = {"creat", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
                  "symlinkat", "truncate", "mkdir", "mkdirat", "memfd_create"}  # fmt: skip


def strace_prefix(trace_file: Path) -> tuple[str, ...]:
    strace = shutil.which("strace")
    assert strace, "strace is not installed"
    # --seccomp-bpf: only the traced calls stop the process. Without it every system call
    # (each read of audio from the sound server's socket) is a ptrace stop, which on a loaded
    # machine starved the microphone: `listen --seconds 1.5` got under 0.3 s of audio.
    return (
        strace, "-f", "--seccomp-bpf", "-qq", "-e", f"trace={FILE_SYSCALLS}",
        "-o", str(trace_file),
    )  # fmt: skip


@dataclass(frozen=True)
class Write:
    call: str
    paths: tuple[str, ...]
    line: str


def writes(trace_file: Path) -> list[Write]:
    """Every successful syscall in the trace that creates or writes a file system entry."""
    found: list[Write] = []
    for line in trace_file.read_text(errors="replace").splitlines():
        match = _CALL.match(line)
        if not match or match["result"].startswith("-"):
            continue  # failed calls (ENOENT, EACCES, …) wrote nothing
        call, args = match["call"], match["args"]
        if call == "memfd_create":
            found.append(Write(call, (), line))  # anonymous memory: reported, callers decide
        elif call in _ALWAYS_WRITES or (call.startswith("open") and _WRITE_FLAGS.search(args)):
            found.append(Write(call, tuple(_PATH.findall(args)), line))
    return found


def disallowed_writes(trace_file: Path, allowed: list[Path]) -> list[str]:
    """Writes outside /dev, /proc and `allowed` (a write is allowed when all its paths are)."""
    roots = ["/dev/", "/proc/", *(str(p.resolve()) + "/" for p in allowed)]
    bad: list[str] = []
    for write in writes(trace_file):
        if write.call == "memfd_create":
            continue  # RAM, not disk (Qt and PulseAudio use it for shared memory)
        if not all(any((p + "/").startswith(root) for root in roots) for p in write.paths):
            bad.append(write.line)
    return bad
