"""Run the emulator by hand: `python -m tests.emulator --port 8765 --ttfb 0.25`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading

from .audio import AudioSpec
from .config import DEFAULT_TRANSCRIPT, TEST_API_KEY
from .server import Emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help=f"a valid key (repeatable; default {TEST_API_KEY})",
    )
    parser.add_argument("--ttfb", type=float, default=0.0, help="seconds before the first byte")
    parser.add_argument("--pacing", type=float, default=0.0, help="seconds between chunks")
    parser.add_argument("--chunk-size", type=int, default=4096, help="bytes per chunk")
    parser.add_argument("--frequency", type=float, default=440.0, help="tone pitch in Hz")
    parser.add_argument("--seconds-per-char", type=float, default=0.06)
    parser.add_argument("--espeak", action="store_true", help="speak the text with espeak-ng")
    parser.add_argument("--transcript", default=DEFAULT_TRANSCRIPT, help="what STT returns")
    parser.add_argument("--concurrency-limit", type=int, default=10, help="0 disables it")
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s"
    )
    audio = AudioSpec(
        source="espeak" if args.espeak else "tone",
        frequency=args.frequency,
        seconds_per_char=args.seconds_per_char,
    )
    emulator = Emulator(
        args.host,
        args.port,
        api_keys=args.api_keys or [TEST_API_KEY],
        audio=audio,
        ttfb=args.ttfb,
        pacing=args.pacing,
        chunk_size=args.chunk_size,
        transcript=args.transcript,
        concurrency_limit=args.concurrency_limit or None,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        key = sorted(emulator.settings.api_keys)[0]
        print(f"ElevenLabs emulator on {emulator.base_url} (key {key})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
