"""Settings: the key goes to the keyring (never the settings file), the rest round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from tests.emulator import TEST_API_KEY
from voicedesk.config import KEYRING_SERVICE, KEYRING_USER, load_settings

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen's note on every show


def test_round_trip(window, qtbot, store: QSettings, memory_keyring):
    dialog = window.open_settings()
    dialog.api_key.setText("sk_brand_new_key")
    dialog.speed.setValue(1.1)
    dialog.stability.setValue(dialog.stability.minimum())  # "Voice default"
    dialog.fallback.setChecked(True)
    dialog.engine.setCurrentIndex(dialog.engine.findData("elevenlabs"))
    # The push-to-talk key is captured by pressing it.
    dialog.ptt.setFocus()
    qtbot.mouseClick(dialog.ptt, Qt.MouseButton.LeftButton)
    assert dialog.ptt.text() == "Press a key…"
    qtbot.keyClick(dialog.ptt, Qt.Key.Key_F8)
    assert dialog.ptt.key == "F8"
    dialog.accept()

    key = (KEYRING_SERVICE, KEYRING_USER)
    qtbot.waitUntil(lambda: memory_keyring.secrets.get(key) == "sk_brand_new_key", timeout=5000)
    store.sync()
    assert "sk_brand_new_key" not in Path(store.fileName()).read_text()
    loaded = load_settings(store)
    assert loaded.api_key == "sk_brand_new_key"
    assert loaded.api_key_source == "keyring"
    assert loaded.speed == pytest.approx(1.1)
    assert loaded.stability is None
    assert loaded.offline_fallback is True
    assert loaded.ptt_key == "F8"
    # …and the window uses them at once.
    assert window.ptt.key_name == "F8"
    assert "F8" in window.ptt_bar.button.text()
    assert window.engines.engine.voice_settings == {"speed": 1.1}


def test_cancel_changes_nothing(window, qtbot, memory_keyring):
    dialog = window.open_settings()
    dialog.api_key.setText("sk_not_this_one")
    dialog.reject()
    assert memory_keyring.secrets == {}
    assert window.settings.api_key == TEST_API_KEY


def test_test_key_button(window, qtbot, emulator):
    dialog = window.open_settings()
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=5000)
    assert dialog.key_result.text().startswith("The key works.")
    assert "characters left" in dialog.key_result.text()

    dialog.api_key.setText("sk_wrong")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=5000)
    assert "rejected" in dialog.key_result.text()
    dialog.reject()


def test_every_control_has_an_accessible_name(window, qtbot):
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
        QPlainTextEdit,
    )

    dialog = window.open_settings()
    kinds = (QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit)
    for root in (window, dialog):
        for kind in kinds:
            for widget in root.findChildren(kind):
                internal = isinstance(widget.parent(), QComboBox | QAbstractSpinBox)
                if widget.window() is not root or internal or widget.objectName()[:3] == "qt_":
                    continue  # Qt's own parts: combo and spin box insides, menu bar extension
                named = widget.accessibleName() or (
                    isinstance(widget, QAbstractButton) and widget.text()
                )
                assert named, f"{type(widget).__name__} {widget.objectName()} has no name"
    dialog.reject()
