"""Which engine speaks and transcribes: making it, switching it, and its background jobs.

Widget-free: the window connects `engine_changed` to the voice picker, the connection
warmer and the status bar, and the quota signals to the status bar. Every engine made here is
closed by `close()` (the window's quit), including the offline one made for a fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from voicedesk import config
from voicedesk.cancel import CancelToken
from voicedesk.config import Settings
from voicedesk.engines.base import Quota, SpeechEngine
from voicedesk.engines.factory import create_engine
from voicedesk.errors import InvalidKeyError, NoApiKeyError, VoiceDeskError
from voicedesk.workers.app_settings import AppSettings
from voicedesk.workers.background import Background
from voicedesk.workers.budget import Budget

if TYPE_CHECKING:  # Protocols only: nothing of the UI is loaded here
    from voicedesk.ui.ports import SpeakerPort, TranscriberPort

log = logging.getLogger(__name__)
EngineFactory = Callable[[Settings], SpeechEngine]

# A change to any of these makes a new engine; the rest (devices, volume, keys) don't.
ENGINE_FIELDS = (
    "api_key",
    "base_url",
    "engine",
    "model_id",
    "stability",
    "similarity",
    "speed",
    "erase_after_use",
)

NO_KEY = "Enter a key first (or set ELEVENLABS_API_KEY in the environment or a .env file)."


class _Preload:
    def __init__(self, engine: SpeechEngine) -> None:
        self._engine = engine

    def __call__(self, cancel: CancelToken) -> None:
        preload = getattr(self._engine, "preload", None)
        if callable(preload):
            preload()


class KeyTest:
    """A background job for Settings' "Test key": the quota, which needs (and so checks) a
    working key.

    With no key typed, the one from ELEVENLABS_API_KEY or a `.env` is tested: that is the key
    in use, and the field may be empty because it came from there.
    """

    def __init__(
        self, api_key: str | None, base_url: str | None, allow_insecure_http: bool, timeout: float
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._allow_insecure = allow_insecure_http
        self._timeout = timeout

    def __call__(self, cancel: CancelToken) -> Quota | None:
        from voicedesk.engines.elevenlabs import ElevenLabsEngine

        key = self._api_key or config.environment_api_key()[0]
        if not key:
            raise InvalidKeyError(NO_KEY)
        engine = ElevenLabsEngine(
            key,
            base_url=self._base_url,
            allow_insecure_http=self._allow_insecure,
            timeout=self._timeout,
        )
        try:
            return engine.quota()
        finally:
            engine.close()


class EngineHolder(QObject):
    """The engine in use (`engine`), the offline one for fallbacks (`offline()`), and the
    account side of the engine in use (`budget`: credits, concurrency, erase after use).

    Signals: `engine_changed(engine, voice_id)` (the voice to select; "" for its default),
    `creation_failed(error)` (the engine asked for could not be made, offline meanwhile: the
    Settings fix it), `failed(error)` (loading the offline models failed; no key and nowhere
    to keep one).
    """

    engine_changed = Signal(object, str)
    creation_failed = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        app: AppSettings,
        speaker: SpeakerPort,
        transcriber: TranscriberPort,
        background: Background,
        factory: EngineFactory = create_engine,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._app = app
        self._speaker = speaker
        self._transcriber = transcriber
        self._background = background
        self._factory = factory
        self._engine: SpeechEngine | None = None
        self._offline: SpeechEngine | None = None
        self._made: list[SpeechEngine] = []
        self.budget = Budget(self)
        self.budget.apply(app.settings)
        app.changed.connect(self._settings_changed)

    @property
    def engine(self) -> SpeechEngine | None:
        return self._engine

    @property
    def label(self) -> str:
        """The engine's name as the status bar shows it."""
        engine = self._engine
        return str(getattr(engine, "label", engine.name if engine else ""))

    def use(self, settings: Settings, engine: SpeechEngine | None = None) -> None:
        """Switch to `engine` (made from `settings` when not given) everywhere."""
        if engine is None:
            engine = self.create(settings)
        self._engine = engine
        self._made.append(engine)
        self._speaker.set_engine(engine)
        self._transcriber.set_engine(engine)
        wanted = settings.voice_id if engine.name == "elevenlabs" else settings.local_voice_id
        self.engine_changed.emit(engine, wanted or engine.default_voice_id)
        if hasattr(engine, "preload"):
            self._background.run(_Preload(engine), None, self.failed.emit, name="preload")
        self.budget.set_engine(engine)

    def create(self, settings: Settings) -> SpeechEngine:
        """The engine `settings` ask for; if it can't be made, say why and use the offline one."""
        try:
            return self._factory(settings)
        except VoiceDeskError as error:
            if not settings.api_key and not self._app.keyring_ok():
                # Settings could hold a key only until quit: say where one can be kept instead.
                hint = config.no_keyring_hint()
                self.failed.emit(NoApiKeyError(f"{NoApiKeyError.default_message} {hint}"))
            else:
                self.creation_failed.emit(error)
            return self._factory(replace(settings, engine="local"))

    def offline(self) -> SpeechEngine:
        """The offline engine for a fallback, made on first use and kept."""
        if self._offline is None:
            self._offline = self._factory(replace(self._app.settings, engine="local"))
            self._made.append(self._offline)
        return self._offline

    @Slot(str)
    def choose_voice(self, voice_id: str) -> None:
        """Remember the voice picked, for the kind of engine in use."""
        engine = self._engine
        if engine is not None and engine.name == "local":
            self._app.update(local_voice_id=voice_id)
        else:
            self._app.update(voice_id=voice_id)

    @Slot()
    def refresh_quota(self) -> None:
        self.budget.account.refresh()

    @Slot(object, object)
    def _settings_changed(self, old: Settings, new: Settings) -> None:
        self.budget.apply(new)
        if any(getattr(old, field) != getattr(new, field) for field in ENGINE_FIELDS):
            self.use(new)

    def close(self) -> None:
        """Stop the account's jobs and close every engine made (quitting)."""
        self.budget.shutdown()
        for engine in self._made:
            try:
                engine.close()
            except Exception as error:  # closing must never stop the quit
                log.warning("closing %s failed: %s", engine.name, error)
