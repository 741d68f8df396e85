"""Settings: where the API key comes from, where it may (and may not) be stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from tests.helpers.memory_keyring import MemoryKeyring, memory_keyring
from voicedesk import config
from voicedesk.config import KEYRING_SERVICE, KEYRING_USER, Settings

KEY = "sk_config_test_0123456789"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory and config directory, no key in the environment."""
    work, conf = tmp_path / "work", tmp_path / "config"
    work.mkdir()
    conf.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(conf))
    for name in (
        "ELEVENLABS_API_KEY",
        "ELEVENLABS_BASE_URL",
        "VOICEDESK_ENGINE",
        "VOICEDESK_ALLOW_INSECURE_HTTP",
        "VOICEDESK_READ_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path


@pytest.fixture
def keys() -> Iterator[MemoryKeyring]:
    with memory_keyring() as backend:
        yield backend


def store_file(home: Path) -> Path:
    return home / "settings.ini"


def _store(home: Path) -> config.QSettings:
    return config.QSettings(str(store_file(home)), config.QSettings.Format.IniFormat)


def test_no_key_anywhere_means_the_offline_engine(home: Path, keys: MemoryKeyring) -> None:
    settings = config.load_settings(_store(home))
    assert settings.api_key is None and settings.api_key_source == ""
    assert settings.resolved_engine() == "local"


def test_the_environment_wins_over_dotenv_and_keyring(
    home: Path, keys: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys.set_password(KEYRING_SERVICE, KEYRING_USER, "from-keyring")
    (home / "work" / ".env").write_text("ELEVENLABS_API_KEY=from-dotenv\n")
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    assert config.load_api_key() == (KEY, "environment")


def test_dotenv_in_the_working_directory_then_the_config_directory(
    home: Path, keys: MemoryKeyring
) -> None:
    (home / "config" / "voicedesk").mkdir()
    (home / "config" / "voicedesk" / ".env").write_text("ELEVENLABS_API_KEY=from-config\n")
    assert config.load_api_key() == ("from-config", ".env")
    (home / "work" / ".env").write_text("ELEVENLABS_API_KEY='from-work'\n")
    assert config.load_api_key() == ("from-work", ".env")


def test_a_key_stored_from_settings_goes_to_the_keyring_only(
    home: Path, keys: MemoryKeyring
) -> None:
    config.store_api_key(f"  {KEY}\n")  # pasted with stray blanks
    assert keys.secrets == {(KEYRING_SERVICE, KEYRING_USER): KEY}
    settings = config.load_settings(_store(home))
    assert (settings.api_key, settings.api_key_source) == (KEY, "keyring")
    assert settings.resolved_engine() == "elevenlabs"
    config.save_settings(settings, _store(home))
    written = "".join(p.read_text() for p in home.rglob("*") if p.is_file())
    assert KEY not in written
    assert KEY not in repr(settings)
    config.store_api_key("")
    assert keys.secrets == {}


def test_no_keyring_or_a_plaintext_one_is_refused(home: Path) -> None:
    previous = keyring.get_keyring()
    try:
        keyring.set_keyring(fail.Keyring())
        assert not config.keyring_available()
        with pytest.raises(RuntimeError, match="keyring"):
            config.store_api_key(KEY)

        class PlaintextKeyring(MemoryKeyring):
            pass

        PlaintextKeyring.__module__ = "keyrings.alt.file"
        keyring.set_keyring(PlaintextKeyring())
        assert not config.keyring_available()
    finally:
        keyring.set_keyring(previous)


def test_settings_round_trip_through_qsettings(home: Path, keys: MemoryKeyring) -> None:
    chosen = Settings(
        engine="elevenlabs",
        base_url="http://127.0.0.1:1234",
        voice_id="voice-x",
        stability=0.4,
        similarity=0.8,
        speed=1.1,
        output_device="dev-out",
        input_device="mic-1",
        volume=0.5,
        ptt_key="F8",
        offline_fallback=True,
    )
    config.save_settings(chosen, _store(home))
    loaded = config.load_settings(_store(home))
    assert loaded == chosen
    assert loaded.voice_settings() == {"stability": 0.4, "similarity_boost": 0.8, "speed": 1.1}


def test_environment_overrides_engine_and_base_url(
    home: Path, keys: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEDESK_ENGINE", "local")
    monkeypatch.setenv("ELEVENLABS_BASE_URL", "http://127.0.0.1:9999/")
    settings = config.load_settings(_store(home))
    assert settings.engine == "local" and settings.base_url == "http://127.0.0.1:9999/"


@pytest.mark.parametrize(("saved", "loaded"), [(0.0, 0.0), (0.35, 0.35), (7, 1.0), ("x", 1.0)])
def test_volume_round_trips_and_a_muted_volume_stays_muted(
    home: Path, keys: MemoryKeyring, saved: object, loaded: float
) -> None:
    store = _store(home)
    store.setValue(config.Key.VOLUME, saved)
    assert config.load_settings(store).volume == loaded


def test_what_came_from_the_environment_is_used_but_never_saved(
    home: Path, keys: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(home)
    config.save_settings(Settings(base_url="https://saved.example", engine="local"), store)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", "http://127.0.0.1:9/one-off")
    monkeypatch.setenv("VOICEDESK_ENGINE", "elevenlabs")
    monkeypatch.setenv("VOICEDESK_READ_TIMEOUT", "3")
    loaded = config.load_settings(store)
    assert loaded.base_url == "http://127.0.0.1:9/one-off"
    assert loaded.engine == "elevenlabs" and loaded.read_timeout == 3.0
    assert loaded.from_environment == {"base_url", "engine", "read_timeout"}

    config.save_settings(config.replace(loaded, volume=0.5), store)  # Settings → Save
    for name in ("ELEVENLABS_BASE_URL", "VOICEDESK_ENGINE", "VOICEDESK_READ_TIMEOUT"):
        monkeypatch.delenv(name)
    later = config.load_settings(_store(home))
    assert later.base_url == "https://saved.example" and later.engine == "local"
    assert later.read_timeout == config.DEFAULT_READ_TIMEOUT and later.volume == 0.5
    assert later.from_environment == frozenset()


def test_new_settings_round_trip(home: Path, keys: MemoryKeyring) -> None:
    store = _store(home)
    chosen = Settings(
        allow_insecure_http=True,
        read_timeout=4.5,
        live_transcript=False,
        type_into_focused=True,
        insert_method="type",
    )
    config.save_settings(chosen, store)
    loaded = config.load_settings(_store(home))
    assert (loaded.allow_insecure_http, loaded.read_timeout, loaded.live_transcript) == (
        True,
        4.5,
        False,
    )
    assert loaded.type_into_focused and loaded.insert_method == "type"
    assert config.load_settings(_store(home / "fresh")).live_transcript is None
