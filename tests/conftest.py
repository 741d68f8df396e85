"""Suite-wide set-up: headless Qt, the private sound server, the ElevenLabs emulator."""

from __future__ import annotations

import os

# Before anything imports Qt: no display here, and no stray platform plugins.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The SDK reads this at import time; the tests always pass keys explicitly.
os.environ.pop("ELEVENLABS_API_KEY", None)
os.environ.pop("ELEVENLABS_BASE_URL", None)

from voicedesk import early_init

early_init.apply()  # the process settings the app makes first (telemetry off, switch interval)

pytest_plugins = ["tests.helpers.pulse", "tests.helpers.xvfb", "tests.emulator.plugin"]
