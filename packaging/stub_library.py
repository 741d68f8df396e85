"""Stand-in shared libraries for PyAV's video encoders, which voicedesk never runs.

PyAV's `libavcodec` lists x265 (20 MB) and SVT-AV1 (7 MB) as DT_NEEDED, so the dynamic loader
will not load it, and `import av` fails, without a library of each name. voicedesk only decodes
MP3 and resamples PCM, so the bundle carries a stand-in of a few kB instead: same soname, every
function `libavcodec` imports from the real one, each returning a fixed value (NULL, or an error
code for SVT-AV1). Every one is needed: Python loads extension modules with RTLD_NOW, so all
of libavcodec's imports must resolve when `av` is imported. FFmpeg only calls these functions
when asked for an H.265 or AV1 *encoder*.

Built with `as` and `ld` from binutils (which PyInstaller and `strip` need anyway); a library
that exports data, not just functions, is refused rather than faked. Used by
packaging/voicedesk.spec.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def _dynamic_symbols(path: str, *, defined: bool) -> dict[str, str]:
    """{name: type} of the dynamic symbols `path` defines (or leaves undefined)."""
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(
        ["nm", "-D", flag, "--format=posix", path], capture_output=True, text=True, check=True
    ).stdout
    symbols = {}
    for line in out.splitlines():
        name, kind, *_ = line.split()
        symbols[name.split("@")[0]] = kind
    return symbols


def soname(path: str) -> str:
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        if "(SONAME)" in line:
            return line.rsplit("[", 1)[1].rstrip("]")
    raise ValueError(f"{path} has no SONAME")


def build_stub(real: str, users: list[str], out: str, returns: int) -> list[str]:
    """Writes to `out` a stand-in for the library `real`: its soname, and each function the
    libraries `users` import from it, returning `returns`. Returns the function names."""
    provided = _dynamic_symbols(real, defined=True)
    wanted = set().union(*(_dynamic_symbols(u, defined=False) for u in users)) & set(provided)
    data = sorted(name for name in wanted if provided[name] not in ("T", "W", "i"))
    if data:
        raise ValueError(f"{real}: {data} are data, not functions: no stand-in")
    functions = sorted(wanted)
    value = returns & 0xFFFFFFFF
    body = "".join(
        f"  .globl {name}\n  .type {name}, @function\n{name}:\n"
        f"  movl ${value:#x}, %eax\n  ret\n  .size {name}, .-{name}\n"
        for name in functions
    )
    source = f'  .text\n{body}  .section .note.GNU-stack,"",@progbits\n'
    with tempfile.TemporaryDirectory() as scratch:
        obj = Path(scratch) / "stub.o"
        subprocess.run(["as", "--64", "-o", str(obj), "-"], input=source, text=True, check=True)
        subprocess.run(
            ["ld", "-shared", "-soname", soname(real), "--hash-style=both", "-o", out, str(obj)],
            check=True,
        )
    return functions
