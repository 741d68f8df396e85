"""Facts about the Qt binding that the app relies on, checked against what is installed."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(int)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="bools are immortal from Python 3.12")
def test_emitting_signals_does_not_leak_references_to_the_bools() -> None:
    """PySide6 6.12.0 on CPython 3.11 drops a reference to True/False on every emit(); after a
    few thousand the interpreter aborts at exit. pyproject.toml keeps us off that release."""
    emitter = _Emitter()
    before = sys.getrefcount(True), sys.getrefcount(False)
    for n in range(100):
        emitter.fired.emit(n)
    assert (sys.getrefcount(True), sys.getrefcount(False)) == before
