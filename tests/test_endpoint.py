"""The base URL and the key are checked before anything is sent, and named when wrong.

The non-loopback case runs in a private network namespace (`unshare -rn`): the address exists
only there, the emulator listens on it, and strace shows whether anything tried to connect.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.emulator import TEST_API_KEY
from tests.emulator.server import Emulator
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.netns import run_in_namespace
from voicedesk.endpoint import check_api_key, check_base_url, is_loopback_host, shown_url
from voicedesk.engines.elevenlabs import ElevenLabsEngine
from voicedesk.errors import InsecureBaseUrlError, InvalidBaseUrlError, MalformedKeyError

pytest_plugins = ["tests.helpers.ui_fixtures"]  # the window fixtures
KEY = "sk_0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, "https://api.elevenlabs.io"),
        ("", "https://api.elevenlabs.io"),
        ("https://api.elevenlabs.io/", "https://api.elevenlabs.io"),
        ("HTTPS://eu.residency.elevenlabs.io", "https://eu.residency.elevenlabs.io"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.8.9.10:80/proxy/", "http://127.8.9.10:80/proxy"),
        ("http://localhost:5000", "http://localhost:5000"),
        ("http://[::1]:5000", "http://[::1]:5000"),
    ],
)
def test_good_urls(url: str | None, expected: str) -> None:
    assert check_base_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["notaurl", "api.elevenlabs.io", "ftp://api.elevenlabs.io", "https://", "http://:80",
     "https://host:99999", "https://host:port", "https://a b.io", "https://x.io/?k=v",
     "https://host\n.io", "file:///etc/passwd"],
)  # fmt: skip
def test_malformed_urls_are_named(url: str) -> None:
    with pytest.raises(InvalidBaseUrlError) as caught:
        check_base_url(url)
    assert shown_url(url) in caught.value.message


@pytest.mark.parametrize("host", ["10.1.2.3", "192.168.1.20", "example.com", "[fd00::1]"])
def test_plain_http_off_this_computer_is_refused_unless_allowed(host: str) -> None:
    with pytest.raises(InsecureBaseUrlError) as caught:
        check_base_url(f"http://{host}:8080")
    assert "https://" in caught.value.message
    assert "VOICEDESK_ALLOW_INSECURE_HTTP" in caught.value.message
    assert check_base_url(f"http://{host}:8080", allow_insecure_http=True) == f"http://{host}:8080"


def test_loopback() -> None:
    assert all(map(is_loopback_host, ["127.0.0.1", "127.255.0.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback_host, ["128.0.0.1", "localhost.example.com", "10.0.0.1"]))


@pytest.mark.parametrize(
    "url",
    [KEY, f"https://user:{KEY}@api.elevenlabs.io", f"https://api.elevenlabs.io/{KEY}?x=1",
     f"{KEY}@api.elevenlabs.io"],
)  # fmt: skip
def test_a_key_pasted_into_the_url_is_never_echoed(url: str) -> None:
    with pytest.raises(InvalidBaseUrlError) as caught:
        check_base_url(url, api_key=KEY)
    error = caught.value
    assert KEY not in error.message and KEY not in repr(error) and KEY not in str(error)
    # Even when nobody told it the key, a key-like word or a password is not repeated.
    with pytest.raises(InvalidBaseUrlError) as caught:
        check_base_url(url)
    assert KEY not in caught.value.message


@pytest.mark.parametrize(
    ("key", "what"),
    [("sk_abc\ndef", "line break"), ("sk_abc def", "space"), ("sk_abc\tdef", "space"),
     ("sk_abcé", "non-ASCII"), ("sk_abc\x00def", "control")],
)  # fmt: skip
def test_malformed_keys(key: str, what: str) -> None:
    with pytest.raises(MalformedKeyError) as caught:
        check_api_key(key)
    assert what in caught.value.message
    assert key not in caught.value.message
    assert check_api_key(f"  {KEY}\n") == KEY  # a pasted trailing newline is not a problem


def test_the_engine_checks_before_it_connects() -> None:
    with pytest.raises(InvalidBaseUrlError):
        ElevenLabsEngine(KEY, "notaurl")
    with pytest.raises(InsecureBaseUrlError):
        ElevenLabsEngine(KEY, "http://10.9.8.7")
    with pytest.raises(MalformedKeyError):
        ElevenLabsEngine("sk_one\nsk_two", "https://api.elevenlabs.io")


# -- through the command line --------------------------------------------------------------


def _one_line(result: subprocess.CompletedProcess[str], *says: str) -> None:
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("voicedesk: "), result.stderr
    for part in says:
        assert part in lines[0]


@pytest.mark.audio
@pytest.mark.parametrize("command", [("voices",), ("say", "Hello."), ("listen", "--seconds", "1")])
def test_cli_names_a_malformed_url(command: tuple[str, ...], tmp_path: Path, pulse) -> None:
    env = cli_env(tmp_path, TEST_API_KEY, "notaurl")
    env["QT_QPA_PLATFORM"] = "offscreen"
    _one_line(run_cli(*command, env=env, input=""), "notaurl", "not a valid http(s) URL")


@pytest.mark.parametrize("key", ["sk_line\nbreak", "sk_ünïcode"])
def test_cli_names_a_malformed_key(key: str, tmp_path: Path, emulator: Emulator) -> None:
    result = run_cli("voices", env=cli_env(tmp_path, key, emulator.base_url))
    _one_line(result, "API key contains")
    assert emulator.requests() == []  # nothing was sent


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
def test_plain_http_to_another_computer_never_connects() -> None:
    address = "10.203.0.7"  # exists only inside the test's own network namespace
    env = {"ELEVENLABS_API_KEY": TEST_API_KEY}
    refused = run_in_namespace(address, env, ["voices"])
    assert refused["returncode"] == 1
    assert refused["stderr"].count("\n") == 1
    assert "https://" in refused["stderr"] and str(refused["base_url"]) in refused["stderr"]
    assert refused["connects"] == [] and refused["requests"] == 0
    # The same, explicitly allowed: it does connect, so the check above could see a connect.
    allowed = run_in_namespace(address, {**env, "VOICEDESK_ALLOW_INSECURE_HTTP": "1"}, ["voices"])
    assert allowed["returncode"] == 0, allowed["stderr"]
    assert allowed["connects"] and allowed["requests"] == 1


# -- through the window --------------------------------------------------------------------

ui = pytest.mark.qt_log_ignore("propagateSizeHints")


@ui
@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"base_url": "notaurl"}, "notaurl"),
        ({"base_url": "http://10.9.8.7:80"}, "https://"),
        ({"api_key": "sk_one\nsk_two"}, "API key contains a line break"),
    ],
    ids=["malformed-url", "plain-http", "malformed-key"],
)
def test_window_says_what_is_wrong_and_keeps_the_text(
    changes: dict[str, str], says: str, make_window, qtbot, emulator: Emulator
) -> None:
    window = make_window(**changes)
    assert says in window.banner.text
    assert "Could not reach" not in window.banner.text
    window.panel.set_text("Still here.")
    assert window.panel.text == "Still here."
    assert emulator.requests() == []


@ui
def test_settings_refuses_to_save_a_bad_url_and_says_why(window, qtbot, emulator, store) -> None:
    dialog = window.open_settings()
    dialog.base_url.setText("http://10.9.8.7:8080")
    dialog.accept()
    assert dialog.isVisible()  # still open, with the reason under the field
    assert dialog.url_problem.isVisible() and "https://" in dialog.url_problem.text()
    assert window.settings.base_url == emulator.base_url
    dialog.base_url.setText(emulator.base_url)
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        dialog.accept()
