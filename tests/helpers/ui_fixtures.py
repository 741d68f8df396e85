"""Fixtures for the window tests: settings in a temp dir, an in-memory keyring, the window.

Test modules load this with `pytest_plugins`; `emulator` comes from tests/emulator/plugin.py.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import QSettings

from tests.emulator import TEST_API_KEY
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.ui_fakes import StubRecorder
from voicedesk.config import Settings
from voicedesk.engines.factory import create_engine
from voicedesk.errors import VoiceDeskError
from voicedesk.ui.main_window import MainWindow
from voicedesk.workers.speaker import Speaker
from voicedesk.workers.transcribe import Transcriber


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous: KeyringBackend = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> QSettings:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("ELEVENLABS_API_KEY", "ELEVENLABS_BASE_URL", "VOICEDESK_ENGINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    return QSettings(str(tmp_path / "config" / "voicedesk.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, store, memory_keyring, emulator):
    gc.collect()  # what earlier tests left, on this (the GUI) thread, before any worker starts
    gc.disable()  # until tests/conftest.py's `pytest_runtest_logfinish` collects here again
    made: list[MainWindow] = []

    def make(
        system_wide: bool = False,
        ptt_socket: str | None = None,
        keyring_ok: bool = True,
        **changes: object,
    ) -> MainWindow:
        values: dict[str, object] = {
            "api_key": TEST_API_KEY,
            "api_key_source": "keyring",
            "base_url": emulator.base_url,
            "engine": "elevenlabs",
        }
        values.update(changes)
        settings = Settings(**values)  # type: ignore[arg-type]
        try:
            engine = create_engine(settings)
        except VoiceDeskError:
            engine = None  # the window says why and goes offline
        start = engine or create_engine(settings, "local")
        window = MainWindow(
            settings,
            Speaker(start),
            Transcriber(start),
            StubRecorder(),
            engine=engine,
            store=store,
            system_wide_hotkey=system_wide,
            keyring_ok=keyring_ok,
            ptt_socket=ptt_socket,
        )
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.shutdown()


@pytest.fixture
def window(make_window) -> MainWindow:
    win = make_window()
    return win
