"""The API key stays secret on every error path: logs at DEBUG, stderr, exceptions, `--stats`,
the window; a `.env` others can read is pointed out; Test key uses the key in use."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

from tests.emulator import TEST_API_KEY, Fault
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.fault_cases import CASES, HTML, READ_TIMEOUT, Case
from tests.helpers.secrets import LOGGERS, leaks, widget_texts
from voicedesk import redact
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.errors import VoiceDeskError
from voicedesk.limits import RetryPolicy

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
ui = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_log_records_are_redacted_whoever_logs(debug_logs: pytest.LogCaptureFixture) -> None:
    secret = "sk_redact_me_0123456789"
    redact.register_secret(secret)
    logging.getLogger("httpcore.http11").debug("send_request_headers headers=%r", [secret])
    try:
        raise RuntimeError(f"boom {secret}")
    except RuntimeError:
        logging.getLogger("somewhere").exception("failed")
    assert not leaks(secret, debug_logs.text, records=debug_logs.records)
    assert "***" in debug_logs.text


def _exception_texts(error: BaseException) -> list[str]:
    """str and repr of the error and of everything chained to it."""
    texts, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return texts


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_engine_errors_never_carry_the_key(
    case: Case, emulator: Emulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    engine = ElevenLabsEngine(
        TEST_API_KEY, emulator.base_url, timeout=READ_TIMEOUT, retry=RetryPolicy(2, 0.05)
    )
    texts: list[str] = []
    try:
        for kind, fault in (("tts", case.tts), ("stt", case.stt)):
            if fault is None:
                continue
            emulator.always(kind, fault)  # type: ignore[arg-type]
            try:
                if kind == "tts":
                    b"".join(engine.stream_speech("Secrets stay secret."))
                else:
                    engine.transcribe_audio(b"\x00\x01" * 16000)
            except VoiceDeskError as error:
                texts += _exception_texts(error)
    finally:
        engine.close()
    assert not leaks(TEST_API_KEY, *texts, records=debug_logs.records)


# -- the command line, logging at DEBUG to stderr -------------------------------------------


@pytest.mark.audio
@pytest.mark.parametrize(
    ("args", "kind", "fault"),
    [
        (("say", "--stats", "Hello."), "tts", None),
        (("say", "--stats", "Hello."), "tts", Fault.invalid_key()),
        (("say", "Hello."), "tts", Fault.answer(HTML, "text/html")),
        (("say", "Hello."), "tts", Fault.cut(after=3000)),
        (("listen", "--seconds", "1"), "stt", Fault.server_error()),
        (("voices",), "voices", Fault.answer(b'{"voices": 3}', "application/json")),
    ],
    ids=["say-stats", "say-401", "say-html", "say-cut", "listen-500", "voices-garbage"],
)
def test_cli_at_debug_never_prints_the_key(
    args: tuple[str, ...], kind: str, fault: Fault | None, tmp_path: Path, pulse, emulator: Emulator
) -> None:
    emulator.always(kind, fault)  # type: ignore[arg-type]
    env = cli_env(tmp_path, TEST_API_KEY, emulator.base_url)
    env.update(QT_QPA_PLATFORM="offscreen", VOICEDESK_LOG_LEVEL="DEBUG")
    result = run_cli(*args, env=env, input="")
    assert "DEBUG httpcore" in result.stderr  # logging really was on, headers and all
    assert TEST_API_KEY not in result.stdout + result.stderr
    if fault is None:
        assert result.returncode == 0, result.stderr
        assert '"first_byte"' in result.stderr  # the --stats line
    else:
        assert result.returncode == 1


# -- a .env that others can read ------------------------------------------------------------


def _dotenv(directory: Path, mode: int) -> Path:
    path = directory / ".env"
    path.write_text(f"ELEVENLABS_API_KEY={TEST_API_KEY}\n")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o600, 0o640])
def test_cli_warns_about_a_world_readable_dotenv(
    mode: int, tmp_path: Path, emulator: Emulator
) -> None:
    env = cli_env(tmp_path, None, emulator.base_url)
    home = Path(env["HOME"])
    home.mkdir(parents=True, exist_ok=True)
    path = _dotenv(home, mode)  # the working directory's .env
    result = run_cli("voices", env=env)
    assert result.returncode == 0, result.stderr  # a warning, not an error: the key is used
    assert result.stdout
    if mode & 0o004:
        assert result.stderr.count("\n") == 1
        assert result.stderr.startswith("voicedesk: warning: ")
        assert str(path) in result.stderr and f"chmod 600 {path}" in result.stderr
        assert TEST_API_KEY not in result.stderr
    else:
        assert result.stderr == ""


@ui
def test_window_warns_about_a_world_readable_dotenv(make_window, store, tmp_path: Path) -> None:
    path = _dotenv(tmp_path, 0o644)  # the store fixture made tmp_path the working directory
    window = make_window()
    assert window.banner.kind == "info"
    assert f"chmod 600 {path}" in window.banner.text
    assert not leaks(TEST_API_KEY, *widget_texts(window))


# -- Test key, and the settings dialog -----------------------------------------------------


@ui
@pytest.mark.parametrize("source", ["environment", ".env", "nowhere"])
def test_test_key_uses_the_key_in_use_when_the_field_is_empty(
    source: str, make_window, qtbot, emulator: Emulator, tmp_path: Path, monkeypatch
) -> None:
    # The window's own key is not a valid one: "The key works" can only come from the other.
    window = make_window(api_key="sk_saved_but_not_valid_0000")
    if source == "environment":
        monkeypatch.setenv("ELEVENLABS_API_KEY", TEST_API_KEY)
    elif source == ".env":
        _dotenv(tmp_path, 0o600)
    dialog = window.open_settings()
    dialog.api_key.clear()
    dialog.test_key()
    qtbot.waitUntil(dialog.test_button.isEnabled, timeout=10000)
    if source == "nowhere":
        assert "Enter a key first" in dialog.key_result.text()
    else:
        assert dialog.key_result.text().startswith("The key works")
    assert not leaks(TEST_API_KEY, *widget_texts(dialog)[1:])  # [0]: the (empty) key field
    dialog.reject()


@ui
def test_settings_names_a_malformed_key_without_showing_it(window, qtbot, emulator) -> None:
    dialog = window.open_settings()
    pasted = "sk_first\nsk_second"
    dialog.api_key.setText(pasted)
    dialog.accept()
    assert dialog.isVisible()
    assert "line break" in dialog.key_result.text() or "contains" in dialog.key_result.text()
    dialog.reject()


def test_a_debug_session_in_process_never_logs_the_key(
    emulator: Emulator, debug_logs: pytest.LogCaptureFixture
) -> None:
    """httpx and httpcore at DEBUG, every request kind: no record holds the key."""
    engine = ElevenLabsEngine(TEST_API_KEY, emulator.base_url, timeout=READ_TIMEOUT)
    try:
        b"".join(engine.stream_speech("Hello."))
        engine.transcribe_audio(b"\x00\x01" * 16000)
        engine.voices()
        engine.quota()
    finally:
        engine.close()
    assert any(r.name.startswith("httpcore") for r in debug_logs.records)
    assert not leaks(TEST_API_KEY, debug_logs.text, records=debug_logs.records)


@pytest.mark.skipif(sys.platform != "linux", reason="modes are POSIX")
def test_dotenv_warning_only_for_a_dotenv_holding_the_key(tmp_path: Path, monkeypatch) -> None:
    from voicedesk.config import dotenv_key_warning

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    path = tmp_path / ".env"
    path.write_text("OTHER=1\n")
    path.chmod(0o644)
    assert dotenv_key_warning() is None
    _dotenv(tmp_path, 0o644)
    assert dotenv_key_warning() is not None
    os.chmod(path, 0o600)
    assert dotenv_key_warning() is None
