"""The status bar: engine and voice, the last utterance's latency, the character quota."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from voicedesk.engines.base import Quota
from voicedesk.errors import VoiceDeskError
from voicedesk.ui.elided_label import elide_words
from voicedesk.workers.account import LOW_SHARE

if TYPE_CHECKING:
    from voicedesk.workers.budget import Budget
    from voicedesk.workers.speech_session import SpeechSession
    from voicedesk.workers.talk_session import TalkSession

# Below this share of the period's characters left, say "credits low": running out
# silently is a common complaint (elevenlabs/elevenlabs-python#69).
LOW_FRACTION = LOW_SHARE
LOW_CHARACTERS = 1_000


def quota_text(quota: Quota | None) -> tuple[str, str]:
    """(label, level) where level is "", "low" or "out"."""
    if quota is None:
        return "", ""
    if quota.limit > 0 and quota.remaining == 0:
        return "Credits used up", "out"
    text = f"{quota.remaining:,} of {quota.limit:,} characters left"
    low = quota.remaining < LOW_CHARACTERS or (
        quota.limit > 0 and quota.remaining / quota.limit < LOW_FRACTION
    )
    return (f"Credits low: {text}", "low") if low else (text, "")


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Status")
        self.engine_label = self._label("Engine and voice")
        self.latency_label = self._label("Latency of the last utterance")
        self.quota_label = self._label("ElevenLabs character quota")
        self.quota_level = ""
        self.erase_label = self._label("Items still to erase from ElevenLabs")

    def _label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setAccessibleName(name)
        label.setContentsMargins(6, 0, 6, 0)
        self.addPermanentWidget(label)
        return label

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        """A passing message, shortened at a word to the room left of the permanent labels
        (QStatusBar clips it wherever the first label begins, mid-word)."""
        left = [
            w.geometry().left()
            for w in (self.engine_label, self.latency_label, self.quota_label, self.erase_label)
            if w.isVisible() and w.text()
        ]
        room = (min(left) if left else self.width()) - 12  # the message's own margins
        self.showMessage(elide_words(" ".join(text.split()), self.fontMetrics(), room), timeout_ms)

    def follow(self, budget: Budget, speech: SpeechSession, talk: TalkSession) -> None:
        """The credits, deletions pending, the last utterance's latency, the last transcript."""
        budget.account.quota_changed.connect(self.set_quota)
        budget.account.quota_failed.connect(self.set_quota_unknown)
        budget.eraser.pending_changed.connect(self.set_erase_pending)
        speech.latency_measured.connect(self.set_latency)
        speech.merged.connect(self.show_merged)
        talk.transcribed.connect(self.show_heard)

    @Slot()
    def show_merged(self) -> None:
        self.show_message("Already waiting to be spoken.", 3000)

    @Slot(str)
    def show_heard(self, text: str) -> None:
        self.show_message(f"Heard: {text}", 8000)

    @Slot()
    def show_copied(self) -> None:
        self.show_message("Copied to the clipboard.", 3000)

    def set_engine(self, engine: str, voice: str) -> None:
        self.engine_label.setText(f"{engine} · {voice}" if voice else engine)

    def set_latency(self, seconds: float | None, breakdown: str = "") -> None:
        """The last utterance's wait for its first sound; `breakdown` (its parts) in the tooltip."""
        text = "" if seconds is None else f"First sound {seconds * 1000:.0f} ms"
        self.latency_label.setText(text)
        tip = "From the request to the first sound of the last utterance"
        self.latency_label.setToolTip(f"{tip}\n{breakdown}" if breakdown else tip)

    def set_quota(self, quota: Quota | None) -> None:
        text, self.quota_level = quota_text(quota)
        self.quota_label.setText(text)
        if quota is not None:
            tier = f" ({quota.tier} plan)" if quota.tier else ""
            self.quota_label.setToolTip(f"{quota.used:,} of {quota.limit:,} used this period{tier}")
        # Bold is enough to draw the eye and works in light and dark palettes alike.
        self.quota_label.setStyleSheet("font-weight: bold;" if self.quota_level else "")

    def set_erase_pending(self, count: int, last_error: str = "") -> None:
        """How many history items and transcripts are still to be deleted from ElevenLabs."""
        self.erase_label.setText(f"{count} to erase from ElevenLabs" if count else "")
        tip = "Deleted as soon as ElevenLabs answers; failed deletions are tried again later."
        self.erase_label.setToolTip(f"{tip}\nLast failure: {last_error}" if last_error else tip)

    def set_quota_unknown(self, error: VoiceDeskError) -> None:
        self.quota_label.setText("Quota unknown")
        self.quota_label.setToolTip(error.message)
