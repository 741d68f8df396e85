"""Speaking: engine → decoder → player, on a pool thread; `Speaker` is the GUI's handle.

One `SpeakWorker` per utterance, run once as a task on the shared thread pool
(`workers.threads`). It is plain Python, not a QObject: it reports through `SpeakReports`,
a QObject that the Speaker owns on the GUI thread, whose signals (emitted here, on the pool
thread) reach the Speaker queued. The worker downloads and decodes as fast as the network
allows (faster than real time), filling the Player's ring buffer; the Player's audio thread
plays it. Cancellation is a `CancelToken`: setting it shuts the HTTP response down at once
(the engine registers that), which ends the worker's loop and frees the API slot, while
`Player.stop()` silences the sink.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from voicedesk.audio.playback.decoder import Decoder, make_decoder
from voicedesk.audio.playback.leading_silence import LeadingSilenceTrimmer
from voicedesk.audio.playback.pcm import PcmFormat
from voicedesk.audio.playback.player import Player
from voicedesk.cancel import CancelToken
from voicedesk.engines.base import SpeechEngine
from voicedesk.engines.http_client import NetworkTiming, TimingRecorder, record_timing
from voicedesk.errors import Cancelled, UnexpectedResponseError, VoiceDeskError, as_user_error
from voicedesk.workers.latency import LatencyMarks
from voicedesk.workers.pieces import PieceStart

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Utterance:
    uid: int
    text: str
    voice_id: str | None = None


class SpeakReports(QObject):
    """What a SpeakWorker says, as signals: made (and living) on the GUI thread, emitted from
    the pool thread, so connections to GUI-thread slots are queued."""

    opened = Signal(int, int)  # uid, the player stream token (before any audio is written)
    piece_queued = Signal(int, object)  # uid, PieceStart: where a piece begins in the PCM
    queued_all = Signal(int, int)  # uid, bytes of PCM queued in all (the stream has ended)
    streamed = Signal(int, object)  # uid, LatencyMarks: everything was decoded and queued
    failed = Signal(int, object, bool)  # uid, VoiceDeskError, whether some audio was queued


class SpeakWorker:
    """Streams one utterance into the player: `run()` once, on a pool thread."""

    def __init__(
        self,
        utterance: Utterance,
        engine: SpeechEngine,
        player: Player,
        cancel: CancelToken,
        reports: SpeakReports,
    ) -> None:
        self._reports = reports
        self._utterance = utterance
        self._engine = engine
        self._player = player
        self._token = 0
        self._cancel = cancel
        self._written = 0  # bytes of PCM queued in the player so far
        self._decoded = 0  # bytes of PCM decoded (before leading silence is trimmed)
        self._format = PcmFormat(44_100)
        self._decoder: Decoder | None = None
        self._trimmer: LeadingSilenceTrimmer | None = None

    def run(self) -> None:
        uid = self._utterance.uid
        reports = self._reports
        try:
            reports.streamed.emit(uid, self._stream())
        except Cancelled:
            pass
        except VoiceDeskError as error:
            reports.failed.emit(uid, error, self._written > 0)
        except Exception as error:  # a bug must not end the thread silently
            log.exception("speaking failed")
            reports.failed.emit(uid, as_user_error(error, "Speaking failed"), self._written > 0)
        finally:
            if self._token and not self._cancel.is_set():
                # Whatever arrived plays out; the player's `finished` follows.
                reports.queued_all.emit(uid, self._written)
                self._player.end(self._token)

    def _stream(self) -> LatencyMarks:
        # Here, not on the GUI thread: the first look at the audio devices can take ~20 ms.
        # With no output at all this raises NoOutputDeviceError before anything is requested.
        speech = self._engine.speech_format
        fmt = self._format = self._player.format_for(PcmFormat(speech.sample_rate, speech.channels))
        self._token = self._player.begin(fmt, self._cancel)
        if not self._token:
            raise Cancelled()  # stopped before it began
        self._reports.opened.emit(self._utterance.uid, self._token)
        self._decoder = make_decoder(speech, fmt)
        self._trimmer = LeadingSilenceTrimmer(fmt)
        marks = LatencyMarks(request_sent=time.monotonic())
        chunks = self._engine.stream_speech(
            self._utterance.text,
            self._utterance.voice_id,
            cancel=self._cancel,
            on_piece=self._piece,
        )
        # The engine's requests run on this thread (in the generator): time their connect.
        with record_timing() as network:
            marks = self._pump(chunks, marks, network)
        self._write(self._decoder.flush())
        if marks.first_byte is not None and not self._decoded:
            # Bytes came but none of them was audio (JSON or HTML labelled as audio): an error,
            # not a silent success (and so a failure the offline fallback answers).
            raise UnexpectedResponseError(
                f"{getattr(self._engine, 'label', 'The engine')} sent nothing that could be "
                "played as audio."
            )
        return marks

    def _pump(
        self, chunks: Iterator[bytes], marks: LatencyMarks, network: TimingRecorder
    ) -> LatencyMarks:
        assert self._decoder is not None
        try:
            for chunk in chunks:
                if marks.first_byte is None:
                    marks = marks.with_marks(
                        first_byte=time.monotonic(), **_split(network.freeze())
                    )
                if self._write(self._decoder.feed(chunk)) and marks.first_pcm is None:
                    marks = marks.with_marks(first_pcm=time.monotonic())
        except VoiceDeskError as error:
            if not isinstance(error, Cancelled):
                self._write(self._decoder.flush())  # a cut stream plays what arrived
            raise
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # ends the request and frees its API slot now, not at GC
        return marks

    def _piece(self, index: int, count: int) -> None:
        """The engine's `on_piece`, on this thread between chunks: piece `index` starts now."""
        assert self._decoder is not None
        if index:
            # Each piece is a stream of its own (an MP3 piece has its own header and priming):
            # play the last frames of the one before now, before the next request's round trip,
            # and start the next on a fresh decoder so its first PCM byte marks its start.
            self._write(self._decoder.flush())
            self._decoder = make_decoder(self._engine.speech_format, self._format)
        self._reports.piece_queued.emit(
            self._utterance.uid, PieceStart(index, count, self._written)
        )

    def _write(self, pcm: bytes) -> bool:
        assert self._trimmer is not None
        self._decoded += len(pcm)
        pcm = self._trimmer.feed(pcm)
        if not pcm:
            return False
        if not self._player.write(self._token, pcm, self._cancel):
            raise Cancelled()
        self._written += len(pcm)
        return True


def _split(timing: NetworkTiming) -> dict[str, float | bool | None]:
    """The network marks for `LatencyMarks` (all None for an engine that made no request)."""
    return {
        "connect_start": timing.connect_start,
        "connect_end": timing.connect_end,
        "response_head": timing.response_head,
        "connection_reused": timing.reused,
    }
