"""Command line: the window by default; `say`, `listen`, `voices`, `ptt`, `--version`.

Each subcommand lives in `voicedesk.commands.<name>` with a `run(args) -> int`; this module
only parses. Failures print one line on stderr and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import os
import sys
from collections.abc import Sequence

from voicedesk import __version__, early_init, redact
from voicedesk.engines import ENGINE_CHOICES

# `listen --seconds` can't ask for more than the recorder keeps (`mic_capture.DEFAULT_MAX_SECONDS`;
# not imported: this module only parses, and stays light). A test checks the two agree.
MAX_LISTEN_SECONDS = 300.0


def seconds(value: str) -> float:
    """`--seconds`: a positive, finite number of seconds, at most the recording limit."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if math.isnan(number) or math.isinf(number):
        raise argparse.ArgumentTypeError(f"{value!r} is not a finite number of seconds")
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: the duration must be more than 0 seconds")
    if number > MAX_LISTEN_SECONDS:
        raise argparse.ArgumentTypeError(
            f"{value!r}: at most {MAX_LISTEN_SECONDS:g} seconds (the recording limit)"
        )
    return number


def _add_engine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=ENGINE_CHOICES,
        default=None,
        help="auto (default): ElevenLabs when an API key is configured, else the offline engine",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicedesk", description="Type to speak, hold to talk. Opens the window by default."
    )
    parser.add_argument("--version", action="version", version=f"voicedesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    say = sub.add_parser("say", help="speak text through the default output device")
    say.add_argument("text", nargs="*", help="the text; '-' or nothing reads standard input")
    say.add_argument("--voice", default=None, help="voice id (see `voicedesk voices`)")
    say.add_argument("--stats", action="store_true", help="print latency marks as JSON on stderr")
    _add_engine(say)

    listen = sub.add_parser("listen", help="record the default input and print the transcript")
    listen.add_argument(
        "--seconds",
        type=seconds,
        default=None,
        help=f"stop after N seconds of audio (0 < N <= {MAX_LISTEN_SECONDS:g})",
    )
    listen.add_argument("--language", default="en", help="language code (default: en)")
    listen.add_argument(
        "--live",
        action="store_true",
        help="live words while recording (ElevenLabs): partials on stderr, final text on stdout",
    )
    _add_engine(listen)

    voices = sub.add_parser("voices", help="list voices: one `id<TAB>name` a line")
    _add_engine(voices)

    ptt = sub.add_parser(
        "ptt", help="push to talk in the running window (for a compositor key binding)"
    )
    ptt.add_argument("action", choices=("press", "release", "toggle"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    early_init.apply()  # before anything imports Qt, sounddevice or the offline engine
    args = build_parser().parse_args(argv)
    _configure_logging(os.environ.get("VOICEDESK_LOG_LEVEL", ""))
    command = args.command or "gui"
    module = importlib.import_module(f"voicedesk.commands.{command}")
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        return 130


def _configure_logging(level: str) -> None:
    """`VOICEDESK_LOG_LEVEL=DEBUG` (or INFO, WARNING…): log to stderr, for a bug report.
    Off by default, so stderr keeps to the app's own one line."""
    level = level.strip().upper()
    if not level or not isinstance(logging.getLevelName(level), int):
        return
    redact.install()  # before the first record: the API key never reaches a log
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


if __name__ == "__main__":
    sys.exit(main())
