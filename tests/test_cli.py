"""The command line as a user meets it: `--version`, `voices`, and one-line errors."""

from __future__ import annotations

from pathlib import Path

from tests.emulator.config import TEST_API_KEY
from tests.emulator.faults import Fault
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env, run_cli
from voicedesk import __version__
from voicedesk.config import DEFAULT_VOICE_ID

WRONG_KEY = "sk_not_a_real_key_abcdef123456"


def test_version(tmp_path: Path) -> None:
    result = run_cli("--version", env=cli_env(tmp_path))
    assert result.returncode == 0
    assert result.stdout.strip() == f"voicedesk {__version__}"


def test_voices_lists_id_tab_name_from_elevenlabs(tmp_path: Path, emulator: Emulator) -> None:
    result = run_cli("voices", env=cli_env(tmp_path, TEST_API_KEY, emulator.base_url))
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert all(len(row) == 2 and all(row) for row in rows)
    assert DEFAULT_VOICE_ID in {voice_id for voice_id, _ in rows}


def test_voices_offline_without_any_key(tmp_path: Path) -> None:
    result = run_cli("voices", env=cli_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\t") == 1


def test_elevenlabs_without_a_key_says_how_to_add_one(tmp_path: Path) -> None:
    result = run_cli("voices", "--engine", "elevenlabs", env=cli_env(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("voicedesk: No ElevenLabs API key")
    assert "Traceback" not in result.stderr


def test_a_rejected_key_is_one_clear_line_without_the_key(
    tmp_path: Path, emulator: Emulator
) -> None:
    result = run_cli("voices", env=cli_env(tmp_path, WRONG_KEY, emulator.base_url))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "key was rejected" in result.stderr
    assert WRONG_KEY not in result.stderr + result.stdout


def test_exhausted_quota_is_said_plainly(tmp_path: Path, emulator: Emulator) -> None:
    emulator.always("voices", Fault.quota_exceeded())
    result = run_cli("voices", env=cli_env(tmp_path, TEST_API_KEY, emulator.base_url))
    assert result.returncode == 1
    assert "quota is used up" in result.stderr
