"""The settings in effect, saved when changed, and the news of a change for those it concerns.

Widget-free. `apply(new, key_changed)` (Settings' OK) saves, keeps the key in the keyring off
the GUI thread, and emits `changed(old, new)`; each part applies what concerns it (the engine
holder a new engine, the speech session the output device and volume, the talk session the
microphone, the window its widgets). `update(...)` saves a change the user made in the window
itself (volume, voice), which needs nothing else applied.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, QSettings, Signal, Slot

from voicedesk import config
from voicedesk.cancel import CancelToken
from voicedesk.config import Settings
from voicedesk.workers.background import Background


class _StoreKey:
    def __init__(self, key: str | None) -> None:
        self._key = key

    def __call__(self, cancel: CancelToken) -> None:
        config.store_api_key(self._key)


class AppSettings(QObject):
    """Signals: `changed(old, new)` after `apply`, `noted(text)` (a line that is not an
    error), `failed(error)` (keeping the key in the keyring failed)."""

    changed = Signal(object, object)
    noted = Signal(str)
    failed = Signal(object)

    def __init__(
        self,
        settings: Settings,
        background: Background,
        store: QSettings | None = None,
        keyring_ok: bool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._background = background
        self._store = store
        self._keyring_ok = keyring_ok

    @property
    def settings(self) -> Settings:
        return self._settings

    def keyring_ok(self) -> bool:
        """Whether there is a system keyring to keep the key in (asked once)."""
        if self._keyring_ok is None:
            self._keyring_ok = config.keyring_available()
        return self._keyring_ok

    def update(self, **changes: object) -> None:
        """Save changes made in the window (nothing else to apply)."""
        self._settings = replace(self._settings, **changes)  # type: ignore[arg-type]
        config.save_settings(self._settings, self._store)

    @Slot(float)
    def save_volume(self, volume: float) -> None:
        self.update(volume=volume)

    def apply(self, new: Settings, key_changed: bool) -> None:
        old, self._settings = self._settings, new
        config.save_settings(new, self._store)
        if key_changed:
            if self.keyring_ok():
                self._background.run(_StoreKey(new.api_key), None, self.failed.emit, name="keyring")
            else:
                self.noted.emit(
                    "No system keyring: the key is used until you quit but not saved. "
                    + config.no_keyring_hint()
                )
        self.changed.emit(old, new)
