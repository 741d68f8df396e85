"""`voicedesk say`: speak text through the default output device, streaming.

Exits 0 once the last sample has played. A failure prints one line on stderr and exits 1,
after playing whatever audio did arrive (a stream cut mid-way plays its first part).
`--stats` prints the latency marks as one JSON line on stderr.
"""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QCoreApplication, QObject, Slot
from PySide6.QtMultimedia import QMediaDevices

from voicedesk.audio.playback import qt_messages
from voicedesk.commands.common import engine_from_args, fail
from voicedesk.commands.erase import Leftovers
from voicedesk.errors import (
    EmptyTextError,
    NoOutputDeviceError,
    TextTooLongError,
    VoiceDeskError,
)
from voicedesk.text import MAX_TEXT_CHARS, check_length
from voicedesk.workers.latency import LatencyMarks
from voicedesk.workers.speaker import Speaker
from voicedesk.workers.threads import shutdown_pool


def read_text(args: argparse.Namespace) -> str:
    """The text from the arguments or standard input, whatever its bytes.

    Bytes that aren't UTF-8 (a Latin-1 file on stdin, a stray byte in an argument, which Python
    keeps as a lone surrogate) become U+FFFD: the rest is still spoken, and no encoder further
    on meets a character it can't encode. Standard input is read only up to what could still be
    within `MAX_TEXT_CHARS` (a character is at most 4 bytes), so an endless pipe can't fill
    memory: more than that is `TextTooLongError`.
    """
    if not args.text or args.text == ["-"]:
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:  # replaced by a text-only stream (tests, embedding)
            return str(sys.stdin.read(MAX_TEXT_CHARS + 1))
        most = 4 * MAX_TEXT_CHARS
        data = bytes(stdin.read(most + 1))
        if len(data) > most:
            raise TextTooLongError(
                f"The text is too long to speak: over {most:,} bytes; "
                f"the limit is {MAX_TEXT_CHARS:,} characters. Speak it in parts."
            )
        return data.decode("utf-8", errors="replace")
    joined = " ".join(args.text)
    return joined.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


class _Outcome(QObject):
    """Collects how the one utterance ended, and stops the event loop then."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__()
        self._app = app
        self.error: VoiceDeskError | None = None
        self.marks: LatencyMarks | None = None

    @Slot(int)
    def finished(self, uid: int) -> None:
        self._app.exit(0)

    @Slot(int, object)
    def failed(self, uid: int, error: VoiceDeskError) -> None:
        self.error = error
        self._app.exit(1)

    @Slot(int, object)
    def latency(self, uid: int, marks: LatencyMarks) -> None:
        self.marks = marks


def run(args: argparse.Namespace) -> int:
    try:
        text = read_text(args)
        check_length(text)  # before loading anything
    except TextTooLongError as error:
        return fail(error)
    if not text.strip():
        return fail(EmptyTextError())
    app = QCoreApplication.instance() or QCoreApplication([])
    qt_messages.install()  # Qt Multimedia's PulseAudio bookkeeping is not for the user
    if QMediaDevices.defaultAudioOutput().isNull():
        return fail(NoOutputDeviceError())
    try:
        engine, settings = engine_from_args(args)
    except VoiceDeskError as error:
        return fail(error)
    outcome = _Outcome(app)
    leftovers = Leftovers.follow(engine)
    speaker = Speaker(engine, settings.output_device.encode())
    speaker.set_volume(settings.volume)
    speaker.utterance_finished.connect(outcome.finished)
    speaker.utterance_failed.connect(outcome.failed)
    speaker.latency.connect(outcome.latency)
    try:
        speaker.speak(text, args.voice)
        app.exec()
    finally:
        speaker.shutdown()
        shutdown_pool()
        if leftovers is not None:
            leftovers.erase()
        engine.close()
    if args.stats and outcome.marks is not None:
        print(outcome.marks.to_json(), file=sys.stderr)
    return 0 if outcome.error is None else fail(outcome.error)
