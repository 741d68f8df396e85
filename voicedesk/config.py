"""Settings: one frozen dataclass the rest of the app reads.

Sources, first wins: the environment, a `.env` (working directory, then the user config
directory), the system keyring (API key only), QSettings (everything the Settings dialog edits).
The API key is never written to QSettings or any file of ours: only to the keyring.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from PySide6.QtCore import QSettings

from voicedesk.engines import ENGINE_CHOICES, EngineChoice

log = logging.getLogger(__name__)

APP_NAME = "voicedesk"
KEYRING_SERVICE = "voicedesk"
KEYRING_USER = "elevenlabs_api_key"


DEFAULT_VOICE_ID = "JBFqnCBsd6RMkjVDRZzb"
DEFAULT_MODEL_ID = "eleven_flash_v2_5"
DEFAULT_OUTPUT_FORMAT = "mp3_44100_128"
DEFAULT_STT_MODEL_ID = "scribe_v2"


class Key(StrEnum):
    """QSettings keys. Renaming one needs an upgrade step in `_upgrade`."""

    ENGINE = "engine"
    BASE_URL = "elevenlabs/base_url"
    MODEL_ID = "elevenlabs/model_id"
    VOICE_ID = "voice/id"
    LOCAL_VOICE_ID = "voice/local_id"
    STABILITY = "voice/stability"
    SIMILARITY = "voice/similarity"
    SPEED = "voice/speed"
    OUTPUT_DEVICE = "audio/output_device"
    INPUT_DEVICE = "audio/input_device"
    VOLUME = "audio/volume"
    PTT_KEY = "ptt/key"
    OFFLINE_FALLBACK = "engine/offline_fallback"
    ALLOW_INSECURE_HTTP = "elevenlabs/allow_insecure_http"
    READ_TIMEOUT = "elevenlabs/read_timeout"
    LIVE_TRANSCRIPT = "ptt/live_transcript"
    TYPE_INTO_FOCUSED = "ptt/type_into_focused"
    INSERT_METHOD = "ptt/insert_method"
    ERASE_AFTER_USE = "privacy/erase_after_use"
    SETTINGS_VERSION = "settings_version"


SETTINGS_VERSION = 1

# Seconds without a byte before an ElevenLabs request counts as stalled (httpx applies it to the
# connect, each read and each write), so a stalled stream ends with a clear line, never a hang.
DEFAULT_READ_TIMEOUT = 15.0
InsertMethod = Literal["auto", "paste", "type"]
INSERT_METHODS: tuple[InsertMethod, ...] = ("auto", "paste", "type")


@dataclass(frozen=True)
class Settings:
    api_key: str | None = field(default=None, repr=False)
    api_key_source: str = ""  # "environment", ".env", "keyring" or "" (none)
    base_url: str | None = None
    engine: EngineChoice = "auto"
    model_id: str = DEFAULT_MODEL_ID
    voice_id: str = DEFAULT_VOICE_ID
    local_voice_id: str = ""
    stability: float | None = None
    similarity: float | None = None
    speed: float | None = None
    output_device: str = ""  # QAudioDevice id as text; "" = system default
    input_device: str = ""  # sounddevice device name, or "pulse:<source>"; "" = system default
    volume: float = 1.0
    ptt_key: str = "F9"
    offline_fallback: bool = False
    # Plain http:// to a host other than this computer sends the key in clear: refused unless set.
    allow_insecure_http: bool = False
    read_timeout: float = DEFAULT_READ_TIMEOUT
    # Live words while the key is held (ElevenLabs realtime); None: on when a key is configured.
    live_transcript: bool | None = None
    # Type the transcript where the user's cursor is (opt-in), and how.
    type_into_focused: bool = False
    insert_method: InsertMethod = "auto"
    # Delete each utterance's history item and each transcript from ElevenLabs once used (or
    # ask for zero retention where the account allows it). Env: VOICEDESK_ERASE_AFTER_USE.
    erase_after_use: bool = False
    # Fields whose value came from the environment: shown, used, never saved.
    from_environment: frozenset[str] = frozenset()

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key)

    def voice_settings(self) -> dict[str, float] | None:
        """ElevenLabs `voice_settings` for what the user changed; None keeps the voice's own."""
        chosen = {
            "stability": self.stability,
            "similarity_boost": self.similarity,
            "speed": self.speed,
        }
        values = {name: value for name, value in chosen.items() if value is not None}
        return values or None

    def live_transcript_enabled(self) -> bool:
        if self.live_transcript is None:
            return self.resolved_engine() == "elevenlabs"
        return self.live_transcript and self.resolved_engine() == "elevenlabs"

    def resolved_engine(self) -> Literal["elevenlabs", "local"]:
        """`auto` means ElevenLabs when a key is configured, else the offline engine."""
        if self.engine == "auto":
            return "elevenlabs" if self.has_api_key else "local"
        return self.engine


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_NAME


def qsettings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, APP_NAME, APP_NAME)


