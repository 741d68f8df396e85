"""pynput: sees every key on X11 (through the RECORD extension), Windows and macOS."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QTimer, Slot

from voicedesk.hotkeys.source import HotkeySource

log = logging.getLogger(__name__)

_ALIASES = {"pgup": "page_up", "pgdown": "page_down", "ins": "insert", "del": "delete",
            "scrolllock": "scroll_lock", "numlock": "num_lock", "capslock": "caps_lock",
            "print": "print_screen", "esc": "esc", "return": "enter"}  # fmt: skip


def pynput_key(name: str) -> Any:
    """The pynput key for a Qt key name, or None when pynput has no such key."""
    from pynput import keyboard

    lowered = name.lower()
    attribute = _ALIASES.get(lowered, lowered)
    if hasattr(keyboard.Key, attribute):
        return getattr(keyboard.Key, attribute)
    if len(name) == 1:
        return keyboard.KeyCode.from_char(lowered)
    return None


class PynputSource(HotkeySource):
    """pynput's listener; its callbacks run on pynput's thread and only emit signals."""

    kind = "pynput"

    def __init__(self, key_name: str) -> None:
        super().__init__()
        self._key_name = key_name
        self._listener: Any = None
        self._target: Any = None

    def start(self) -> None:
        try:
            self._target = pynput_key(self._key_name)
            if self._target is None:
                raise ValueError(f"{self._key_name} can't be used as a system-wide key")
            from pynput import keyboard

            listener = keyboard.Listener(on_press=self._on_press, on_release=self._on_release)
            listener.daemon = True
            self._listener = listener  # before start: the callbacks use its `canonical`
            listener.start()
            listener.wait()
        except Exception as error:  # no X connection, no permission (macOS), odd key…
            log.info("pynput unavailable: %s", error)
            self._listener = None
            self._report(self.failed, f"system-wide keys are not available here ({error})")
            return
        self._report(self.ready, "System-wide (keyboard listener)")

    def _report(self, signal: Any, text: str) -> None:
        # After start() returns, as the portal does, so callers connect once for both.
        self._pending = (signal, text)
        QTimer.singleShot(0, self._emit_pending)

    @Slot()
    def _emit_pending(self) -> None:
        signal, text = self._pending
        signal.emit(text)

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener.join(2)
            self._listener = None

    def _matches(self, key: Any) -> bool:
        listener = self._listener
        canonical = listener.canonical(key) if key is not None and listener else None
        return key == self._target or canonical == self._target

    def _on_press(self, key: Any) -> None:
        if self._matches(key):
            self.down.emit()  # queued to the GUI thread: the receiver lives there

    def _on_release(self, key: Any) -> None:
        if self._matches(key):
            self.up.emit()
