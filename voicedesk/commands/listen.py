"""`voicedesk listen`: record the default input, print the transcript on stdout.

Recording ends when `--seconds` pass (counted from the first block of audio, not from opening
the device) or Enter is pressed; with no `--seconds`, also at the end of standard input; and at
the length cap, with a note on stderr. No Qt here: the capture core and the engine are driven
directly.

Exit status: 0 with the transcript on stdout; 3 when nothing was heard (silence: "Nothing was
heard" on stderr, nothing on stdout); 1 for any other failure; 2 for bad arguments.

`--live` streams the audio to ElevenLabs' realtime model while recording: partial
transcripts go to stderr as they come (one a line; rewritten in place on a terminal), the
final text to stdout. If the live session fails, the take is transcribed whole instead.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from typing import TextIO

from voicedesk.audio.capture.mic_capture import Listener, MicCapture
from voicedesk.audio.capture.quiet_stderr import filter_native_stderr
from voicedesk.cancel import CancelToken
from voicedesk.commands.common import engine_from_args, fail
from voicedesk.commands.erase import Leftovers
from voicedesk.config import Settings
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.elevenlabs_realtime import LiveTake
from voicedesk.errors import (
    LiveNeedsElevenLabsError,
    NothingHeardError,
    RecordingTooShortError,
    VoiceDeskError,
)

#: The exit status when the take held no speech (scripts can tell it from a failure).
EXIT_NOTHING_HEARD = 3
# How long a timed take waits for the device's first block before counting anyway.
FIRST_BLOCK_WAIT_SECONDS = 5.0


def run(args: argparse.Namespace) -> int:
    filter_native_stderr()  # PortAudio's complaints when the microphone goes away mid-take
    try:
        engine, settings = engine_from_args(args)
    except VoiceDeskError as error:
        return fail(error)
    leftovers = Leftovers.follow(engine)
    try:
        return _listen(args, engine, settings)
    finally:  # after the transcript is out: erasing never holds it back
        if leftovers is not None:
            leftovers.erase()
        engine.close()


def _listen(args: argparse.Namespace, engine: SpeechEngine, settings: Settings) -> int:
    stop = threading.Event()
    language = args.language or "en"
    live: LiveTake | None = None
    partials = _Partials(sys.stderr)
    cancel = CancelToken()
    try:
        if getattr(args, "live", False):
            live = _open_live(engine, language, partials, cancel)
        capture = MicCapture(settings.input_device or None, on_capped=stop.set)
        pcm = _record(capture, stop, args.seconds, live.feed if live else None)
        if capture.is_capped:
            partials.end()
            print(f"voicedesk: {capture.cap_message()}", file=sys.stderr)
        if live is not None:
            text = live.result(pcm, cancel)
            if live.fallback_reason is not None:
                partials.end()
                why = live.fallback_reason.message.rstrip(".")
                print(f"voicedesk: {why}; transcribed the whole take instead.", file=sys.stderr)
        else:
            text = engine.transcribe_audio(pcm, language)
    except VoiceDeskError as error:
        partials.end()
        return fail(error)
    finally:
        if live is not None:
            live.abort()  # a no-op after a result; frees the slot after a failure
            live.session.wait_closed(2.0)
    partials.end()
    if not text.strip():
        fail(NothingHeardError())
        return EXIT_NOTHING_HEARD
    print(text, flush=True)
    return 0


class _Partials:
    """Partial transcripts on stderr: rewritten in place on a terminal, else one a line."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = _isatty(stream)
        self._open = False
        self._lock = threading.Lock()

    def show(self, text: str) -> None:  # the session's receiving thread
        with self._lock, contextlib.suppress(OSError, ValueError):
            if self._tty:
                self._stream.write(f"\r\x1b[K{text}")
                self._open = True
            else:
                self._stream.write(f"{text}\n")
            self._stream.flush()

    def end(self) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            if self._open:
                self._stream.write("\n")
                self._stream.flush()
                self._open = False


def _open_live(
    engine: object, language: str, partials: _Partials, cancel: CancelToken
) -> LiveTake | None:
    open_live = getattr(engine, "open_live", None)
    if open_live is None:
        print(f"voicedesk: {LiveNeedsElevenLabsError().message}", file=sys.stderr)
        return None
    try:
        return open_live(language, on_partial=partials.show, cancel=cancel)  # type: ignore[no-any-return]
    except VoiceDeskError as error:
        # An endpoint live words can't use (plain http to another host): batch says why, or works.
        print(f"voicedesk: live words are off: {error.message}", file=sys.stderr)
        return None


def _record(
    capture: MicCapture, stop: threading.Event, seconds: float | None, listener: Listener | None
) -> bytes:
    try:
        capture.start(listener)
        _stop_on_enter(sys.stdin, stop, seconds)
        if seconds is not None:
            _wait_first_block(capture, stop)
        _wait(capture, stop, seconds)
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


# How often the take is checked for a microphone that went away while waiting for its end.
_CHECK_SECONDS = 0.1


def _wait(capture: MicCapture, stop: threading.Event, seconds: float | None) -> None:
    """Until `stop`, `seconds`, or the microphone going away (what came so far is kept, and
    a note says why the take ended early)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return
        if stop.wait(_CHECK_SECONDS if left is None else min(_CHECK_SECONDS, left)):
            return
        if failure := capture.take_failure():
            message = failure.message if isinstance(failure, VoiceDeskError) else str(failure)
            print(f"voicedesk: {message}", file=sys.stderr, flush=True)
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
