"""`voicedesk voices`: one `id<TAB>name` a line."""

from __future__ import annotations

import argparse

from voicedesk.commands.common import engine_from_args, fail
from voicedesk.errors import VoiceDeskError


def run(args: argparse.Namespace) -> int:
    try:
        engine, _ = engine_from_args(args)
        try:
            for voice in engine.voices():
                print(f"{voice.voice_id}\t{voice.name}")
        finally:
            engine.close()
    except VoiceDeskError as error:
        return fail(error)
    return 0
