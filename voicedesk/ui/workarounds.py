"""Workarounds for bugs in the libraries under the window, each with how to see it."""

from __future__ import annotations

import ctypes
import sys


def pin_bools() -> None:
    """Keep True and False alive however often PySide6 drops a reference to them.

    PySide6 6.12 on CPython 3.11: `SignalInstance.emit()` returns True/False without a new
    reference, so every emit lowers the bool's refcount; after a few hundred emits the
    interpreter aborts at exit ("Fatal Python error: bool_dealloc", exit code -6). Reproduce:
    emit any signal ten times and watch `sys.getrefcount(True)` fall by ten. CPython 3.12
    made the bools immortal, which is what this does by hand on older versions.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    for value in (True, False):
        # ob_refcnt is the first field of every CPython object.
        ctypes.c_ssize_t.from_address(id(value)).value += 1 << 40
