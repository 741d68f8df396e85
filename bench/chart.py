"""A bar chart as PNG, drawn with QPainter on a QImage (no plotting library needed)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

WIDTH, ROW, LEFT, RIGHT, TOP = 900, 56, 300, 90, 56


def bar_chart(
    title: str, bars: list[tuple[str, float]], unit: str, path: Path, target: float | None = None
) -> None:
    height = TOP + ROW * len(bars) + 30
    image = QImage(WIDTH, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont()
    font.setPixelSize(16)
    painter.setFont(font)
    painter.drawText(QRectF(0, 10, WIDTH, 30), Qt.AlignmentFlag.AlignCenter, title)
    scale_max = max([value for _, value in bars] + [target or 0]) * 1.1 or 1.0
    span = WIDTH - LEFT - RIGHT
    for i, (label, value) in enumerate(bars):
        y = TOP + i * ROW
        painter.setPen(QColor("black"))
        painter.drawText(
            QRectF(10, y, LEFT - 20, ROW - 16),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            label,
        )
        width = span * value / scale_max
        painter.fillRect(
            QRectF(LEFT, y + 4, width, ROW - 24), QColor("#3b7dd8" if i else "#2a9d4b")
        )
        painter.drawText(
            QRectF(LEFT + width + 8, y, RIGHT + 100, ROW - 16),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"{value:.0f} {unit}",
        )
    if target is not None:
        x = LEFT + span * target / scale_max
        painter.setPen(QPen(QColor("#c0392b"), 2, Qt.PenStyle.DashLine))
        painter.drawLine(int(x), TOP - 6, int(x), height - 24)
        painter.drawText(int(x) + 4, height - 8, f"target {target:.0f} {unit}")
    painter.end()
    image.save(str(path), "PNG")
