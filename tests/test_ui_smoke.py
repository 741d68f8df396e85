import pytest

from tests.helpers.ui_fixtures import make_window, memory_keyring, store, window  # noqa: F401

# The offscreen platform warns on every window shown; it says nothing about our code.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_opens(window, qtbot):
    assert window.windowTitle() == "voicedesk"
    qtbot.waitUntil(lambda: window.picker.combo.count() > 0, timeout=5000)
    assert window.panel.box.hasFocus()
