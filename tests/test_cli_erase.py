"""Erase after use from the command line (issue 15): `say` and `listen` delete what ElevenLabs
kept of their requests before they exit, against the emulator with the real SDK. A command has
no later to retry in: a failed deletion is one warning line, and the command's result stands."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.faults import Fault
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.pulse import PulseServer

pytestmark = [pytest.mark.audio, pytest.mark.timeout(90)]


def _env(tmp_path: Path, emulator: Emulator, erase: bool = True) -> dict[str, str]:
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    env["VOICEDESK_ERASE_AFTER_USE"] = "1" if erase else "0"
    return env


def test_say_erases_its_history_item(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    result = run_cli("say", "Erase me afterwards.", env=_env(tmp_path, emulator))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(emulator.requests("tts")) == 1
    assert emulator.history_items == {}


def test_say_finds_its_item_by_request_id_when_the_header_is_missing(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    emulator.configure(history_item_header=False)
    result = run_cli("say", "Find me by my request.", env=_env(tmp_path, emulator))
    assert result.returncode == 0, result.stderr
    assert emulator.history_items == {}


def test_say_keeps_its_item_when_erasing_is_off(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    result = run_cli("say", "Keep me.", env=_env(tmp_path, emulator, erase=False))
    assert result.returncode == 0, result.stderr
    assert list(emulator.history_items.values()) == ["Keep me."]


def test_a_failed_deletion_is_one_warning_and_the_speech_stands(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    emulator.always("history", Fault.server_error())
    result = run_cli("say", "Hard to erase.", env=_env(tmp_path, emulator))
    assert result.returncode == 0
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert result.stderr.startswith("voicedesk: warning: 1 item(s) were not erased from ElevenLabs")
    assert len(emulator.history_items) == 1  # left there, and the user was told


def test_listen_prints_the_transcript_then_erases_it(
    tmp_path: Path, pulse: PulseServer, emulator: Emulator
) -> None:
    result = run_cli("listen", "--seconds", "1", env=_env(tmp_path, emulator), input="")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from the emulator\n"
    assert len(emulator.requests("stt")) == 1
    assert emulator.transcripts == {}
