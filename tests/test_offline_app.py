"""No key anywhere: the app still speaks, offline, without opening a network connection."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.helpers.cli import cli_env, run_cli
from tests.helpers.pulse import OUT_RATE, PulseServer

pytest_plugins = ["tests.helpers.ui_fixtures"]
pytestmark = [pytest.mark.audio, pytest.mark.slow]

_INET_CONNECT = re.compile(r"connect\(\d+, \{sa_family=AF_INET6?,")


def test_say_with_no_key_is_heard_and_touches_no_network(
    tmp_path: Path, pulse: PulseServer
) -> None:
    trace = tmp_path / "net.txt"
    strace = ("strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace))
    with pulse.record_output() as heard:
        result = run_cli(
            "say", "Nothing leaves this machine.", env=cli_env(tmp_path), prefix=strace
        )
    assert result.returncode == 0, result.stderr
    loud = np.flatnonzero(np.abs(heard.samples()) > 0.02)
    assert loud.size and (loud[-1] - loud[0]) / OUT_RATE > 1.0  # a sentence, not a click
    connects = trace.read_text().splitlines()
    assert any("AF_UNIX" in line for line in connects)  # the sound server: tracing works
    assert not [line for line in connects if _INET_CONNECT.search(line)]


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's note on show
def test_the_window_with_no_key_speaks_offline(make_window, qtbot, pulse: PulseServer) -> None:
    window = make_window(api_key=None, api_key_source="", engine="auto", base_url=None)
    assert "Offline" in window.status.engine_label.text()
    qtbot.waitUntil(window.picker.combo.isEnabled)  # the voice list is in; the window is live
    window.panel.box.setFocus()
    qtbot.keyClicks(window.panel.box, "Hello from the offline voice.")
    with pulse.record_output() as heard:
        with qtbot.waitSignal(window.speaker.utterance_finished, timeout=60_000):
            qtbot.keyClick(window.panel.box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert heard.wait_for_sound(5)
    assert window.panel.text == "Hello from the offline voice."
