import pytest

# The offscreen platform warns on every window shown; it says nothing about our code.
pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def test_opens(window, qtbot):
    assert window.windowTitle() == "voicedesk"
    qtbot.waitUntil(lambda: window.picker.combo.count() > 0, timeout=5000)
    assert window.panel.box.hasFocus()
