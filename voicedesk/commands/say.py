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

from voicedesk.audio.latency import LatencyMarks
from voicedesk.commands.common import engine_from_args, fail
from voicedesk.errors import EmptyTextError, NoOutputDeviceError, VoiceDeskError
from voicedesk.workers.speaker import Speaker


def read_text(args: argparse.Namespace) -> str:
    if not args.text or args.text == ["-"]:
        return sys.stdin.read()
    return " ".join(args.text)


class _Outcome(QObject):
    """Collects how the one utterance ended, and stops the event loop then."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__()
        self._app = app
        self.error: str | None = None
        self.marks: LatencyMarks | None = None

    @Slot(int)
    def finished(self, uid: int) -> None:
        self._app.exit(0)

    @Slot(int, str)
    def failed(self, uid: int, message: str) -> None:
        self.error = message
        self._app.exit(1)

    @Slot(int, object)
    def latency(self, uid: int, marks: LatencyMarks) -> None:
        self.marks = marks


def run(args: argparse.Namespace) -> int:
    text = read_text(args)
    if not text.strip():
        return fail(EmptyTextError())
    app = QCoreApplication.instance() or QCoreApplication([])
    if QMediaDevices.defaultAudioOutput().isNull():
        return fail(NoOutputDeviceError())
    try:
        engine, settings = engine_from_args(args)
    except VoiceDeskError as error:
        return fail(error)
    outcome = _Outcome(app)
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
        engine.close()
    if args.stats and outcome.marks is not None:
        print(outcome.marks.to_json(), file=sys.stderr)
    return 0 if outcome.error is None else fail(outcome.error)
