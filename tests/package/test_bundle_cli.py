"""The bundle's command line with no Python around: `--version`, `say` and `listen` offline, and
`say` through ElevenLabs (the emulator), whose MP3 the bundle's PyAV decodes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.emulator.config import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.pulse import OUT_RATE, PulseServer
from tests.helpers.sounds import speech_pcm
from tests.helpers.xvfb import wait_for
from tests.package.conftest import python_locations, run_bundle
from voicedesk import __version__

pytestmark = [pytest.mark.package, pytest.mark.timeout(300)]

_EXECVE = re.compile(r'execve\("([^"]+)"')
_OPENED = re.compile(r'open(?:at)?\((?:AT_FDCWD, )?"([^"]+)"')


def test_version(bundle: Path, bundle_env: dict[str, str]) -> None:
    result = run_bundle(bundle, "--version", env=bundle_env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"voicedesk {__version__}"


def test_say_offline_is_heard_and_uses_only_the_bundle(
    bundle: Path, bundle_env: dict[str, str], pulse: PulseServer, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.txt"
    strace = ["strace", "-f", "-qq", "-e", "trace=execve,open,openat", "-o", str(trace)]
    with pulse.record_output() as heard:
        result = subprocess.run(
            [*strace, str(bundle / "voicedesk"), "say", "--engine", "local",
             "Hello from the packaged voice."],
            env=bundle_env, cwd=bundle_env["HOME"], capture_output=True, text=True, timeout=240,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loud = np.flatnonzero(np.abs(heard.samples()) > 0.02)
    assert loud.size and (loud[-1] - loud[0]) / OUT_RATE > 1.0  # a sentence, not a click

    lines = trace.read_text().splitlines()
    executed = [m.group(1) for line in lines if (m := _EXECVE.search(line))]
    assert executed[0] == str(bundle / "voicedesk")
    assert not [path for path in executed if "python" in Path(path).name]
    opened = {m.group(1) for line in lines if (m := _OPENED.search(line))}
    assert any(path.startswith(str(bundle)) for path in opened)  # tracing works
    for place in python_locations():
        assert not [path for path in opened if path.startswith(place + "/")], place


# Whisper tiny.en hears espeak-ng's "brown fox" as anything from "round five" to "ground-fark";
# the smoke test wants speech through the bundle, not tiny.en's accuracy (bench/ measures that).
WORDS = ("quick", "brown", "fox", "jump", "over", "lazy", "dog")


def _listen_once(bundle: Path, env: dict[str, str], pulse: PulseServer, clip: bytes) -> str:
    """One `voicedesk listen` take of `clip` played into the virtual mic; its transcript."""
    app = subprocess.Popen(
        [str(bundle / "voicedesk"), "listen", "--engine", "local"],
        env=env, cwd=env["HOME"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(
            lambda: (
                "Source Output #" in pulse.pactl("list", "source-outputs") or app.poll() is not None
            ),
            120,
            "the bundle to open the microphone",
        )
        assert app.poll() is None, app.communicate()[1]
        mapped = {
            line.split()[-1]
            for line in Path(f"/proc/{app.pid}/maps").read_text().splitlines()
            if "libportaudio" in line
        }
        assert mapped, "PortAudio is not loaded"
        assert all(path.startswith(str(bundle) + "/") for path in mapped), mapped
        assert pulse.play_into_mic(clip).wait(30) == 0
        out, err = app.communicate("\n", timeout=180)  # Enter ends the take
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate(timeout=10)
    assert app.returncode == 0, err
    return out


@pytest.mark.timeout(600)
def test_listen_offline_through_the_bundled_portaudio(
    bundle: Path, bundle_env: dict[str, str], pulse: PulseServer
) -> None:
    silence = bytes(2 * 8_000)  # half a second, as people pause before speaking
    clip = silence + speech_pcm("The quick brown fox jumps over the lazy dog.") + silence
    # On a loaded machine the null sink can drop blocks of the clip (the recorder tests
    # retry for the same reason); a take that lost words is taken again, at most thrice.
    transcripts = []
    for _ in range(3):
        transcripts.append(_listen_once(bundle, bundle_env, pulse, clip))
        if sum(word in transcripts[-1].lower() for word in WORDS) >= 3:
            return
    raise AssertionError(f"the words were not heard: {transcripts}")


def test_say_through_elevenlabs_decodes_mp3_with_the_bundled_pyav(
    bundle: Path, bundle_env: dict[str, str], pulse: PulseServer, emulator: Emulator
) -> None:
    """The default engine: MP3 from the emulator on 127.0.0.1, decoded by the bundle's PyAV (its
    libavcodec loads the encoder stand-ins, packaging/stub_library.py) and heard."""
    env = {
        **bundle_env,
        "ELEVENLABS_API_KEY": TEST_API_KEY,
        "ELEVENLABS_BASE_URL": emulator.base_url,
    }
    with pulse.record_output() as heard:
        result = run_bundle(
            bundle, "say", "--engine", "elevenlabs", "Hello from the cloud voice.", env=env
        )
        assert result.returncode == 0, result.stderr
        assert heard.wait_for_sound(30)
    assert emulator.last("tts").json["text"] == "Hello from the cloud voice."
