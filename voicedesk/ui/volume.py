"""The speaking volume: a labelled slider, usable from the keyboard (arrows, Page Up/Down)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

_STEPS = 100  # percent


class VolumeControl(QWidget):
    """`changed(volume)` as the user moves it (0.0-1.0); `settled(volume)` when the value is
    final — at once for keys and clicks, on release while dragging — so it can be saved
    without a write for every pixel of a drag."""

    changed = Signal(float)
    settled = Signal(float)

    def __init__(self, volume: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, _STEPS)
        self.slider.setSingleStep(5)
        self.slider.setPageStep(20)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.slider.setAccessibleName("Volume")
        self.slider.setMaximumWidth(140)
        label = QLabel("Vo&lume", self)
        label.setBuddy(self.slider)  # Alt+L focuses the slider (Alt+V is the voice)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.slider)
        self.set_volume(volume)
        self.slider.valueChanged.connect(self._value_changed)
        self.slider.sliderReleased.connect(self._released)

    @property
    def volume(self) -> float:
        return self.slider.value() / _STEPS

    def set_volume(self, volume: float) -> None:
        """Show `volume` without emitting anything (it is already in effect)."""
        self.slider.blockSignals(True)
        self.slider.setValue(round(min(1.0, max(0.0, volume)) * _STEPS))
        self.slider.blockSignals(False)
        self._describe()

    @Slot(int)
    def _value_changed(self, value: int) -> None:
        self._describe()
        self.changed.emit(self.volume)
        if not self.slider.isSliderDown():
            self.settled.emit(self.volume)

    @Slot()
    def _released(self) -> None:
        self.settled.emit(self.volume)

    def _describe(self) -> None:
        text = f"{self.slider.value()} %"
        self.slider.setToolTip(f"Volume {text}")
        self.slider.setAccessibleDescription(text)
