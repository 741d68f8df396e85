"""The real window in a process of its own, driven over stdin, reporting on stdout.

For faults that could take the whole process down (the sound server dying under Qt's
PulseAudio backend): if the window aborted, pytest would go with it. One JSON object a line
out; one command a line in:

- `speak TEXT`: put TEXT in the box and speak it (as Ctrl+Enter does)
- `ptt_down` / `ptt_up`: push-to-talk key down / up
- `state`: report the banner, the history, the box and whether the speaker is busy
- `quit`: close the window and exit

Events: `ready`, `started`, `finished`, `failed` (with the message), `transcribed`,
`transcribe_failed`, `recorder_error`, `state`.
"""

from __future__ import annotations

import faulthandler
import json
import signal
import sys
import threading

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QApplication

from voicedesk.errors import VoiceDeskError


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class Driver(QObject):
    command = Signal(str)  # from the stdin thread to the GUI thread (queued)

    def __init__(self, window: object) -> None:
        super().__init__()
        self.window = window
        self.command.connect(self.run)

    @Slot(str)
    def run(self, line: str) -> None:
        window = self.window
        verb, _, rest = line.partition(" ")
        if verb == "speak":
            window.panel.box.setPlainText(rest)  # type: ignore[attr-defined]
            window.speak(window.panel.text)  # type: ignore[attr-defined]
        elif verb == "ptt_down":
            window.talk.press()  # type: ignore[attr-defined]
        elif verb == "ptt_up":
            window.talk.release()  # type: ignore[attr-defined]
        elif verb == "state":
            banner = window.banner  # type: ignore[attr-defined]
            emit(
                "state",
                banner=banner.text if banner.isVisible() else "",
                history=[entry.text for entry in window.history.entries()],  # type: ignore[attr-defined]
                box=window.panel.text,  # type: ignore[attr-defined]
                busy=window.speaker.is_busy(),  # type: ignore[attr-defined]
            )
        elif verb == "quit":
            window.quit()  # type: ignore[attr-defined]

    @Slot(int)
    def started(self, uid: int) -> None:
        emit("started", uid=uid)

    @Slot(int)
    def finished(self, uid: int) -> None:
        emit("finished", uid=uid)

    @Slot(int, object)
    def failed(self, uid: int, error: VoiceDeskError) -> None:
        emit("failed", uid=uid, message=error.message)

    @Slot(str)
    def transcribed(self, text: str) -> None:
        emit("transcribed", text=text)

    @Slot(object, bool)
    def transcribe_failed(self, error: VoiceDeskError, retryable: bool) -> None:
        emit("transcribe_failed", message=error.message)

    @Slot(object)
    def recorder_error(self, error: VoiceDeskError) -> None:
        emit("recorder_error", message=error.message)


def _read_commands(driver: Driver) -> None:
    for line in sys.stdin:
        driver.command.emit(line.rstrip("\n"))


def main() -> int:
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # a hung test can ask where
    from voicedesk import early_init
    from voicedesk.audio.capture.quiet_stderr import filter_native_stderr

    early_init.apply()  # as `voicedesk` does first

    filter_native_stderr()  # as `voicedesk` (the gui command) does
    app = QApplication(sys.argv[:1])
    from voicedesk.audio.capture.recorder import Recorder
    from voicedesk.audio.playback import qt_messages
    from voicedesk.config import load_settings
    from voicedesk.engines.factory import create_engine
    from voicedesk.ui.main_window import MainWindow
    from voicedesk.workers.collector import GuiThreadCollector
    from voicedesk.workers.speaker import Speaker
    from voicedesk.workers.transcribe import Transcriber

    qt_messages.install()
    collector = GuiThreadCollector(app)
    settings = load_settings()
    engine = create_engine(settings)
    speaker = Speaker(engine, settings.output_device.encode())
    transcriber = Transcriber(engine)
    recorder = Recorder(settings.input_device or None)
    window = MainWindow(
        settings, speaker, transcriber, recorder, engine=engine, system_wide_hotkey=False
    )
    driver = Driver(window)
    speaker.utterance_started.connect(driver.started)
    speaker.utterance_finished.connect(driver.finished)
    speaker.utterance_failed.connect(driver.failed)
    transcriber.transcribed.connect(driver.transcribed)
    transcriber.failed.connect(driver.transcribe_failed)
    recorder.failed.connect(driver.recorder_error)
    window.show()
    threading.Thread(target=_read_commands, args=(driver,), name="stdin", daemon=True).start()
    emit("ready")
    code = app.exec()
    window.shutdown()
    collector.stop()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
