"""`voicedesk ptt press|release|toggle`: push to talk from a compositor key binding."""

from __future__ import annotations

import argparse

from PySide6.QtCore import QCoreApplication

from voicedesk.commands.common import fail
from voicedesk.hotkeys.ptt_socket import send_command


def run(args: argparse.Namespace) -> int:
    _app = QCoreApplication.instance() or QCoreApplication([])  # QLocalSocket wants one
    why = send_command(args.action)
    if why:
        return fail(why)
    return 0
