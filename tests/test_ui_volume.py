"""The volume slider: applied to the speaker at once, remembered in the settings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from voicedesk.config import load_settings

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show


def test_starts_at_the_saved_volume(make_window):
    window = make_window(volume=0.4)
    assert window.volume.slider.value() == 40
    assert window.speaker.player.volume == pytest.approx(0.4)
    assert window.volume.slider.accessibleName() == "Volume"


def test_keys_change_it_and_it_is_remembered(window, qtbot, store):
    slider = window.volume.slider
    assert slider.value() == 100
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Left)
    assert slider.value() == 95
    qtbot.keyClick(slider, Qt.Key.Key_PageDown)
    assert slider.value() == 75
    assert window.speaker.player.volume == pytest.approx(0.75)
    assert window.settings.volume == pytest.approx(0.75)
    assert load_settings(store).volume == pytest.approx(0.75)


def test_alt_l_reaches_the_slider(window, qtbot):
    window.panel.box.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    assert window.volume.slider.hasFocus()


def test_a_drag_plays_louder_at_once_and_is_saved_when_let_go(window, store):
    slider = window.volume.slider
    slider.setSliderDown(True)
    slider.setValue(30)
    assert window.speaker.player.volume == pytest.approx(0.3)  # heard while dragging
    assert load_settings(store).volume == pytest.approx(1.0)  # not a write per step
    slider.setSliderDown(False)  # emits sliderReleased, as letting go of the mouse does
    assert load_settings(store).volume == pytest.approx(0.3)
