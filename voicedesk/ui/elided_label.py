"""One line of text that ends in "…" at a word boundary when it does not fit.

A plain QLabel either wraps (pushing the layout about) or clips its text wherever the edge
falls, often in the middle of a word. This one keeps `text()` whole (for tests, tooltips and
screen readers) and only paints a shortened copy.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

ELLIPSIS = "…"


def elide_words(text: str, metrics: QFontMetrics, width: int) -> str:
    """`text` if it fits in `width` pixels, else as many whole words as fit, then "…".

    A first word too long to fit on its own is cut where the edge falls (there is no better
    place), still with the "…"."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    cut = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
    kept = cut.removesuffix(ELLIPSIS)
    mid_word = text.startswith(kept) and len(kept) < len(text) and not text[len(kept)].isspace()
    if kept and mid_word and " " in kept.rstrip():
        kept = kept.rstrip()
        kept = kept[: kept.rfind(" ")]  # back to the end of the last whole word
    kept = kept.rstrip(" ,;:")
    return kept + ELLIPSIS if kept else cut


class ElidedLabel(QLabel):
    """A single-line label; `set_text(text, tail)` keeps `tail` (e.g. "(+2 queued)") in view
    and shortens `text` before it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tail = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        # Any width will do: the text is shortened to fit, never the window widened for it.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_text(self, text: str, tail: str = "") -> None:
        self._tail = tail
        self.setText(" ".join(text.split()) + tail)

    def shown_text(self) -> str:
        """What is painted at the current width."""
        full = self.text()
        body = full.removesuffix(self._tail) if self._tail else full
        metrics = self.fontMetrics()
        room = self.contentsRect().width() - metrics.horizontalAdvance(self._tail)
        return elide_words(body, metrics, max(0, room)) + self._tail

    def clear(self) -> None:
        self._tail = ""
        super().clear()

    def paintEvent(self, event: QPaintEvent) -> None:
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter = QPainter(self)
        try:
            painter.drawText(self.contentsRect(), int(align), self.shown_text())
        finally:
            painter.end()  # before Qt ends the paint, not whenever Python frees the painter
