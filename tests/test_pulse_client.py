"""The PulseAudio client settings every voicedesk process runs with: the user's own, plus no
shared memory (see voicedesk/audio/pulse_client.py for the deadlock this avoids)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import REPO, cli_env
from voicedesk.audio import pulse_client

SCRIPT = (
    "import json, os\n"
    "from voicedesk import cli\n"
    "try:\n"
    "    cli.main(['--version'])\n"
    "except SystemExit:\n"
    "    pass\n"
    "path = os.environ.get('PULSE_CLIENTCONFIG', '')\n"
    "print(json.dumps({'path': path, 'pid': os.getpid(),\n"
    "                  'text': open(path).read() if path else ''}))\n"
)


def _printed(tmp_path: Path, script: str, **env: str) -> list[str]:
    """The lines `script` printed, run as a new process with `env`."""
    clean = cli_env(tmp_path)
    clean.pop("PULSE_CLIENTCONFIG", None)  # this test process's own (conftest applies it too)
    result = subprocess.run(
        [sys.executable, "-c", script], env={**clean, **env}, cwd=REPO,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _settings(tmp_path: Path, **env: str) -> dict[str, object]:
    return dict(json.loads(_printed(tmp_path, SCRIPT, **env)[-1]))


def test_the_users_own_client_settings_are_kept_and_shared_memory_is_off(
    tmp_path: Path,
) -> None:
    own = tmp_path / "config" / "pulse" / "client.conf"
    own.parent.mkdir(parents=True)
    own.write_text("default-sink = my_headphones\n")
    (own.parent / "client.conf.d").mkdir()
    (own.parent / "client.conf.d" / "10-extra.conf").write_text("auto-connect-localhost = no\n")
    seen = _settings(tmp_path)
    path, text = str(seen["path"]), str(seen["text"])
    assert path.startswith(f"/proc/{seen['pid']}/fd/")  # in memory, never on the disk
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert "default-sink = my_headphones" in lines
    assert "auto-connect-localhost = no" in lines
    assert lines[-1] == "enable-shm = no"  # last, so it wins over the user's own value


def test_a_chosen_client_settings_file_is_the_one_kept(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen.conf"
    chosen.write_text("enable-shm = yes\ndefault-source = desk_mic\n")
    seen = _settings(tmp_path, PULSE_CLIENTCONFIG=str(chosen))
    lines = [line.strip() for line in str(seen["text"]).splitlines() if line.strip()]
    assert "default-source = desk_mic" in lines
    assert lines[-1] == "enable-shm = no"


def test_a_users_pulse_source_becomes_the_default_source(tmp_path: Path) -> None:
    script = SCRIPT + "print(json.dumps(os.environ.get('PULSE_SOURCE')))\n"
    *_, seen, variable = _printed(tmp_path, script, PULSE_SOURCE="desk_mic")
    text = json.loads(seen)["text"]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert "default-source = desk_mic" in lines and lines[-1] == "enable-shm = no"
    # The variable would win over the file, so `use_source` could not choose another.
    assert json.loads(variable) is None


def _client_settings() -> list[str]:
    text = Path(os.environ["PULSE_CLIENTCONFIG"]).read_text()  # this process's (conftest)
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_the_chosen_source_is_swapped_into_the_settings_not_the_environment() -> None:
    path, environment = os.environ["PULSE_CLIENTCONFIG"], dict(os.environ)
    assert not any(line.startswith("default-source") for line in _client_settings())
    try:
        assert pulse_client.use_source("desk_mic")
        lines = _client_settings()
        assert "default-source = desk_mic" in lines and lines[-1] == "enable-shm = no"
        assert pulse_client.use_source("other_mic")
        assert [line for line in _client_settings() if line.startswith("default-source")] == [
            "default-source = other_mic"
        ]
    finally:
        assert pulse_client.use_source(None)
    assert not any(line.startswith("default-source") for line in _client_settings())
    assert dict(os.environ) == environment and os.environ["PULSE_CLIENTCONFIG"] == path


@pytest.mark.parametrize("name", ["", " padded ", "two\nlines", "nul\0"])
def test_a_source_name_no_settings_line_can_hold_is_refused(name: str) -> None:
    assert not pulse_client.use_source(name)
    assert not any(line.startswith("default-source") for line in _client_settings())


def test_no_descriptor_to_spare_leaves_the_settings_as_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(name: str) -> int:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(pulse_client.os, "memfd_create", refused)
    assert not pulse_client.use_source("desk_mic")  # the open records from the default
    assert not any(line.startswith("default-source") for line in _client_settings())
