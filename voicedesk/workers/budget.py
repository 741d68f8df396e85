"""The account side of the window, in one handle: response facts relayed from the engine
(`responses`), credits and concurrency (`account`), erase after use (`eraser`).

The window makes one `Budget`, tells it the engine and the settings, and connects the
signals of its parts to the status bar; nothing here touches a widget.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from voicedesk.config import Settings
from voicedesk.engines.base import SpeechEngine
from voicedesk.workers.account import Account
from voicedesk.workers.eraser import Eraser
from voicedesk.workers.responses import ResponseRelay


class Budget(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.relay = ResponseRelay(self)
        self.account = Account(self)
        self.eraser = Eraser(self)
        self.relay.heard.connect(self.account.heard)
        self.relay.heard.connect(self.eraser.heard)

    @property
    def busy(self) -> int:
        """Requests of its own still running (a subscription fetch, deletions)."""
        return self.account.busy + self.eraser.busy

    def set_engine(self, engine: SpeechEngine) -> None:
        self.relay.attach(engine)
        self.account.set_engine(engine)

    def apply(self, settings: Settings) -> None:
        self.eraser.enabled = settings.erase_after_use

    def shutdown(self) -> None:
        self.account.shutdown()
        self.eraser.shutdown()
