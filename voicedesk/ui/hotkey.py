"""The push-to-talk key: in the window through Qt's key events, system-wide through a source.

In the window: key press and release on the application's event stream, auto-repeat ignored,
so holding the key is one press and one release. System-wide: a `voicedesk.hotkeys` source
(pynput on X11, Windows and macOS; the desktop portal's GlobalShortcuts on Wayland), and the
`voicedesk ptt` socket for compositor key bindings. `note` says which works and why.

Every path feeds one state machine, so a key seen twice (the window is focused, a doubled or
repeated event) counts once: press while pressed and release while released do nothing.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget

from voicedesk.hotkeys.choose import SourceFactory, candidates, window_only_note
from voicedesk.hotkeys.ptt_socket import PttServer
from voicedesk.hotkeys.source import HotkeySource

log = logging.getLogger(__name__)

# Auto-repeat can arrive as release+press pairs a few ms apart: always for pynput on X11, and
# for Qt's own key events where the X server lacks detectable auto-repeat (seen under Xvfb:
# pairs 3 ms apart, not flagged isAutoRepeat). A key release is trusted only when no press
# follows within this window; the button's release (a mouse) is taken at once.
RELEASE_DEBOUNCE_MS = 30


def qt_key(name: str) -> int:
    sequence = QKeySequence(name)
    # QKeySequence[i] exists at run time (a QKeyCombination); PySide6's stubs lack __getitem__.
    return sequence[0].key().value if sequence.count() else 0  # type: ignore[index]


class PushToTalkKey(QObject):
    pressed = Signal()
    released = Signal()
    # Where the key works, as one line for the window and Settings (changes as sources start).
    note_changed = Signal(str)

    def __init__(self, window: QWidget, key_name: str = "F9") -> None:
        super().__init__(window)
        self._window = window
        self._key_name = key_name
        self._key = qt_key(key_name)
        self._down = False
        self._source: HotkeySource | None = None
        self._active: HotkeySource | None = None  # the source that said `ready`
        self._pending: list[SourceFactory] = []
        self._reasons: list[str] = []
        self._system_wide = False
        self.server: PttServer | None = None  # `voicedesk ptt`
        self.note = window_only_note(key_name, "system-wide keys are off")
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
        return self._active is not None

    @property
    def source_kind(self) -> str:
        return self._active.kind if self._active is not None else "window"

    def set_key(self, key_name: str, system_wide: bool = True) -> None:
        self.stop_global()
        self._key_name = key_name
        self._key = qt_key(key_name)
        if system_wide:
            self.start_global()

    def serve(self, system_wide: bool, socket_name: str | None = None) -> None:
        """Take the key system-wide when `system_wide` (else in this window only, as the note
        says), and `voicedesk ptt` commands on `socket_name` (None: the default name) unless
        neither is asked for."""
        self._system_wide = system_wide
        if system_wide or socket_name:
            self.server = PttServer(self, socket_name)
            self.server.command.connect(self.command)
            if not self.server.listen():
                log.info("`voicedesk ptt` is unavailable: %s", self.server.error)
        self._start()

    def change_key(self, key_name: str) -> None:
        """Settings changed the key: take the new one the same way."""
        self.set_key(key_name, system_wide=False)
        self._start()

    def _start(self) -> None:
        if self._system_wide:
            self.start_global()  # the note follows through `note_changed`
        else:
            self.note_changed.emit(f"{self._key_name} works while this window is focused.")

    def start_global(self) -> None:
        """Try the system-wide sources for this desktop, best first; `note_changed` says which."""
        self.stop_global()
        self._pending, reason = candidates(QGuiApplication.platformName())
        self._reasons = [reason] if reason else []
        self._set_note(f"Starting system-wide {self._key_name}…")
        self._next_source()

    def _next_source(self) -> None:
        if not self._pending:
            why = "; ".join(self._reasons) or "no system-wide key source here"
            self._set_note(window_only_note(self._key_name, why))
            return
        source = self._pending.pop(0)(self._key_name)
        source.setParent(self)
        source.down.connect(self._global_down)
        source.up.connect(self._global_up)
        source.ready.connect(self._source_ready)
        source.failed.connect(self._source_failed)
        self._source = source
        source.start()

    @Slot(str)
    def _source_ready(self, description: str) -> None:
        if self.sender() is not self._source:
            return
        self._active = self._source
        self._set_note(f"{self._key_name}: {description}.")

    @Slot(str)
    def _source_failed(self, reason: str) -> None:
        source = self.sender()
        if source is not self._source:
            return
        self._reasons.append(reason)
        if self._active is source:
            self._active = None
            self.release()
        self._drop_source()
        self._next_source()

    def _set_note(self, text: str) -> None:
        self.note = text
        self.note_changed.emit(text)

    def _drop_source(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            source.stop()  # its thread is joined: nothing emits after this
            source.down.disconnect(self._global_down)
            source.up.disconnect(self._global_up)
            source.deleteLater()  # a child of ours (Qt-owned), gone with the event loop's turn

    def stop_global(self) -> None:
        self._pending = []
        self._active = None
        self._drop_source()

    def shutdown(self) -> None:
        self.stop_global()
        if self.server is not None:
            self.server.close()
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

    @Slot()
    def release_soon(self) -> None:
        """A key's release: taken unless a press follows at once (auto-repeat's pairs)."""
        if self._down:
            self._release_timer.start()

    @Slot()
    def toggle(self) -> None:
        if self._down:
            self.release()
        else:
            self.press()

    @Slot(str)
    def command(self, name: str) -> None:
        """`voicedesk ptt press|release|toggle`."""
        if name == "press":
            self.press()
        elif name == "release":
            self.release_soon()
        elif name == "toggle":
            self.toggle()

    def _window_has_keys(self) -> bool:
        # pynput only: while we are active the window sees the key itself, with reliable
        # auto-repeat flags; pynput's copies arrive later from another thread, and a stale
        # repeat landing after the release would start a second recording. (A portal shortcut
        # is grabbed by the desktop: the window never sees it, so its events always count.)
        return (
            self._source is not None
            and self._source.kind == "pynput"
            and QGuiApplication.applicationState() == Qt.ApplicationState.ApplicationActive
        )

    @Slot()
    def _global_down(self) -> None:
        if not self._window_has_keys():
            self.press()

    @Slot()
    def _global_up(self) -> None:
        if not self._window_has_keys():
            self.release_soon()

    @Slot(Qt.ApplicationState)
    def _app_state(self, state: Qt.ApplicationState) -> None:
        # Focus lost while held: the window will never see the release, so end it now.
        if state != Qt.ApplicationState.ApplicationActive and self._active is None:
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
            else:
                self.release_soon()
        return True

    def _in_window(self, watched: QObject) -> bool:
        # Only the main window's own widgets: in a dialog (e.g. choosing a new key) the key
        # must reach the dialog.
        return isinstance(watched, QWidget) and watched.window() is self._window
