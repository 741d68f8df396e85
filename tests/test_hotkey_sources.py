"""System-wide push to talk: the GlobalShortcuts portal (a fake one on a private session bus)
and `voicedesk ptt` over the local socket, each hold one recording and one request."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.helpers.processes import LineProcess
from tests.helpers.session_bus import fake_portal, private_session_bus
from voicedesk.hotkeys.ptt_socket import server_name
from voicedesk.hotkeys.source import HotkeySource
from voicedesk.ui import hotkey

pytest_plugins = ["tests.helpers.ui_fixtures"]
pytestmark = [pytest.mark.qt_log_ignore("propagateSizeHints"), pytest.mark.timeout(60)]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Our own XDG_RUNTIME_DIR: the `voicedesk ptt` socket of a real session is left alone."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return runtime


@pytest.fixture
def portal(monkeypatch: pytest.MonkeyPatch, runtime_dir: Path) -> Iterator[LineProcess]:
    with private_session_bus() as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        monkeypatch.setenv("VOICEDESK_HOTKEY_SOURCE", "portal")
        with fake_portal() as fake:
            yield fake


def hold(portal: LineProcess, window, qtbot, *, repeats: int = 0) -> None:
    portal.send("activate")
    qtbot.waitUntil(lambda: window.recorder.recording, timeout=5000)
    if repeats:
        portal.send(f"repeat {repeats}")  # auto-repeat: Activated again while held
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=10000):
        portal.send("deactivate")


def test_portal_shortcut_one_recording_per_hold(portal, make_window, qtbot, emulator):
    window = make_window(system_wide=True, live_transcript=False)
    qtbot.waitUntil(lambda: window.ptt.source_kind == "portal", timeout=10000)
    assert "desktop portal" in window.ptt.note
    assert portal.expect("bound") == "bound push-to-talk F9"
    assert "register voicedesk" in portal.seen  # GNOME's host registry, before the session
    assert window.ptt_bar.note.text() == window.ptt.note

    hold(portal, window, qtbot, repeats=5)
    assert window.recorder.starts == 1
    assert len(emulator.requests("stt")) == 1
    # A second Deactivated (doubled event) after the release: nothing happens; the next hold
    # is one more recording, not two.
    portal.send("deactivate")
    hold(portal, window, qtbot)
    assert window.recorder.starts == 2
    assert len(emulator.requests("stt")) == 2


def test_without_a_portal_the_key_works_in_the_window_and_says_how_else(
    make_window, qtbot, monkeypatch, runtime_dir
):
    with private_session_bus() as address:  # a bus with no portal on it
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        monkeypatch.setenv("VOICEDESK_HOTKEY_SOURCE", "portal")
        window = make_window(system_wide=True, live_transcript=False)
        qtbot.waitUntil(lambda: window.ptt.note.startswith("Only while"), timeout=10000)
    assert window.ptt.source_kind == "window"
    assert "no GlobalShortcuts portal" in window.ptt.note
    assert "voicedesk ptt" in window.ptt.note
    dialog = window.open_settings()
    assert dialog.hotkey_source.text() == window.ptt.note
    dialog.reject()


def ptt(*action: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "voicedesk", "ptt", *action],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_ptt(qtbot, *action: str) -> subprocess.CompletedProcess:
    """`voicedesk ptt …` while the event loop runs (the window answers from it)."""
    child = ptt(*action)
    qtbot.waitUntil(lambda: child.poll() is not None, timeout=20000)
    out, err = child.communicate()
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def test_ptt_command_press_release_is_one_recording(make_window, qtbot, emulator, runtime_dir):
    window = make_window(ptt_socket=server_name(), live_transcript=False)
    assert Path(server_name()).parent == runtime_dir
    assert run_ptt(qtbot, "press").returncode == 0
    assert window.recorder.recording
    assert run_ptt(qtbot, "press").returncode == 0  # a key binding that repeats
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=10000):
        done = run_ptt(qtbot, "release")
    assert (done.returncode, done.stderr) == (0, "")
    assert window.recorder.starts == 1
    assert len(emulator.requests("stt")) == 1
    assert run_ptt(qtbot, "release").returncode == 0  # released already: nothing happens

    assert run_ptt(qtbot, "toggle").returncode == 0
    assert window.recorder.recording
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=10000):
        run_ptt(qtbot, "toggle")
    assert window.recorder.starts == 2
    assert len(emulator.requests("stt")) == 2


def test_ptt_command_without_a_window_says_so(runtime_dir):
    done = subprocess.run(
        [sys.executable, "-m", "voicedesk", "ptt", "press"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "voicedesk: no voicedesk window is running (start it with `voicedesk`)"
    ]


class ScriptedSource(HotkeySource):
    """A source the test drives: X11 auto-repeat through pynput looks like this."""

    kind = "scripted"
    made: ClassVar[list[ScriptedSource]] = []

    def __init__(self, key_name: str) -> None:
        super().__init__()
        ScriptedSource.made.append(self)

    def start(self) -> None:
        self.ready.emit("System-wide (scripted)")

    def stop(self) -> None:
        pass


def test_auto_repeat_pairs_and_doubles_from_a_source_are_one_request(
    make_window, qtbot, emulator, monkeypatch, runtime_dir
):
    ScriptedSource.made.clear()
    monkeypatch.setattr(hotkey, "candidates", lambda platform: ([ScriptedSource], ""))
    window = make_window(system_wide=True, live_transcript=False)
    source = ScriptedSource.made[-1]
    assert window.ptt.note == "F9: System-wide (scripted)."
    source.down.emit()
    source.down.emit()  # doubled
    for _ in range(5):  # held: release+press pairs a few ms apart
        source.up.emit()
        source.down.emit()
    assert window.recorder.starts == 1
    with qtbot.waitSignal(window.transcriber.transcribed, timeout=10000):
        source.up.emit()
    source.up.emit()  # doubled release: nothing
    assert window.recorder.starts == 1
    assert len(emulator.requests("stt")) == 1


def test_a_source_that_fails_later_hands_over_to_the_next(
    make_window, qtbot, monkeypatch, runtime_dir
):
    ScriptedSource.made.clear()
    monkeypatch.setattr(
        hotkey, "candidates", lambda platform: ([ScriptedSource, ScriptedSource], "")
    )
    window = make_window(system_wide=True, live_transcript=False)
    first = ScriptedSource.made[-1]
    first.down.emit()
    assert window.recorder.recording
    first.failed.emit("the desktop portal stopped answering")
    assert not window.recorder.recording  # a hold whose release can't come is ended
    assert len(ScriptedSource.made) == 2
    assert window.ptt.is_global
