"""A horizontal microphone level meter, in dBFS, drawn with the palette's colours."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DBFS = -60.0  # quieter than this reads as silence on a meter this small


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dbfs = FLOOR_DBFS
        self.setAccessibleName("Microphone level")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(80)

    def sizeHint(self) -> QSize:
        return QSize(160, 8)

    @property
    def fraction(self) -> float:
        return (max(FLOOR_DBFS, min(0.0, self._dbfs)) - FLOOR_DBFS) / -FLOOR_DBFS

    @Slot(float)
    def set_level(self, dbfs: float) -> None:
        self._dbfs = dbfs
        self.setAccessibleDescription(f"{dbfs:.0f} dBFS")
        self.update()

    def reset(self) -> None:
        self.set_level(FLOOR_DBFS)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = rect.height() / 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Mid))
        painter.drawRoundedRect(rect, radius, radius)
        fill = QRectF(rect)
        fill.setWidth(rect.width() * self.fraction)
        # Red only near clipping, where a user should back off the microphone.
        colour = (
            QColor("#d9534f") if self._dbfs > -3 else palette.color(QPalette.ColorRole.Highlight)
        )
        painter.setBrush(colour)
        if fill.width() > 0:
            painter.drawRoundedRect(fill, radius, radius)
