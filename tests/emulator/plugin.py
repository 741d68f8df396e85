"""pytest fixtures: a fresh emulator per test, the SDK client pointed at it, expected MP3 bytes.

Enable with `pytest_plugins = ["tests.emulator.plugin"]`. Settings for one test:

    @pytest.mark.emulator(ttfb=0.25, chunk_size=1)
    def test_slow_start(emulator): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from elevenlabs.client import ElevenLabs

from .audio import speech_mp3
from .catalog import DEFAULT_VOICE_ID
from .config import TEST_API_KEY
from .server import Emulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "emulator(**settings): Settings for this test's ElevenLabs emulator"
    )


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A running emulator with fresh state (its own port, so no stale keep-alive connection
    from an earlier test can reach it). Fails the test if the emulator itself crashed."""
    marker = request.node.get_closest_marker("emulator")
    with Emulator(**(marker.kwargs if marker else {})) as emu:
        yield emu
        errors = list(emu.internal_errors)
    assert not errors, f"the emulator crashed while serving: {errors!r}"


@pytest.fixture
def emulator_client(emulator: Emulator) -> Iterator[ElevenLabs]:
    """The real SDK client, pointed at the emulator with the valid test key."""
    # Plain HTTP to 127.0.0.1: verify=False only skips loading the CA bundle (~0.1 s a client).
    with httpx.Client(timeout=10, verify=False) as http:
        yield ElevenLabs(api_key=TEST_API_KEY, base_url=emulator.base_url, httpx_client=http)


@pytest.fixture
def tts_mp3(emulator: Emulator) -> Callable[..., bytes]:
    """`tts_mp3(text, voice_id=..., output_format=...)`: the exact bytes the emulator serves."""

    def expected(
        text: str, voice_id: str = DEFAULT_VOICE_ID, output_format: str = "mp3_44100_128"
    ) -> bytes:
        voice = emulator.settings.voice(voice_id)
        frequency = voice.frequency if voice else None
        return speech_mp3(text, emulator.settings.audio, output_format, frequency)

    return expected
