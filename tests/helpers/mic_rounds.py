"""A microphone take per line on stdin, in a process of its own (for tests that kill the sound
server under it): `start` opens a take and prints `recording`; `stop` waits (bounded) for the
capture to notice a lost server, ends the take and prints `stopped <bytes> <failure>`.

Run as `python -m tests.helpers.mic_rounds` with the server's environment.
"""

from __future__ import annotations

import sys
import time

from voicedesk.audio.capture.mic_capture import STALL_SECONDS, MicCapture
from voicedesk.errors import VoiceDeskError


def main() -> int:
    capture = MicCapture(min_seconds=0.0)
    for line in sys.stdin:
        command = line.strip()
        if command == "start":
            capture.start()
            print("recording", flush=True)
        elif command == "stop":
            deadline = time.monotonic() + 4 * STALL_SECONDS  # an upper bound, not a timing
            failure = capture.take_failure()
            while failure is None and time.monotonic() < deadline:
                capture.wait_capped(0.05)  # a bounded pause that ends early on nothing else
                failure = capture.take_failure()
            try:
                pcm = capture.stop()  # closes the stream: this is what used to hang
            except VoiceDeskError:
                pcm = b""
            print(f"stopped {len(pcm)} {type(failure).__name__}", flush=True)
    capture.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
