"""A budget session in a process of its own, traced under strace (test_budget_storage.py).

Runs what the window runs for credits, concurrency and erase after use (the `Budget` handle,
its pool tasks and timers) on a `QCoreApplication`: speech and a transcription with the real
SDK against the emulator named by ELEVENLABS_BASE_URL, then waits until every deletion has
gone through (failures retried every 100 ms). Prints one JSON line with what it saw; exits 0
on success, 1 if something was still pending after `DEADLINE_MS`.
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QCoreApplication, QTimer

from voicedesk import limits
from voicedesk.config import Settings
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.workers.budget import Budget
from voicedesk.workers.threads import TaskGroup, shutdown_pool

DEADLINE_MS = 60_000
PCM = b"\x00\x10\x00\xf0" * 8000


def main() -> int:
    app = QCoreApplication(sys.argv)
    engine = ElevenLabsEngine(
        os.environ["ELEVENLABS_API_KEY"],
        base_url=os.environ["ELEVENLABS_BASE_URL"],
        erase_after_use=True,
    )
    budget = Budget()
    budget.eraser._retry.setInterval(100)
    budget.apply(Settings(erase_after_use=True))
    budget.set_engine(engine)
    seen: dict[str, object] = {"erased": 0}
    tasks = TaskGroup("session")
    requests_done = [0]

    def work() -> None:
        engine.generate_speech("Nothing of this is kept, there or here.")
        engine.transcribe_audio(PCM)

    def pending(count: int, _error: str) -> None:
        seen["pending_max"] = max(int(seen.get("pending_max", 0)), count)  # type: ignore[call-overload]
        if count == 0 and requests_done[0]:
            app.quit()

    def finished() -> None:
        requests_done[0] = 1
        if budget.eraser.pending == 0:
            app.quit()

    budget.eraser.pending_changed.connect(pending)
    tasks.start(work)
    done_poll = QTimer()
    done_poll.setInterval(20)
    done_poll.timeout.connect(lambda: tasks.busy == 0 and not requests_done[0] and finished())
    done_poll.start()
    QTimer.singleShot(DEADLINE_MS, app.quit)
    app.exec()
    seen["pending"] = budget.eraser.pending
    seen["slots"] = limits.app_slots()
    budget.shutdown()
    engine.close()
    shutdown_pool()
    print(json.dumps(seen), flush=True)
    return 0 if seen["pending"] == 0 and requests_done[0] else 1


if __name__ == "__main__":
    sys.exit(main())
