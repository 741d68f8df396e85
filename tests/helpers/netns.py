"""Run `voicedesk` against an endpoint at a non-loopback address that exists only in a private
network namespace: `unshare -rn python -m tests.helpers.netns ADDRESS [ENV=VALUE...] -- ARGS`.

Inside, the address is put on the namespace's own loopback device and the emulator listens
there, so both ends are inside and nothing can leave the machine (the namespace has no other
device). The command runs under strace, which records every `connect`; the result is one JSON
line: exit status, stdout, stderr, the emulator's request count and the connects to ADDRESS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.emulator.server import Emulator

REPO = Path(__file__).resolve().parents[2]


def run_in_namespace(
    address: str, env: dict[str, str], args: list[str], timeout: float = 60
) -> dict[str, object]:
    """What `main` reports, run under `unshare -rn` (a user and network namespace)."""
    extra = [f"{k}={v}" for k, v in env.items()]
    result = subprocess.run(
        ["unshare", "-rn", sys.executable, "-m", "tests.helpers.netns", address, *extra, "--",
         *args],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    address, rest = argv[0], argv[1:]
    split = rest.index("--")
    extra = dict(item.split("=", 1) for item in rest[:split])
    args = rest[split + 1 :]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], check=True)
    strace = shutil.which("strace")
    assert strace, "strace is not installed"
    with Emulator(host=address) as emu, tempfile.TemporaryDirectory() as scratch:
        trace = Path(scratch) / "connect.trace"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "VOICE"))}
        env.update(
            XDG_CONFIG_HOME=str(Path(scratch) / "config"),
            HOME=scratch,
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            PYTHONPATH=str(REPO),
            QT_QPA_PLATFORM="offscreen",
            ELEVENLABS_BASE_URL=emu.base_url,
        )
        env.update(extra)
        result = subprocess.run(
            [strace, "-f", "-qq", "-e", "trace=connect", "-o", str(trace),
             sys.executable, "-m", "voicedesk", *args],
            env=env, cwd=scratch, capture_output=True, text=True, timeout=45,
        )  # fmt: skip
        connects = [line for line in trace.read_text().splitlines() if address in line]
        report = {
            "returncode": result.returncode,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "requests": len(emu.requests()),
            "connects": connects,
            "base_url": emu.base_url,
        }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
