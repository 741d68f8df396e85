"""The tray icon: show the window, speak the clipboard, quit. Absent where there is no tray."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget


class Tray(QObject):
    """The icon of `window`: "Show" brings it up itself; the rest are signals."""

    speak_clipboard_requested = Signal()
    quit_requested = Signal()

    def __init__(self, icon: QIcon, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self.menu = QMenu()
        self.show_action = self._action("Show voicedesk")
        self.speak_action = self._action("Speak clipboard")
        self.menu.addSeparator()
        self.quit_action = self._action("Quit")
        self.show_action.triggered.connect(self._show)
        self.speak_action.triggered.connect(self._speak)
        self.quit_action.triggered.connect(self._quit)
        self.icon: QSystemTrayIcon | None = None
        # Headless sessions and some desktops have no tray: the window works without it.
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(icon, self)
            self.icon.setToolTip("voicedesk")
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._activated)
            self.icon.show()

    def _action(self, text: str) -> QAction:
        action = QAction(text, self.menu)
        self.menu.addAction(action)
        return action

    @Slot()
    def _show(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()

    @Slot()
    def _speak(self) -> None:
        self.speak_clipboard_requested.emit()

    @Slot()
    def _quit(self) -> None:
        self.quit_requested.emit()

    @property
    def available(self) -> bool:
        return self.icon is not None

    @Slot(QSystemTrayIcon.ActivationReason)
    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._show()

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()
