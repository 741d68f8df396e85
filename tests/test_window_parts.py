"""The window's widget-free parts, tested without a window: `AppSettings`, `EngineHolder`,
`SpeechSession` and `TalkSession`, with the real Speaker (private sound server), the real
Transcriber and SDK against the emulator, and the stand-in microphone."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytest
from PySide6.QtCore import QObject, QSettings

from tests.emulator import DEFAULT_TRANSCRIPT, TEST_API_KEY, Fault
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.ui_fakes import StubRecorder
from voicedesk import config
from voicedesk.config import Settings
from voicedesk.engines.base import Quota
from voicedesk.engines.factory import create_engine
from voicedesk.errors import (
    EmptyTextError,
    InvalidKeyError,
    LiveNeedsElevenLabsError,
    NoApiKeyError,
    NoInputDeviceError,
    QuotaExceededError,
    RecordingTooShortError,
    TextTooLongError,
    VoiceDeskError,
)
from voicedesk.insert.inserter import Inserter
from voicedesk.text import MAX_TEXT_CHARS
from voicedesk.workers.app_settings import AppSettings
from voicedesk.workers.background import Background
from voicedesk.workers.engine_holder import EngineHolder
from voicedesk.workers.speaker import PLAYING, REQUESTING, Speaker
from voicedesk.workers.speech_session import PREVIEW_LABEL, NowPlaying, SpeechSession
from voicedesk.workers.talk_session import NOTHING_HEARD, TalkSession
from voicedesk.workers.transcribe import Transcriber

pytest_plugins = ["tests.helpers.ui_fixtures"]  # store, memory_keyring, emulator


@dataclass
class Parts:
    app: AppSettings
    engines: EngineHolder
    speech: SpeechSession
    talk: TalkSession
    speaker: Speaker
    transcriber: Transcriber
    recorder: StubRecorder
    background: Background

    def shutdown(self) -> None:
        self.talk.shutdown()
        self.speaker.shutdown()
        self.transcriber.shutdown()
        self.background.shutdown()
        self.engines.close()


Make = Callable[..., Parts]


@pytest.fixture
def make_parts(qtbot, store: QSettings, memory_keyring: MemoryKeyring, emulator) -> Iterator[Make]:
    # As for the window (tests/helpers/ui_fixtures.py): no automatic collection on worker
    # threads while QObjects of these parts are alive; everything is collected here instead.
    gc.collect()
    gc.disable()
    made: list[Parts] = []
    # The parts are children of one QObject, as they are the window's: a background job's
    # callback (a bound signal emit) dropped last on a pool thread then never frees them there.
    root = QObject()

    def make(keyring_ok: bool = True, **changes: object) -> Parts:
        values: dict[str, object] = {
            "api_key": TEST_API_KEY,
            "api_key_source": "keyring",
            "base_url": emulator.base_url,
            "engine": "elevenlabs",
            "live_transcript": False,
        }
        values.update(changes)
        settings = Settings(**values)  # type: ignore[arg-type]
        start = create_engine(settings, "local" if not settings.api_key else None)
        background = Background()
        speaker, transcriber, recorder = Speaker(start), Transcriber(start), StubRecorder()
        app = AppSettings(settings, background, store, keyring_ok, root)
        engines = EngineHolder(app, speaker, transcriber, background, parent=root)
        speech = SpeechSession(speaker, engines, app, root)
        talk = TalkSession(recorder, transcriber, speech, engines, app, Inserter(root), root)
        parts = Parts(app, engines, speech, talk, speaker, transcriber, recorder, background)
        made.append(parts)
        return parts

    yield make
    for parts in made:
        parts.shutdown()
    made.clear()
    gc.collect()  # `root` (and its C++ children) go when this frame ends, on the GUI thread
    gc.enable()


def recorded(signal) -> list[tuple[object, ...]]:
    """Every emission of `signal`, as argument tuples (a plain list: no lambda, no QObject)."""
    calls: list[tuple[object, ...]] = []
    signal.connect(_Append(calls))
    return calls


class _Append:
    def __init__(self, calls: list[tuple[object, ...]]) -> None:
        self._calls = calls

    def __call__(self, *args: object) -> None:
        self._calls.append(args)


# -- AppSettings ------------------------------------------------------------------------------


def test_applied_settings_are_saved_and_announced(make_parts, store) -> None:
    parts = make_parts()
    changed = recorded(parts.app.changed)
    old = parts.app.settings
    new = replace(old, volume=0.5, input_device="headset")
    parts.app.apply(new, key_changed=False)
    assert changed == [(old, new)]
    assert parts.app.settings is new
    assert config.load_settings(store).volume == pytest.approx(0.5)
    assert parts.recorder.device == "headset"  # the talk session applied its part


def test_a_new_key_goes_to_the_keyring_off_the_gui_thread(make_parts, qtbot, memory_keyring):
    parts = make_parts()
    parts.app.apply(replace(parts.app.settings, api_key="sk_new_key"), key_changed=True)
    qtbot.waitUntil(lambda: parts.background.busy == 0, timeout=10_000)
    assert "sk_new_key" in memory_keyring.secrets.values()


def test_without_a_keyring_a_new_key_is_noted_not_kept(make_parts, memory_keyring) -> None:
    parts = make_parts(keyring_ok=False)
    noted = recorded(parts.app.noted)
    parts.app.apply(replace(parts.app.settings, api_key="sk_new_key"), key_changed=True)
    assert len(noted) == 1 and "No system keyring" in str(noted[0][0])
    assert ".env" in str(noted[0][0])
    assert "sk_new_key" not in memory_keyring.secrets.values()


# -- EngineHolder -----------------------------------------------------------------------------


def test_using_an_engine_announces_it_and_its_quota(make_parts, qtbot) -> None:
    parts = make_parts(voice_id="voice-b")
    changed = recorded(parts.engines.engine_changed)
    account = parts.engines.budget.account
    parts.engines.use(parts.app.settings)
    qtbot.waitUntil(lambda: account.quota is not None, timeout=10_000)
    engine = parts.engines.engine
    assert engine is not None and engine.name == "elevenlabs"
    assert changed == [(engine, "voice-b")]
    assert isinstance(account.quota, Quota)
    assert parts.speaker._engine is engine
    assert parts.engines.label


def test_the_offline_engine_has_no_quota(make_parts, qtbot) -> None:
    parts = make_parts(engine="local")
    quotas = recorded(parts.engines.budget.account.quota_changed)
    parts.engines.use(parts.app.settings)
    assert quotas == [(None,)]
    assert parts.engines.engine is not None and parts.engines.engine.name == "local"


def test_no_key_and_no_keyring_says_where_to_keep_one(make_parts) -> None:
    parts = make_parts(api_key=None, keyring_ok=False)
    failed = recorded(parts.engines.failed)
    offered = recorded(parts.engines.creation_failed)
    parts.engines.use(parts.app.settings)
    assert offered == []
    (error,) = failed[0]
    assert isinstance(error, NoApiKeyError) and ".env" in error.message
    assert parts.engines.engine is not None and parts.engines.engine.name == "local"


def test_no_key_with_a_keyring_offers_the_settings(make_parts) -> None:
    parts = make_parts(api_key=None)
    offered = recorded(parts.engines.creation_failed)
    parts.engines.use(parts.app.settings)
    (error,) = offered[0]
    assert isinstance(error, InvalidKeyError) and not isinstance(error, NoApiKeyError)
    assert parts.engines.engine is not None and parts.engines.engine.name == "local"


def test_only_engine_fields_make_a_new_engine(make_parts, qtbot) -> None:
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    first = parts.engines.engine
    changed = recorded(parts.engines.engine_changed)
    parts.app.apply(replace(parts.app.settings, volume=0.3), key_changed=False)
    assert changed == [] and parts.engines.engine is first
    parts.app.apply(replace(parts.app.settings, speed=1.1), key_changed=False)
    assert len(changed) == 1 and parts.engines.engine is not first
    assert parts.transcriber._thread.worker._engine is parts.engines.engine  # type: ignore[union-attr]


def test_a_chosen_voice_is_kept_for_its_kind_of_engine(make_parts, store) -> None:
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    parts.engines.choose_voice("voice-c")
    assert config.load_settings(store).voice_id == "voice-c"
    local = make_parts(engine="local")
    local.engines.use(local.app.settings)
    local.engines.choose_voice("en_US-amy-low")
    assert config.load_settings(store).local_voice_id == "en_US-amy-low"


# -- SpeechSession ----------------------------------------------------------------------------


def test_an_utterance_is_shown_from_request_to_idle(make_parts, qtbot, emulator) -> None:
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    shown = recorded(parts.speech.now_playing_changed)
    queued = recorded(parts.speech.queued)
    latency = recorded(parts.speech.latency_measured)
    with qtbot.waitSignal(parts.speaker.idle, timeout=20_000):
        uid = parts.speech.speak("Hello there.", None)
        assert parts.speech.speaking
    assert queued == [("Hello there.",)]
    assert shown[0] == (NowPlaying(uid, "Hello there.", REQUESTING, 0, True),)
    playing = [now for (now,) in shown if now is not None and now.state == PLAYING]
    assert playing and not playing[0].new  # the same utterance, now heard
    assert shown[-1] == (None,)
    assert not parts.speech.speaking
    (seconds, breakdown) = latency[0]
    assert isinstance(seconds, float) and seconds > 0 and "connect " in str(breakdown)
    assert emulator.last("tts").json["text"] == "Hello there."


def test_the_queue_count_is_of_utterances_after_the_one_shown(make_parts, qtbot) -> None:
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    shown = recorded(parts.speech.now_playing_changed)
    with qtbot.waitSignal(parts.speaker.idle, timeout=30_000):
        first = parts.speech.speak("First in line.", None)
        parts.speech.speak("And then this.", None)
    assert shown[1] == (NowPlaying(first, "First in line.", REQUESTING, 1, False),)


def test_blank_and_overlong_text_fail_before_any_request(make_parts, emulator) -> None:
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    failed = recorded(parts.speech.failed)
    assert parts.speech.speak("  \n", None) is None
    assert parts.speech.speak("x" * (MAX_TEXT_CHARS + 1), None) is None
    (empty, gentle), (too_long, not_gentle) = failed
    assert isinstance(empty, EmptyTextError) and gentle is True
    assert isinstance(too_long, TextTooLongError) and not_gentle is False
    assert emulator.requests("tts") == [] and not parts.speech.speaking


@pytest.mark.emulator(pacing=0.05, chunk_size=512)
def test_stop_drops_the_books_and_says_nothing_went_wrong(make_parts, qtbot, emulator) -> None:
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    stopped = recorded(parts.speech.stopped)
    failed = recorded(parts.speech.failed)
    shown = recorded(parts.speech.now_playing_changed)
    played = recorded(parts.speech.played)
    cut = recorded(parts.speech.cut)
    text = "A long paced answer that takes a while to arrive. " * 4
    with qtbot.waitSignal(parts.speaker.utterance_started, timeout=10_000):
        uid = parts.speech.speak(text, None)
    assert played == [(uid, text)]  # heard from now on: the history keeps it
    with qtbot.waitSignal(parts.speaker.idle, timeout=5000):
        parts.speech.stop()
    assert cut == [(uid,)]  # cut while it played: the history marks it
    assert stopped == [()] and failed == [] and shown[-1] == (None,)
    parts.speech.stop()  # nothing left to stop: no second warm-up asked for
    assert stopped == [()]
    emulator.wait_idle(5)


def test_a_preview_is_shown_as_such(make_parts, qtbot) -> None:
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    shown = recorded(parts.speech.now_playing_changed)
    with qtbot.waitSignal(parts.speaker.idle, timeout=20_000):
        parts.speech.preview("voice-b", "A preview.")
    assert shown[0][0] is not None and shown[0][0].text == PREVIEW_LABEL  # type: ignore[attr-defined]
    assert not parts.speech.speaking  # a preview is not the user's text: ptt won't stop it


def test_an_elevenlabs_failure_offers_the_text_offline(make_parts, qtbot, emulator) -> None:
    emulator.always("tts", Fault.quota_exceeded())
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    with qtbot.waitSignal(parts.speech.online_failed, timeout=10_000) as failed:
        parts.speech.speak("Keep me.", None)
    error, text = failed.args
    assert isinstance(error, QuotaExceededError) and text == "Keep me."
    noted = recorded(parts.speech.noted)
    with qtbot.waitSignal(parts.speaker.utterance_finished, timeout=30_000):
        parts.speech.speak_offline(text)
    assert noted == [("Speaking with the offline voice instead.",)]
    assert parts.speaker._engine is parts.engines.engine  # ElevenLabs again for the next one


def test_the_offline_fallback_speaks_then_hands_back(make_parts, qtbot, emulator) -> None:
    emulator.always("tts", Fault.invalid_key())
    parts = make_parts(offline_fallback=True)
    parts.engines.use(parts.app.settings)
    noted = recorded(parts.speech.noted)
    failed = recorded(parts.speech.failed)
    with qtbot.waitSignal(parts.speaker.utterance_finished, timeout=30_000):
        parts.speech.speak("Fall back.", None)
    assert failed == []
    assert len(noted) == 1 and str(noted[0][0]).endswith("Speaking with the offline voice instead.")
    assert parts.engines.offline().name == "local"
    assert parts.speaker._engine is parts.engines.engine  # ElevenLabs again for the next one


# -- TalkSession ------------------------------------------------------------------------------


def test_a_take_is_recorded_then_transcribed(make_parts, qtbot, emulator) -> None:
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    recording = recorded(parts.talk.recording_changed)
    transcribing = recorded(parts.talk.transcribing_changed)
    parts.talk.press()
    assert parts.talk.is_down and parts.recorder.recording
    with qtbot.waitSignal(parts.talk.transcribed, timeout=10_000) as heard:
        parts.talk.release()
    assert heard.args == [DEFAULT_TRANSCRIPT]
    assert recording == [(True,), (False,)]
    assert transcribing[0] == (True,) and transcribing[-1] == (False,)
    assert parts.transcriber.last_recording == parts.recorder.pcm
    assert len(emulator.requests("stt")) == 1


def test_a_silent_take_is_noted(make_parts, qtbot, emulator) -> None:
    emulator.configure(transcript="")
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    with qtbot.waitSignal(parts.talk.noted, timeout=10_000) as noted:
        parts.talk.press()
        parts.talk.release()
    assert noted.args == [NOTHING_HEARD]


def test_too_short_is_a_gentle_error(make_parts) -> None:
    parts = make_parts()
    parts.recorder.too_short = True
    failed = recorded(parts.talk.failed)
    parts.talk.press()
    parts.talk.release()
    ((error, gentle),) = failed
    assert isinstance(error, RecordingTooShortError) and gentle is True
    assert parts.transcriber.last_recording is None


def test_a_microphone_that_does_not_open_lets_the_key_go(make_parts) -> None:
    parts = make_parts()
    parts.recorder.fail_with = NoInputDeviceError()
    start_failed = recorded(parts.talk.start_failed)
    failed = recorded(parts.talk.failed)
    parts.talk.press()
    assert start_failed == [()]
    ((error, gentle),) = failed
    assert isinstance(error, NoInputDeviceError) and gentle is False


def test_a_microphone_error_while_the_key_is_up_is_not_shown(make_parts) -> None:
    parts = make_parts()
    failed = recorded(parts.talk.failed)
    parts.recorder.failed.emit(NoInputDeviceError())  # opening ahead (warm) failed quietly
    assert failed == []


def test_a_failed_transcription_is_offered_again(make_parts, qtbot, emulator) -> None:
    emulator.always("stt", Fault.server_error())
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    with qtbot.waitSignal(parts.talk.transcription_failed, timeout=10_000) as failure:
        parts.talk.press()
        parts.talk.release()
    error, retryable, offline = failure.args
    assert isinstance(error, VoiceDeskError) and error.retryable and retryable
    assert offline  # the recording is kept: the offline engine can have it
    emulator.always("stt", None)
    with qtbot.waitSignal(parts.talk.transcribed, timeout=10_000):
        parts.talk.retry()
    assert len(emulator.requests("stt")) == 2


def test_the_key_stops_speech_first(make_parts, qtbot) -> None:
    parts = make_parts()
    parts.engines.use(parts.app.settings)
    stopped = recorded(parts.speech.stopped)
    parts.speech.speak("Talking over me.", None)
    with qtbot.waitSignal(parts.speaker.idle, timeout=5000):
        parts.talk.press()
    assert stopped == [()]
    parts.talk.release()


def test_live_words_need_elevenlabs(make_parts) -> None:
    parts = make_parts(engine="local", live_transcript=None)
    parts.engines.use(parts.app.settings)
    live = recorded(parts.talk.live_words_changed)
    parts.talk.press()
    assert live[-1] == (LiveNeedsElevenLabsError.default_message, True)
    parts.talk.release()
    assert live[-1] == ("", False)
