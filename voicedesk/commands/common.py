"""What every subcommand shares: choosing the engine, reporting a failure in one line."""

from __future__ import annotations

import argparse
import sys

from voicedesk.config import Settings, dotenv_key_warning, load_settings
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.factory import create_engine
from voicedesk.errors import VoiceDeskError


def engine_from_args(args: argparse.Namespace) -> tuple[SpeechEngine, Settings]:
    settings = load_settings()
    if warning := dotenv_key_warning():
        print(f"voicedesk: warning: {warning}", file=sys.stderr)
    return create_engine(settings, args.engine), settings


def fail(error: BaseException | str) -> int:
    """One line on stderr, never a traceback (and never the key: messages don't carry it)."""
    if isinstance(error, str):
        message = error
    elif isinstance(error, VoiceDeskError):
        message = error.message
    else:
        message = str(error) or repr(error)
    print(f"voicedesk: {message}", file=sys.stderr)
    return 1
