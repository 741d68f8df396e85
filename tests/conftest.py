"""Suite-wide set-up: headless Qt, the private sound server, the ElevenLabs emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Before anything imports Qt: no display here, and no stray platform plugins.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The SDK reads this at import time; the tests always pass keys explicitly.
os.environ.pop("ELEVENLABS_API_KEY", None)
os.environ.pop("ELEVENLABS_BASE_URL", None)

from voicedesk import early_init

early_init.apply()  # the process settings the app makes first (telemetry off, switch interval)

pytest_plugins = ["tests.helpers.pulse", "tests.helpers.xvfb", "tests.emulator.plugin"]


@pytest.fixture(autouse=True)
def _no_plan_limit_left_over() -> Iterator[None]:
    """A window that read a plan's `maximum-concurrent-requests` lowers the process-wide slot
    count (`limits.set_plan_limit`); the next test starts with all of them again."""
    yield
    from voicedesk import limits

    limits.set_plan_limit(None)
