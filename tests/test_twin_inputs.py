"""Two microphones with the same description (issue 10, item 10): Settings tells them apart, a
saved choice names the same one after a restart, and that one is what records."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtMultimedia import QMediaDevices

from tests.helpers.pulse import MIC_SINK, PulseServer
from voicedesk.audio.capture.mic_capture import MicCapture
from voicedesk.config import load_settings

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = [pytest.mark.audio, pytest.mark.qt_log_ignore("propagateSizeHints")]

TWINS = ("vd_twin_in_a", "vd_twin_in_b")
DESCRIPTION = "TwinMic"  # (a space would need quoting twice over in pactl's arguments)


@pytest.fixture
def twin_sources(pulse: PulseServer, qtbot) -> Iterator[tuple[str, str]]:
    """Two inputs with the same description on the private sound server (both hear the
    virtual microphone)."""
    remaps = [
        ("module-remap-source", f"master={MIC_SINK}.monitor", f"source_name={name}",
         f"source_properties=device.description={DESCRIPTION}")
        for name in TWINS
    ]  # fmt: skip

    def listed() -> bool:
        return sum(d.description() == DESCRIPTION for d in QMediaDevices.audioInputs()) == 2

    with pulse.modules(*remaps):
        qtbot.waitUntil(listed, timeout=10_000)  # Qt follows the server's device events
        yield TWINS


def test_settings_tells_twin_microphones_apart_and_keeps_the_choice(
    make_window, twin_sources, store
) -> None:
    window = make_window()
    dialog = window.open_settings()
    combo = dialog.input
    labels = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert labels["pulse:vd_twin_in_a"] == f"{DESCRIPTION} (vd_twin_in_a)"
    assert labels["pulse:vd_twin_in_b"] == f"{DESCRIPTION} (vd_twin_in_b)"
    assert len(set(labels.values())) == len(labels)  # no two lines alike
    combo.setCurrentIndex(combo.findData("pulse:vd_twin_in_b"))
    dialog.accept()
    store.sync()
    saved = load_settings(store).input_device  # what a restart reads
    assert saved == "pulse:vd_twin_in_b"

    again = make_window(input_device=saved).open_settings()  # as after a restart
    assert again.input.currentData() == "pulse:vd_twin_in_b"
    assert again.input.currentText() == f"{DESCRIPTION} (vd_twin_in_b)"
    again.reject()


def _source_of_our_stream(pulse: PulseServer) -> str:
    """The name of the source this process records from (its one recording stream)."""
    names = dict(re.findall(r"Source #(\d+)\n.*?\n\s+Name: (\S+)", pulse.pactl("list", "sources")))
    ours = [
        block
        for block in pulse.pactl("list", "source-outputs").split("\n\n")
        if f'application.process.id = "{os.getpid()}"' in block
    ]
    assert len(ours) == 1, ours
    found = re.search(r"Source: (\d+)", ours[0])
    assert found is not None
    return names[found[1]]


@pytest.mark.parametrize("twin", TWINS)
def test_the_chosen_twin_is_the_one_that_records(pulse: PulseServer, twin_sources, twin) -> None:
    capture = MicCapture(f"pulse:{twin}")
    try:
        capture.start()
        assert _source_of_our_stream(pulse) == twin
    finally:
        capture.close()


def test_a_chosen_source_that_is_gone_records_from_the_default(pulse: PulseServer) -> None:
    capture = MicCapture("pulse:vd_unplugged_headset")
    try:
        capture.start()  # no error: what the user is about to say is not lost
        assert _source_of_our_stream(pulse) == f"{MIC_SINK}.monitor"
    finally:
        capture.close()
    # The choice was for that open only: later connections get the default source again.
    settings = Path(os.environ["PULSE_CLIENTCONFIG"]).read_text().splitlines()
    assert not [line for line in settings if line.strip().startswith("default-source")]
