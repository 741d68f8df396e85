"""Process-wide settings made once, first thing, by every entry point (`cli.main`,
`python -m voicedesk`, the PyInstaller entry; the test suite and the benchmarks too).

Everything here is read by a library once, when it loads or initialises, so it must be set
before anything imports that library; no other module sets environment variables or
interpreter switches at import time. `apply()` is idempotent.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import sys

from voicedesk.audio import pulse_client

# Forced (a user's value does not win): both keep the offline engine from reaching the network
# or writing to the disk. huggingface_hub reads these once, at import: even a bug that made
# faster-whisper resolve a model name (not our path) fails instead of downloading.
# onnxruntime >= 1.29 ships 1DS telemetry on Linux: an uploader plus a SQLite cache it creates in
# ~/.cache/Microsoft/DeveloperTools/.onnxruntime/; the opt-out is latched when onnxruntime
# initialises (https://github.com/microsoft/onnxruntime/pull/27379).
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ORT_DISABLE_TELEMETRY": "1",
}

# Defaults (a user's value wins): library noise a user of ours need not see.
DEFAULT_ENV = {
    # Qt Multimedia announces its FFmpeg version on every start; a `say` user needs only our line.
    "QT_LOGGING_RULES": "qt.multimedia.ffmpeg.info=false",
    # PortAudio's JACK host API would otherwise try to start a JACK server of its own each time
    # it initialises (importing sounddevice does) and print that it could not.
    "JACK_NO_START_SERVER": "1",
}

# The sink is fed by Python on the audio thread once per ~6 ms period, and a thread that wants
# the GIL waits up to the switch interval (5 ms by default) while another holds it: with a busy
# worker or GUI that is enough to under-run a small sink buffer. 1 ms keeps the feed on time.
GIL_SWITCH_INTERVAL = 0.001


def offline_env() -> None:
    """The offline engine's no-network, no-disk switches (also called right before it loads its
    models, so that a caller that skipped `apply()` still cannot download or write)."""
    for name, value in OFFLINE_ENV.items():
        # Written only when missing: after `apply()` nothing is written from the worker thread
        # that loads the models (setenv is not safe against a C library's getenv elsewhere).
        if os.environ.get(name) != value:
            os.environ[name] = value


def apply() -> None:
    offline_env()
    for name, value in DEFAULT_ENV.items():
        os.environ.setdefault(name, value)
    # Before the first connection to the sound server (sounddevice's import, Qt Multimedia):
    # without shared memory, a microphone stream can't deadlock when the server dies.
    pulse_client.disable_shared_memory()
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL))
    # A crash in native code (Qt, PortAudio, onnxruntime) would end the process with nothing
    # said: every thread's Python stack on stderr says where, for a bug report. (No stderr at
    # all in a windowed build on Windows.)
    if sys.stderr is not None and not faulthandler.is_enabled():
        with contextlib.suppress(AttributeError, OSError, ValueError):
            faulthandler.enable(all_threads=True)
