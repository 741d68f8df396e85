"""Qt's own messages: library noise about audio stays off the terminal; the rest goes through.

Qt Multimedia writes its PulseAudio bookkeeping to stderr as warnings ("PulseAudioService:
pa_context_connect() failed" each time it retries a server that is gone, "Invalid PulseAudio
context", stream errors) and announces its FFmpeg version. voicedesk reports a lost sound
server itself, in one line, so these are dropped here; everything else Qt says is passed to
the handler that was installed before (or printed as Qt would).

Listeners (the `PulseGuard`) still see the dropped PulseAudio lines: they are how Qt tells
that a reconnect attempt failed.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

Listener = Callable[[str], None]

# Categories and message starts that are Qt Multimedia's bookkeeping, not ours.
_QUIET_CATEGORIES = ("qt.multimedia",)
_QUIET_PREFIXES = (
    "PulseAudioService:",
    "Invalid PulseAudio context",
    "Stream error:",
    "QAudioSink:",
    "QAudioSource:",
)

_lock = threading.Lock()
_installed = False
_previous: Callable[[QtMsgType, QMessageLogContext, str], None] | None = None
_listeners: list[Listener] = []


def install() -> None:
    """Install the filter once per process (idempotent, any thread)."""
    global _installed, _previous
    with _lock:
        if _installed:
            return
        _installed = True
        _previous = qInstallMessageHandler(_handle)


def add_listener(listener: Listener) -> None:
    """`listener(text)` is called (on Qt's calling thread) for every audio line dropped."""
    with _lock:
        _listeners.append(listener)


def remove_listener(listener: Listener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def is_noise(category: str | None, text: str) -> bool:
    return bool(category and category.startswith(_QUIET_CATEGORIES)) or text.startswith(
        _QUIET_PREFIXES
    )


def _handle(kind: QtMsgType, context: QMessageLogContext, text: str) -> None:
    if is_noise(context.category, text):
        with _lock:
            listeners = list(_listeners)
        for listener in listeners:
            listener(text)
        return
    if _previous is not None:
        _previous(kind, context, text)
        return
    with contextlib.suppress(OSError, ValueError):  # no stderr at all (a GUI launch)
        print(text, file=sys.stderr, flush=True)
