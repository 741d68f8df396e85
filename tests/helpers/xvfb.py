"""A private X server (Xvfb) for tests that drive real windows with xdotool.

A pytest plugin (tests/conftest.py loads it): the `display` fixture is
the DISPLAY value of a fresh Xvfb, stopped after the test.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.sounds import speech_pcm

TOOLS = ("Xvfb", "xdotool", "espeak-ng", "import")


def free_display() -> int:
    for number in range(91, 200):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            return number
    raise RuntimeError("no free X display number")


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    """Poll `condition` until it is true; `seconds` is an upper bound, not a delay."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        threading.Event().wait(0.05)


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb display (":N"); skips when the X tools are not installed."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    number = free_display()
    xvfb = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: Path(f"/tmp/.X11-unix/X{number}").exists(), 10, "Xvfb")
        yield f":{number}"
    finally:
        xvfb.terminate()
        xvfb.wait(5)


class Desktop:
    """xdotool and screenshots on one display (`env` carries DISPLAY)."""

    def __init__(self, env: dict[str, str], artifacts: Path) -> None:
        self.env = env
        self.artifacts = artifacts

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=20
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def find_window(self, name: str) -> str:
        """The first mapped window whose title matches `name` (a regex), focused."""
        # Only a mapped window can take focus: a search that also finds it unmapped races.
        window = self.xdotool("search", "--sync", "--onlyvisible", "--name", name).splitlines()[0]
        self.xdotool("windowfocus", "--sync", window)
        return window

    def screenshot(self, name: str) -> None:
        self.artifacts.mkdir(exist_ok=True)
        subprocess.run(
            ["import", "-window", "root", str(self.artifacts / name)],
            env=self.env, check=True, timeout=20,
        )  # fmt: skip

    def grab(self, window: str) -> bytes:
        return subprocess.run(
            ["import", "-window", window, "rgb:-"], env=self.env, capture_output=True, timeout=20
        ).stdout


def speech_with_pauses(text: str) -> bytes:
    """espeak-ng's voice at 16 kHz (what the microphone hears), with a quarter second of
    silence each side, as people pause."""
    silence = bytes(2 * 4_000)
    return silence + speech_pcm(text) + silence