def _dotenv_files() -> tuple[Path, ...]:
    return (Path.cwd() / ".env", user_config_dir() / ".env")


def _dotenv_value(name: str) -> str | None:
    for path in _dotenv_files():
        if path.is_file():
            value = dotenv_values(path).get(name)
            if value:
                return value.strip()
    return None


def dotenv_key_warning() -> str | None:
    """One line for a `.env` holding the API key that every user on this computer can read."""
    for path in _dotenv_files():
        try:
            world_readable = path.is_file() and path.stat().st_mode & 0o004
            if world_readable and dotenv_values(path).get("ELEVENLABS_API_KEY"):
                return (
                    f"{path} holds your ElevenLabs API key and every user on this computer can "
                    f"read it: run chmod 600 {path}"
                )
        except OSError:  # unreadable or gone: nothing to warn about
            continue
    return None


def environment_api_key() -> tuple[str | None, str]:
    """The key from ELEVENLABS_API_KEY or a `.env`, and which; (None, "") if neither has one."""
    if key := os.environ.get("ELEVENLABS_API_KEY", "").strip():
        return key, "environment"
    if from_file := _dotenv_value("ELEVENLABS_API_KEY"):
        return from_file, ".env"
    return None, ""


def _keyring_backend():  # -> keyring.backend.KeyringBackend | None
    """The system keyring, or None where there is none (or only a plain-text file one)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    # keyrings.alt's file backends keep secrets in a plain (or weakly encrypted) file: not for us.
    if type(backend).__module__.startswith("keyrings.alt.file"):
        return None
    return backend


def keyring_available() -> bool:
    return _keyring_backend() is not None


def load_api_key() -> tuple[str | None, str]:
    """The API key and where it came from."""
    key, source = environment_api_key()
    if key:
        return key, source
    backend = _keyring_backend()
    if backend is not None:
        try:
            key = backend.get_password(KEYRING_SERVICE, KEYRING_USER)
        except Exception as exc:  # a locked or broken keyring must not stop the app
            log.warning("could not read the keyring: %s", type(exc).__name__)
            key = None
        if key:
            return key.strip(), "keyring"
    return None, ""


def store_api_key(key: str | None) -> None:
    """Put the key in the system keyring (or remove it when `key` is empty)."""
    backend = _keyring_backend()
    if backend is None:
        raise RuntimeError("No system keyring is available to store the API key.")
    if key:
        backend.set_password(KEYRING_SERVICE, KEYRING_USER, key.strip())
    else:
        # Deleting what isn't there is fine.
        with contextlib.suppress(Exception):
            backend.delete_password(KEYRING_SERVICE, KEYRING_USER)


def no_keyring_hint() -> str:
    """How to keep a key where there is no system keyring to keep it in."""
    return (
        "Set ELEVENLABS_API_KEY in the environment, or put the line ELEVENLABS_API_KEY=your-key "
        f"in {user_config_dir() / '.env'}."
    )


def _float_or_none(value: object) -> float | None:
    try:
        return None if value in (None, "") else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _volume(value: object) -> float:
    """0.0 to 1.0; a saved 0 (muted) stays 0, only a missing or broken value means full."""
    volume = _float_or_none(value)
    return 1.0 if volume is None else min(1.0, max(0.0, volume))


def _bool(value: object) -> bool:
    return value in (True, "true", "1", 1)


def _optional_bool(value: object) -> bool | None:
    return None if value in (None, "") else _bool(value)


def _positive_float(value: object, default: float) -> float:
    number = _float_or_none(value)
    return number if number is not None and 0 < number < 3600 else default


def _upgrade(store: QSettings) -> None:
    """Upgrade settings written by an older version, in place. Version 1 is the first, so
    there is nothing to upgrade yet; later versions add their steps here. Reading settings
    never writes them: a fresh install stays untouched until the user saves something."""
    stored = store.value(Key.SETTINGS_VERSION)
    if stored is not None and int(stored) < SETTINGS_VERSION:
        store.setValue(Key.SETTINGS_VERSION, SETTINGS_VERSION)


def load_settings(store: QSettings | None = None) -> Settings:
    store = store or qsettings()
    _upgrade(store)
    api_key, source = load_api_key()
    from_env: set[str] = set()
    engine = str(store.value(Key.ENGINE, "auto"))
    if env_engine := os.environ.get("VOICEDESK_ENGINE", "").strip():
        engine = env_engine
        from_env.add("engine")
    base_url = str(store.value(Key.BASE_URL, "") or "")
    if env_url := os.environ.get("ELEVENLABS_BASE_URL", "").strip():
        base_url = env_url
        from_env.add("base_url")
    allow_insecure = _bool(store.value(Key.ALLOW_INSECURE_HTTP, False))
    if (env_insecure := os.environ.get("VOICEDESK_ALLOW_INSECURE_HTTP", "").strip()) != "":
        allow_insecure = _bool(env_insecure.lower())
        from_env.add("allow_insecure_http")
    read_timeout = _positive_float(store.value(Key.READ_TIMEOUT), DEFAULT_READ_TIMEOUT)
    if env_timeout := os.environ.get("VOICEDESK_READ_TIMEOUT", "").strip():
        read_timeout = _positive_float(env_timeout, read_timeout)
        from_env.add("read_timeout")
    insert_method = str(store.value(Key.INSERT_METHOD, "auto") or "auto")
    erase = _bool(store.value(Key.ERASE_AFTER_USE, False))
    if (env_erase := os.environ.get("VOICEDESK_ERASE_AFTER_USE", "").strip()) != "":
        erase = _bool(env_erase.lower())
        from_env.add("erase_after_use")
    return Settings(
        api_key=api_key,
        api_key_source=source,
        base_url=base_url.strip() or None,
        engine=engine if engine in ENGINE_CHOICES else "auto",  # type: ignore[arg-type]
        model_id=str(store.value(Key.MODEL_ID, DEFAULT_MODEL_ID) or DEFAULT_MODEL_ID),
        voice_id=str(store.value(Key.VOICE_ID, DEFAULT_VOICE_ID) or DEFAULT_VOICE_ID),
        local_voice_id=str(store.value(Key.LOCAL_VOICE_ID, "") or ""),
        stability=_float_or_none(store.value(Key.STABILITY)),
        similarity=_float_or_none(store.value(Key.SIMILARITY)),
        speed=_float_or_none(store.value(Key.SPEED)),
        output_device=str(store.value(Key.OUTPUT_DEVICE, "") or ""),
        input_device=str(store.value(Key.INPUT_DEVICE, "") or ""),
        volume=_volume(store.value(Key.VOLUME)),
        ptt_key=str(store.value(Key.PTT_KEY, "F9") or "F9"),
        offline_fallback=_bool(store.value(Key.OFFLINE_FALLBACK, False)),
        allow_insecure_http=allow_insecure,
        read_timeout=read_timeout,
        live_transcript=_optional_bool(store.value(Key.LIVE_TRANSCRIPT)),
        type_into_focused=_bool(store.value(Key.TYPE_INTO_FOCUSED, False)),
        insert_method=insert_method if insert_method in INSERT_METHODS else "auto",  # type: ignore[arg-type]
        erase_after_use=erase,
        from_environment=frozenset(from_env),
    )


# Settings fields that an environment variable can set, and the QSettings key each would overwrite.
_ENV_KEYS: dict[str, Key] = {
    "engine": Key.ENGINE,
    "base_url": Key.BASE_URL,
    "allow_insecure_http": Key.ALLOW_INSECURE_HTTP,
    "read_timeout": Key.READ_TIMEOUT,
    "erase_after_use": Key.ERASE_AFTER_USE,
}


def save_settings(settings: Settings, store: QSettings | None = None) -> None:
    """Persist everything but the API key (that goes to the keyring via `store_api_key`) and
    what came from the environment (a one-off `ELEVENLABS_BASE_URL` must not become permanent)."""
    store = store or qsettings()
    values: dict[Key, object] = {
        Key.ENGINE: settings.engine,
        Key.BASE_URL: settings.base_url or "",
        Key.MODEL_ID: settings.model_id,
        Key.VOICE_ID: settings.voice_id,
        Key.LOCAL_VOICE_ID: settings.local_voice_id,
        Key.STABILITY: "" if settings.stability is None else settings.stability,
        Key.SIMILARITY: "" if settings.similarity is None else settings.similarity,
        Key.SPEED: "" if settings.speed is None else settings.speed,
        Key.OUTPUT_DEVICE: settings.output_device,
        Key.INPUT_DEVICE: settings.input_device,
        Key.VOLUME: settings.volume,
        Key.PTT_KEY: settings.ptt_key,
        Key.OFFLINE_FALLBACK: settings.offline_fallback,
        Key.ALLOW_INSECURE_HTTP: settings.allow_insecure_http,
        Key.READ_TIMEOUT: settings.read_timeout,
        Key.LIVE_TRANSCRIPT: "" if settings.live_transcript is None else settings.live_transcript,
        Key.TYPE_INTO_FOCUSED: settings.type_into_focused,
        Key.INSERT_METHOD: settings.insert_method,
        Key.ERASE_AFTER_USE: settings.erase_after_use,
        Key.SETTINGS_VERSION: SETTINGS_VERSION,
    }
    from_env = {_ENV_KEYS[name] for name in settings.from_environment if name in _ENV_KEYS}
    for key, value in values.items():
        if key not in from_env:
            store.setValue(key, value)
    store.sync()


__all__ = [
    "DEFAULT_MODEL_ID",
    "DEFAULT_OUTPUT_FORMAT",
    "DEFAULT_STT_MODEL_ID",
    "DEFAULT_VOICE_ID",
    "Key",
    "Settings",
    "dotenv_key_warning",
    "environment_api_key",
    "keyring_available",
    "load_api_key",
    "load_settings",
    "replace",
    "save_settings",
    "store_api_key",
]
