"""Screenshots of widgets for a human look at the layout: test-artifacts/ (gitignored)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def save_screenshot(widget: QWidget, name: str) -> Path:
    """`widget` as painted now (QWidget.grab works offscreen too), as test-artifacts/NAME.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    widget.grab().save(str(path))
    return path
