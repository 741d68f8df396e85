"""The fault matrix through the command line: `say` and `listen` against a misbehaving service.

Every fault ends with one line on stderr and exit status 1 (or, where the fault is survivable,
success), never a traceback, never a hang, never the key; all API slots come back and no thread
is left running. The whole matrix runs the commands in this process (`cli.main`), so it takes
seconds; a few cases also run as real `python -m voicedesk` processes.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.emulator import Fault
from tests.emulator.config import DEFAULT_TRANSCRIPT, TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.fault_cases import HTML, READ_TIMEOUT, Case, params
from tests.helpers.pulse import PulseServer
from tests.helpers.secrets import LOGGERS, leaks
from tests.helpers.threads import app_threads
from voicedesk import cli, limits

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]

TEXT = "Faults are part of life."


def one_clear_line(code: int, out: str, err: str, says: str | None) -> None:
    assert TEST_API_KEY not in out + err
    if says is None:
        assert code == 0, err
        return
    assert code == 1, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("voicedesk: ") and says in lines[0], lines[0]


def _user_env(mp: pytest.MonkeyPatch, tmp_path: Path, base_url: str) -> None:
    for name in list(os.environ):
        if name.startswith(("ELEVENLABS_", "VOICEDESK_")):
            mp.delenv(name)
    mp.setenv("ELEVENLABS_API_KEY", TEST_API_KEY)
    mp.setenv("ELEVENLABS_BASE_URL", base_url)
    mp.setenv("VOICEDESK_READ_TIMEOUT", str(READ_TIMEOUT))
    mp.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    mp.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    mp.setenv("ORT_DISABLE_TELEMETRY", "1")  # what cli.main sets, undone afterwards
    mp.setenv("QT_LOGGING_RULES", "qt.multimedia.ffmpeg.info=false")
    mp.chdir(tmp_path)
    mp.setattr("sys.stdin", io.StringIO(""))


@contextmanager
def _collector_on_this_thread() -> Iterator[None]:
    # Python's collector runs on whichever thread allocates: keep it off the worker threads
    # (freeing QObjects there deadlocked the window tests; see tests/helpers/ui_fixtures.py).
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


@pytest.fixture(scope="module")
def warmed(pulse: PulseServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    """One `say` and one `listen` first: Qt and PortAudio start threads on first use that live
    as long as the process (a real command exits); later counts start from there."""
    with Emulator() as emu, pytest.MonkeyPatch.context() as mp, _collector_on_this_thread():
        _user_env(mp, tmp_path_factory.mktemp("warm"), emu.base_url)
        assert cli.main(["say", "Warm."]) == 0
        assert cli.main(["listen", "--seconds", "2"]) == 0


@pytest.fixture
def voicedesk(
    warmed: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    emulator: Emulator,
) -> Iterator[Callable[..., tuple[int, str, str]]]:
    """`voicedesk(*args)`: the command run in this process as a user's environment sets it up,
    logging at DEBUG; (exit status, stdout, stderr). Checks the slots and that the key is in no
    output or log record after each run, the threads at the end."""
    _user_env(monkeypatch, tmp_path, emulator.base_url)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    capsys.readouterr()
    baseline = app_threads()

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        assert limits.API_SLOTS.available() == limits.MAX_CONCURRENT_API_CALLS
        assert not leaks(TEST_API_KEY, out, err, records=caplog.records)
        return code, out, err

    with _collector_on_this_thread():
        yield run
    settle = threading.Event()  # never set: a bounded wait for threads that are ending
    for _ in range(100):
        if app_threads() <= baseline:
            break
        settle.wait(0.05)
    assert app_threads() <= baseline, "a thread was left running"


@pytest.mark.parametrize("case", params("tts"))
def test_say(case: Case, voicedesk, emulator: Emulator) -> None:
    emulator.always("tts", case.tts)
    code, out, err = voicedesk("say", TEXT)
    one_clear_line(code, out, err, case.tts_says)
    assert emulator.requests("tts")  # the fault was met, not skipped
    emulator.faults.clear()
    assert voicedesk("say", "Working again.")[0] == 0


@pytest.mark.parametrize("case", params("stt"))
def test_listen(case: Case, voicedesk, emulator: Emulator) -> None:
    emulator.always("stt", case.stt)
    code, out, err = voicedesk("listen", "--seconds", "2")
    one_clear_line(code, out, err, case.stt_says)
    assert emulator.requests("stt")
    assert out == (f"{DEFAULT_TRANSCRIPT}\n" if case.stt_says is None else "")


# -- as real processes: what a user's shell sees --------------------------------------------


@pytest.mark.parametrize(
    ("command", "kind", "fault", "says"),
    [
        (("say", TEXT), "tts", Fault.answer(HTML, "text/html"), "text/html instead of audio"),
        (("say", TEXT), "tts", Fault.stall(after=3000), "connection dropped"),
        (("listen", "--seconds", "2"), "stt", Fault.answer(HTML, "text/html"), "expected JSON"),
    ],
    ids=["say-html", "say-stall", "listen-html"],
)
def test_as_a_process(
    command: tuple[str, ...],
    kind: str,
    fault: Fault,
    says: str,
    tmp_path: Path,
    pulse: PulseServer,
    emulator: Emulator,
) -> None:
    emulator.always(kind, fault)  # type: ignore[arg-type]
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    env.update(VOICEDESK_READ_TIMEOUT=str(READ_TIMEOUT), QT_QPA_PLATFORM="offscreen")
    result: subprocess.CompletedProcess[str] = run_cli(*command, env=env, input="", timeout=45)
    one_clear_line(result.returncode, result.stdout, result.stderr, says)
