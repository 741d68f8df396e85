"""`voicedesk listen`: record the default input, print the transcript on stdout.

Recording ends when `--seconds` pass (counted from the first block of audio, not from opening
the device) or Enter is pressed; with no `--seconds`, also at the end of standard input; and at
the length cap, with a note on stderr. No Qt here: the capture core and the engine are driven
directly.

Exit status: 0 with the transcript on stdout; 3 when nothing was heard (silence: "Nothing was
heard" on stderr, nothing on stdout); 1 for any other failure; 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from typing import TextIO

from voicedesk.audio.mic_capture import MicCapture
from voicedesk.commands.common import engine_from_args, fail
from voicedesk.errors import NothingHeardError, RecordingTooShortError, VoiceDeskError

#: The exit status when the take held no speech (scripts can tell it from a failure).
EXIT_NOTHING_HEARD = 3
# How long a timed take waits for the device's first block before counting anyway.
FIRST_BLOCK_WAIT_SECONDS = 5.0


def run(args: argparse.Namespace) -> int:
    try:
        engine, settings = engine_from_args(args)
    except VoiceDeskError as error:
        return fail(error)
    stop = threading.Event()
    try:
        capture = MicCapture(settings.input_device or None, on_capped=stop.set)
        pcm = _record(capture, stop, args.seconds)
        if capture.is_capped:
            print(f"voicedesk: {capture.cap_message()}", file=sys.stderr)
        text = engine.transcribe_audio(pcm, args.language or "en")
    except VoiceDeskError as error:
        return fail(error)
    finally:
        engine.close()
    if not text.strip():
        fail(NothingHeardError())
        return EXIT_NOTHING_HEARD
    print(text, flush=True)
    return 0


def _record(capture: MicCapture, stop: threading.Event, seconds: float | None) -> bytes:
    try:
        capture.start()
        _stop_on_enter(sys.stdin, stop, seconds)
        if seconds is not None:
            _wait_first_block(capture, stop)
        stop.wait(seconds)
        return capture.stop()
    except RecordingTooShortError as error:
        # The GUI's wording speaks of holding a key; here there is none.
        limit = f"{capture.min_seconds:g} s"
        raise RecordingTooShortError(f"The recording was too short (under {limit}).") from error
    finally:
        capture.close()


def _wait_first_block(capture: MicCapture, stop: threading.Event) -> None:
    """Until the first block arrives (so `--seconds` counts audio), Enter, or the wait's cap."""
    deadline = time.monotonic() + FIRST_BLOCK_WAIT_SECONDS
    # Short steps: Enter (`stop`) must still end the take at once while the device is slow.
    while not stop.is_set() and time.monotonic() < deadline:
        if capture.wait_first_block(0.02):
            return


def _stop_on_enter(stdin: TextIO | None, stop: threading.Event, seconds: float | None) -> None:
    """Set `stop` on Enter (or end of input) from a reader thread.

    A terminal's Enter always ends the take early. A pipe or file only does when no duration
    was given: `--seconds 5 < /dev/null` must record five seconds, not stop at once.
    """
    interactive = _isatty(stdin)
    if seconds is not None and not interactive:
        return
    if interactive:
        print("Recording… press Enter to stop.", file=sys.stderr, flush=True)
    # A daemon: a reader still blocked when the take ends by time must not hold up the exit.
    threading.Thread(target=_read_line, args=(stdin, stop), name="stdin", daemon=True).start()


def _read_line(stdin: TextIO | None, stop: threading.Event) -> None:
    # A line, or "" at end of input: either way, stop. A closed or missing stdin will never
    # bring a line, so it stops too.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        stdin.readline()  # type: ignore[union-attr]
    stop.set()


def _isatty(stream: TextIO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False
