"""`voicedesk` with no command: the window."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtWidgets import QApplication

from voicedesk.audio.capture.quiet_stderr import filter_native_stderr
from voicedesk.audio.playback import qt_messages
from voicedesk.config import APP_NAME, load_settings
from voicedesk.engines.factory import create_engine
from voicedesk.errors import VoiceDeskError


def run(args: argparse.Namespace) -> int:
    # Library noise off the terminal: PortAudio's from its own threads (a microphone that goes
    # away), Qt Multimedia's PulseAudio bookkeeping.
    filter_native_stderr()
    qt_messages.install()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(APP_NAME)
    QApplication.setApplicationDisplayName(APP_NAME)
    QApplication.setDesktopFileName(APP_NAME)  # Wayland and taskbars match the .desktop file

    # Qt modules that pull in audio load after QApplication exists (QMediaDevices needs it).
    from voicedesk.audio.capture.recorder import Recorder
    from voicedesk.ui.icons import app_icon
    from voicedesk.ui.main_window import MainWindow
    from voicedesk.workers.collector import GuiThreadCollector
    from voicedesk.workers.speaker import Speaker
    from voicedesk.workers.threads import shutdown_pool
    from voicedesk.workers.transcribe import Transcriber

    collector = GuiThreadCollector(app)  # before any worker thread starts
    QApplication.setWindowIcon(app_icon())
    settings = load_settings()
    if getattr(args, "engine", None):
        from dataclasses import replace

        settings = replace(settings, engine=args.engine)
    try:
        engine = create_engine(settings)
    except VoiceDeskError:
        engine = None  # the window explains (no key) and starts offline
    start_engine = engine or create_engine(settings, "local")
    speaker = Speaker(start_engine, settings.output_device.encode())
    transcriber = Transcriber(start_engine)
    recorder = Recorder(settings.input_device or None)
    window = MainWindow(settings, speaker, transcriber, recorder, engine=engine)
    window.show()
    code = app.exec()
    window.shutdown()  # idempotent: already done when the window closed
    shutdown_pool()  # every pooled task has returned (bounded) before Qt tears down
    collector.stop()  # the worker threads are joined: automatic collection is safe again
    return int(code)
