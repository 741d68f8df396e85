"""Small things found on the way (issue 10, item 10), each seen in a screenshot and pinned here.

Screenshots of each go to test-artifacts/ (gitignored) for a human look.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QRegularExpression, QSettings
from PySide6.QtMultimedia import QMediaDevices
from PySide6.QtWidgets import QLabel, QWidget

from tests.emulator.audio import AudioSpec
from tests.helpers.pulse import PulseServer
from tests.helpers.screens import save_screenshot
from voicedesk import config, errors
from voicedesk.config import Key, load_settings
from voicedesk.ui.elided_label import ELLIPSIS
from voicedesk.ui.settings_dialog import device_labels, said_in_settings

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show

LONG = "Supercalifragilisticexpialidocious words go on and on without an end in sight " * 8


def _cut_at_a_word(shown: str, full: str) -> None:
    """`shown` is `full` up to the end of a whole word, then "…"."""
    assert shown.endswith(ELLIPSIS), shown
    kept = shown.removesuffix(ELLIPSIS)
    assert full.startswith(kept)
    assert full[len(kept)] in " ,;:", f"cut mid-word: …{kept[-12:]!r} + {full[len(kept) :][:8]!r}"


def _one_line(label: QWidget) -> None:
    assert label.height() < 2 * label.fontMetrics().height()


@pytest.mark.emulator(audio=AudioSpec(seconds_per_char=0.02), pacing=0.05, chunk_size=512)
def test_long_text_is_one_line_cut_at_a_word(window, qtbot):
    window.panel.set_text(LONG)
    with qtbot.waitSignal(window.speaker.utterance_started, timeout=10_000):
        window.speak(LONG)
    window.speak("And one more.")
    label = window.panel.now_playing
    shown = label.shown_text()
    save_screenshot(window, "long-text-playing")
    assert label.text().endswith("(+1 queued)")  # the whole text stays readable (screen readers)
    assert shown.endswith("(+1 queued)")  # the queue count is never the part cut off
    _cut_at_a_word(shown.removesuffix("  (+1 queued)"), " ".join(label.text().split()))
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    _one_line(label)
    window.stop()


def test_long_transcript_in_the_status_bar_is_cut_at_a_word(window, qtbot):
    window.talk._transcribed(LONG)
    message = window.status.currentMessage()
    save_screenshot(window, "long-transcript-status")
    _cut_at_a_word(message, "Heard: " + " ".join(LONG.split()))
    left = min(w.geometry().left() for w in (window.status.engine_label, window.status.quota_label))
    assert window.status.fontMetrics().horizontalAdvance(message) < left
    assert window.history.entries()[0].text == LONG  # the whole transcript is kept there


def _apart(first: QWidget, second: QWidget, dialog: QWidget) -> bool:
    def rect(widget: QWidget) -> QRect:
        return QRect(widget.mapTo(dialog, QPoint(0, 0)), widget.size())

    return not rect(first).intersects(rect(second))


def _fits(label: QLabel) -> bool:
    return label.height() >= label.heightForWidth(label.width())


def test_key_test_result_does_not_overlap_the_key_hint(window, qtbot, emulator):
    dialog = window.open_settings()
    qtbot.waitExposed(dialog)
    dialog.api_key.setText("sk_not_a_valid_key")
    dialog.test_key()
    qtbot.waitUntil(dialog.test_button.isEnabled, timeout=10_000)
    # A long failure wraps onto three lines: the dialog grows instead of squeezing it.
    dialog._key_failed(
        errors.VoiceDeskError(
            "The connection dropped while speaking; the rest of the text was not played. "
            "Could not reach ElevenLabs. Check your network connection."
        )
    )
    note = dialog.findChild(QLabel, "key-note")
    # The dialog grows on Qt's posted layout requests: wait for them (in a long run one pass of
    # the event loop was not always enough), bounded.
    try:
        qtbot.waitUntil(lambda: _fits(dialog.key_result) and _fits(note), timeout=5_000)
    finally:
        save_screenshot(dialog, "settings-after-test-key")
    assert dialog.key_result.isVisible()
    assert _apart(dialog.key_result, note, dialog)
    assert _apart(dialog.key_result, dialog.base_url, dialog)
    assert _apart(note, dialog.api_key, dialog)
    dialog.reject()


def test_a_rejected_key_is_explained_without_sending_you_to_settings(window, qtbot, emulator):
    dialog = window.open_settings()
    dialog.api_key.setText("sk_not_a_valid_key")
    dialog.test_key()
    qtbot.waitUntil(dialog.test_button.isEnabled, timeout=10_000)
    save_screenshot(dialog, "settings-key-rejected")
    result = dialog.key_result.text()
    assert result.startswith("The ElevenLabs API key was rejected.")
    assert "Settings" not in result
    dialog.reject()


def test_no_message_shown_in_settings_points_to_settings():
    messages = [
        cls.default_message
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.VoiceDeskError)
    ]
    messages.append(
        "No ElevenLabs API key is configured: set ELEVENLABS_API_KEY or add it in Settings."
    )
    assert any("in Settings" in m for m in messages)  # the check below has something to check
    for message in messages:
        here = said_in_settings(message)
        assert "Settings" not in here and here, (message, here)


def test_no_keyring_banner_says_where_to_keep_the_key(make_window, qtbot):
    window = make_window(
        api_key=None, api_key_source="", engine="elevenlabs", base_url=None, keyring_ok=False
    )
    save_screenshot(window, "no-keyring-no-key")
    text = window.banner.text
    assert "ELEVENLABS_API_KEY" in text
    assert str(config.user_config_dir() / ".env") in text
    assert "Settings" not in text  # Settings can't keep a key without a keyring
    assert not window.banner.action_button.isVisible()
    dialog = window.open_settings()
    note = dialog.findChild(QLabel, "key-note")
    assert str(config.user_config_dir() / ".env") in note.text()
    dialog.reject()


def test_device_labels_tell_twins_apart():
    labels = device_labels([("USB Audio", "usb-1"), ("USB Audio", "usb-2"), ("HDMI", "hdmi")])
    assert labels == ["USB Audio (usb-1)", "USB Audio (usb-2)", "HDMI"]
    # An id that is just the description again says nothing: number them instead.
    assert device_labels([("Same", "Same"), ("Same", "Same")]) == ["Same (1)", "Same (2)"]


@pytest.fixture
def twin_sinks(pulse: PulseServer, qtbot) -> Iterator[tuple[str, str]]:
    """Two output devices with the same description on the private sound server."""
    names = ("vd_twin_a", "vd_twin_b")
    sinks = [
        ("module-null-sink", f"sink_name={name}", "sink_properties=device.description=Twin")
        for name in names
    ]

    def listed() -> bool:
        return sum(d.description() == "Twin" for d in QMediaDevices.audioOutputs()) == 2

    with pulse.modules(*sinks):
        qtbot.waitUntil(listed, timeout=10_000)  # Qt follows the server's device events
        yield names


@pytest.mark.audio
def test_two_outputs_with_the_same_description_can_be_told_apart(window, twin_sinks):
    dialog = window.open_settings()
    save_screenshot(dialog, "settings-twin-outputs")
    combo = dialog.output
    labels = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert labels["vd_twin_a"] == "Twin (vd_twin_a)"
    assert labels["vd_twin_b"] == "Twin (vd_twin_b)"
    assert len(set(labels.values())) == len(labels)
    dialog.reject()


def test_values_from_the_environment_are_shown_read_only_and_not_saved(
    make_window, qtbot, store: QSettings, emulator, memory_keyring
):
    store.setValue(Key.BASE_URL, "https://saved.example")
    store.setValue(Key.ENGINE, "auto")
    store.sync()
    window = make_window(
        api_key_source="environment", engine="elevenlabs",
        from_environment=frozenset({"base_url", "engine"}),
    )  # fmt: skip
    dialog = window.open_settings()
    assert dialog.base_url.isReadOnly()
    assert not dialog.engine.isEnabled()
    assert dialog.api_key.isReadOnly()
    for name, variable in (("base_url", "ELEVENLABS_BASE_URL"), ("engine", "VOICEDESK_ENGINE")):
        note = dialog.findChild(QLabel, f"env-note-{name}")
        assert note is not None and variable in note.text() and "not saved" in note.text()
    key_note = dialog.findChild(QLabel, "key-note")
    assert "ELEVENLABS_API_KEY" in key_note.text()
    qtbot.waitExposed(dialog)
    save_screenshot(dialog, "settings-from-environment")
    for note in (key_note, *dialog.findChildren(QLabel, QRegularExpression("^env-note-"))):
        assert _fits(note)
    assert _apart(key_note, dialog.base_url, dialog)
    assert _apart(dialog.findChild(QLabel, "env-note-engine"), dialog.fallback, dialog)
    dialog.speed.setValue(1.1)
    dialog.accept()
    qtbot.waitUntil(lambda: window.settings.speed == pytest.approx(1.1))
    store.sync()
    saved = Path(store.fileName()).read_text()
    assert emulator.base_url not in saved  # the one-off endpoint is not made permanent
    assert load_settings(store).base_url == "https://saved.example"
    assert store.value(Key.ENGINE) == "auto"
    assert store.value(Key.SPEED) in (1.1, "1.1")
    assert window.settings.base_url == emulator.base_url  # still used for this run
    assert memory_keyring.secrets == {}  # nor was the key from the environment stored
