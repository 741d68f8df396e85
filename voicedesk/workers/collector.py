"""Python's cyclic garbage collector, run on the GUI thread only.

Left automatic, the collector runs in whichever thread happens to allocate when a threshold
is crossed: often a worker (a speaking job, a quota check). If the garbage it frees holds
QObjects, PySide deletes them from that thread, under Qt's signal-slot locks, while the GUI
thread waits on one of those locks for the GIL the worker holds: a deadlock (we saw it in the
window tests as ~QAction on the GUI thread against ~QObject in a worker's GC pass). So the
automatic collector is off, and a timer on the GUI thread collects each generation when its
count passes the usual threshold. Calibre and other long-lived PyQt/PySide apps do the same.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

CHECK_INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        gc.disable()
        self._timer.start()

    @Slot()
    def check(self) -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        # The oldest generation over its threshold is collected with all the younger ones,
        # as the automatic collector would.
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Hand collection back to Python (at exit, when no worker threads remain)."""
        self._timer.stop()
        gc.enable()
