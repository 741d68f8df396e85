"""Running `python -m voicedesk` as a user would: a subprocess with a clean, private environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cli_env(
    tmp_path: Path, api_key: str | None = None, base_url: str | None = None
) -> dict[str, str]:
    """The test process's environment (it carries the private PulseAudio server), with its own
    config directory, no keyring, and the given ElevenLabs key and endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELEVENLABS_", "VOICEDESK_"))}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        HOME=str(tmp_path / "home"),
        # No D-Bus secret service here: the null backend reads nothing and writes nothing.
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        PYTHONPATH=str(REPO),
    )
    if api_key is not None:
        env["ELEVENLABS_API_KEY"] = api_key
    if base_url is not None:
        env["ELEVENLABS_BASE_URL"] = base_url
    return env


def run_cli(
    *args: str,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 60,
    prefix: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """`voicedesk ARGS...` (optionally under `prefix`, e.g. strace), in a scratch directory."""
    cwd = Path(env["HOME"])
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [*prefix, sys.executable, "-m", "voicedesk", *args],
        env=env, cwd=cwd, input=input, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
