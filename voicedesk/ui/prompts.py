"""What the window's parts say and ask, shown to the user: errors and notes in the banner, each
failure with the one action that may fix it (Settings…, Retry, Retry offline, Speak offline),
and the question before a costly send (`SpendDialog`).

The parts (`voicedesk.workers`) emit error objects and plain facts; the wording of the actions
and which dialog opens are the UI's, so they live here, beside the banner, not in the window.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QWidget

from voicedesk.errors import VoiceDeskError
from voicedesk.ui.banner import Banner
from voicedesk.ui.spend_dialog import SpendDialog

if TYPE_CHECKING:
    from voicedesk.workers.app_settings import AppSettings
    from voicedesk.workers.engine_holder import EngineHolder
    from voicedesk.workers.speech_session import SpeechSession
    from voicedesk.workers.talk_session import TalkSession


class Prompts(QObject):
    """`follow(app, engines, speech, talk)` once; `open_settings` and `send` (speak a text the
    user confirmed) are the window's."""

    def __init__(
        self,
        window: QWidget,
        banner: Banner,
        open_settings: Callable[[], object],
        send: Callable[[str], object],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._banner = banner
        self._open_settings = open_settings
        self._send = send
        self._speech: SpeechSession | None = None
        self._talk: TalkSession | None = None
        self.spend_dialog: SpendDialog | None = None

    def follow(
        self, app: AppSettings, engines: EngineHolder, speech: SpeechSession, talk: TalkSession
    ) -> None:
        self._speech, self._talk = speech, talk
        for part in (app, engines, speech, talk):
            part.failed.connect(self._banner.report)
        for part in (app, speech, talk):
            part.noted.connect(self._banner.note)
        engines.budget.account.low.connect(self._banner.note)
        engines.creation_failed.connect(self._engine_failed)
        speech.queued.connect(self._banner.dismiss)
        speech.confirmation_needed.connect(self._ask_spend)
        speech.online_failed.connect(self._online_failed)
        talk.transcription_failed.connect(self._transcription_failed)

    @Slot(object)
    def _engine_failed(self, error: VoiceDeskError) -> None:
        self._banner.show_message(error.message, "error", "Settings…", self._open_settings)

    @Slot(object, str)
    def _online_failed(self, error: VoiceDeskError, text: str) -> None:
        assert self._speech is not None
        # One click to hear it anyway: the text comes from memory, nothing is typed again.
        offline = functools.partial(self._speech.speak_offline, text)
        self._banner.show_message(error.message, "error", "Speak &offline", offline)

    @Slot(object, bool, bool)
    def _transcription_failed(self, error: VoiceDeskError, retryable: bool, offline: bool) -> None:
        assert self._talk is not None
        spare = ("Retry &offline", self._talk.retry_offline) if offline else None
        first = ("&Retry", self._talk.retry) if retryable else spare
        assert first is not None  # the talk session sends only what an action can fix
        self._banner.show_message(error.message, "error", *first, spare if retryable else None)

    @Slot(str, str)
    def _ask_spend(self, text: str, question: str) -> None:
        assert self._speech is not None
        if self.spend_dialog is not None:
            self.spend_dialog.close()
        dialog = self.spend_dialog = SpendDialog(text, question, self._window)
        dialog.send.connect(self._confirmed)
        dialog.offline.connect(self._speech.speak_offline)
        dialog.open()

    @Slot(str)
    def _confirmed(self, text: str) -> None:
        self._send(text)
