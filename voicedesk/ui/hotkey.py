"""The push-to-talk key: in the window through Qt's key events, system-wide through `pynput`.

In the window: key press and release on the application's event stream, auto-repeat ignored,
so holding the key is one press and one release. System-wide: `pynput` where it can see every
key (X11, Windows, macOS). On Wayland a client can't see keys sent to other windows, so the key
works in the window only and `note` says so (USERS.md #1) instead of failing silently.

Both paths feed one state machine, so a key seen by both (the window is focused) counts once.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)

# Auto-repeat can arrive as release+press pairs a few ms apart: always for pynput on X11, and
# for Qt's own key events where the X server lacks detectable auto-repeat (seen under Xvfb:
# pairs 3 ms apart, not flagged isAutoRepeat). A key release is trusted only when no press
# follows within this window; the button's release (a mouse) is taken at once.
RELEASE_DEBOUNCE_MS = 30
_GLOBAL_PLATFORMS = {"xcb", "windows", "cocoa"}


def qt_key(name: str) -> int:
    sequence = QKeySequence(name)
    return sequence[0].key().value if sequence.count() else 0


def global_hotkeys_unavailable() -> str:
    """Why system-wide keys can't work here, or "" when they can."""
    platform = QGuiApplication.platformName()
    if platform == "wayland" or os.environ.get("XDG_SESSION_TYPE") == "wayland":
        return "Wayland: the push-to-talk key works while the voicedesk window is focused."
    if platform not in _GLOBAL_PLATFORMS:
        return f"The push-to-talk key works in the window only (platform {platform})."
    return ""


def _pynput_key(name: str) -> Any:
    """The pynput key for a Qt key name, or None when pynput has no such key."""
    from pynput import keyboard

    aliases = {"pgup": "page_up", "pgdown": "page_down", "ins": "insert", "del": "delete",
               "scrolllock": "scroll_lock", "numlock": "num_lock", "capslock": "caps_lock",
               "print": "print_screen", "esc": "esc", "return": "enter"}  # fmt: skip
    lowered = name.lower()
    attribute = aliases.get(lowered, lowered)
    if hasattr(keyboard.Key, attribute):
        return getattr(keyboard.Key, attribute)
    if len(name) == 1:
        return keyboard.KeyCode.from_char(lowered)
    return None


class _GlobalListener(QObject):
    """pynput's listener; its callbacks run on pynput's thread and only emit signals."""

    down = Signal()
    up = Signal()

    def __init__(self, key_name: str) -> None:
        super().__init__()
        self._target = _pynput_key(key_name)
        if self._target is None:
            raise ValueError(f"{key_name} can't be used as a system-wide key")
        from pynput import keyboard

        self._listener = keyboard.Listener(on_press=self._on_press, on_release=self._on_release)
        self._listener.daemon = True

    def start(self) -> None:
        self._listener.start()
        self._listener.wait()

    def stop(self) -> None:
        self._listener.stop()
        self._listener.join(2)

    def _matches(self, key: Any) -> bool:
        canonical = self._listener.canonical(key) if key is not None else None
        return key == self._target or canonical == self._target

    def _on_press(self, key: Any) -> None:
        if self._matches(key):
            self.down.emit()  # queued to the GUI thread: the receiver lives there

    def _on_release(self, key: Any) -> None:
        if self._matches(key):
            self.up.emit()


class PushToTalkKey(QObject):
    pressed = Signal()
    released = Signal()

    def __init__(self, window: QWidget, key_name: str = "F9") -> None:
        super().__init__(window)
        self._window = window
        self._key_name = key_name
        self._key = qt_key(key_name)
        self._down = False
        self._global: _GlobalListener | None = None
        self.note = ""
        self._release_timer = QTimer(self)
        self._release_timer.setSingleShot(True)
        self._release_timer.setInterval(RELEASE_DEBOUNCE_MS)
        self._release_timer.timeout.connect(self._release)
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)
        QGuiApplication.instance().applicationStateChanged.connect(self._app_state)  # type: ignore[union-attr]

    @property
    def key_name(self) -> str:
        return self._key_name

    @property
    def is_down(self) -> bool:
        return self._down

    @property
    def is_global(self) -> bool:
        return self._global is not None

    def set_key(self, key_name: str, system_wide: bool = True) -> None:
        self.stop_global()
        self._key_name = key_name
        self._key = qt_key(key_name)
        if system_wide:
            self.start_global()

    def start_global(self) -> str:
        """Listen system-wide where possible; returns (and keeps in `note`) why not, or ""."""
        self.stop_global()
        self.note = global_hotkeys_unavailable()
        if self.note:
            return self.note
        try:
            listener = _GlobalListener(self._key_name)
            listener.down.connect(self._global_down)
            listener.up.connect(self._global_up)
            listener.start()
        except Exception as error:  # no X connection, missing permission (macOS), odd key…
            log.info("system-wide push-to-talk unavailable: %s", error)
            self.note = (
                f"{self._key_name} works while the window is focused "
                "(system-wide keys are not available here)."
            )
            return self.note
        self._global = listener
        return ""

    def stop_global(self) -> None:
        if self._global is not None:
            self._global.stop()
            self._global.deleteLater()
            self._global = None

    def shutdown(self) -> None:
        self.stop_global()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    # -- the one state machine -----------------------------------------------------------

    @Slot()
    def press(self) -> None:
        self._release_timer.stop()
        if not self._down:
            self._down = True
            self.pressed.emit()

    @Slot()
    def _release(self) -> None:
        if self._down:
            self._down = False
            self.released.emit()

    @Slot()
    def release(self) -> None:
        self._release_timer.stop()
        self._release()

    def _window_has_keys(self) -> bool:
        # While we are active the window sees the key itself, with reliable auto-repeat
        # flags; pynput's copies arrive later from another thread, and a stale repeat
        # landing after the release would start a second recording.
        return QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive

    @Slot()
    def _global_down(self) -> None:
        if not self._window_has_keys():
            self.press()

    @Slot()
    def _global_up(self) -> None:
        if self._down and not self._window_has_keys():
            self._release_timer.start()

    @Slot(Qt.ApplicationState)
    def _app_state(self, state: Qt.ApplicationState) -> None:
        # Focus lost while held: the window will never see the release, so end it now.
        if state != Qt.ApplicationState.ApplicationActive and self._global is None:
            self.release()

    # -- in the window -------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride):
            return False
        assert isinstance(event, QKeyEvent)
        if not self._key or event.key() != self._key or not self._in_window(watched):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # ours: no shortcut may take this key
            return False
        if not event.isAutoRepeat():
            if kind == QEvent.Type.KeyPress:
                self.press()
            elif self._down:
                self._release_timer.start()
        return True

    def _in_window(self, watched: QObject) -> bool:
        # Only the main window's own widgets: in a dialog (e.g. choosing a new key) the key
        # must reach the dialog.
        return isinstance(watched, QWidget) and watched.window() is self._window
