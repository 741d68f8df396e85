"""Live words: ElevenLabs `scribe_v2_realtime` over a WebSocket, while the key is held.

One `RealtimeSession` a take. Key down opens it (`start()`); the recorder hands every block
to `feed()` as it arrives (from PortAudio's thread: `feed` only appends to a bounded backlog
and never waits); key up calls `finish()`, which sends the commit and waits for the committed
transcript. Partial transcripts go to `on_partial` as they come.

Message shapes are those of the SDK's `elevenlabs/realtime/` module: `input_audio_chunk` with
base64 PCM (`commit: true` on the last one), and `session_started`, `partial_transcript`,
`committed_transcript` or one of the error types back. The SDK's own client is asyncio with
no timeouts, swallows errors into print(), and can't be interrupted from another thread, so
this uses the synchronous client of `websockets` (which the SDK itself depends on): a
blocking connect with a deadline, and a socket `shutdown()` that a `CancelToken` can call.

The session holds one slot of `limits.API_SLOTS` from before it connects until it is closed.
Plain Python: no Qt.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.exceptions import (
    ConnectionClosed,
    InvalidMessage,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)
from websockets.sync.client import ClientConnection, connect

from voicedesk.cancel import CancelToken, on_cancel
from voicedesk.engines.elevenlabs_errors import scrub
from voicedesk.errors import (
    STT_SAMPLE_RATE,
    STT_SAMPLE_WIDTH,
    Cancelled,
    InsecureBaseUrlError,
    InvalidBaseUrlError,
    InvalidKeyError,
    LiveConnectionLostError,
    LiveSessionTooLongError,
    LiveTermsNotAcceptedError,
    LiveTranscriptError,
    NetworkError,
    NothingHeardError,
    QuotaExceededError,
    RateLimitedError,
    ServiceError,
    VoiceDeskError,
)
from voicedesk.limits import api_slot

log = logging.getLogger(__name__)

REALTIME_MODEL_ID = "scribe_v2_realtime"
REALTIME_PATH = "/v1/speech-to-text/realtime"
CONNECT_TIMEOUT = 5.0  # a socket that takes longer is no use for live words: batch instead
BYTES_PER_SECOND = STT_SAMPLE_RATE * STT_SAMPLE_WIDTH
# Audio waiting to be sent (while connecting, or on a slow link). Past this the live session
# gives up and the take goes to batch: the recorder's own copy is never bounded by this.
MAX_BACKLOG_BYTES = 30 * BYTES_PER_SECOND
# At most this much audio in one message (a backlog is sent in pieces this size).
MAX_CHUNK_BYTES = BYTES_PER_SECOND // 2

PartialCallback = Callable[[str], None]

# Server message types that end a session, and what they mean to the user. Those in
# `TERMINAL` would fail the batch request just the same: no fallback for them.
_ERRORS: dict[str, Callable[[str], VoiceDeskError]] = {
    "auth_error": lambda m: InvalidKeyError(),
    "quota_exceeded": lambda m: QuotaExceededError(),
    "unaccepted_terms": lambda m: LiveTermsNotAcceptedError(),
    "unaccepted_terms_error": lambda m: LiveTermsNotAcceptedError(),
    "rate_limited": lambda m: RateLimitedError(),
    "commit_throttled": lambda m: RateLimitedError(),
    "resource_exhausted": lambda m: RateLimitedError(
        "ElevenLabs has no capacity for live transcription right now."
    ),
    "session_time_limit_exceeded": lambda m: LiveSessionTooLongError(),
    "insufficient_audio_activity": lambda m: NothingHeardError(),
    "queue_overflow": lambda m: LiveTranscriptError(
        "ElevenLabs could not keep up with the live audio."
    ),
    "chunk_size_exceeded": lambda m: LiveTranscriptError(f"ElevenLabs refused the live audio{m}"),
    "input_error": lambda m: LiveTranscriptError(f"ElevenLabs refused the live audio{m}"),
    "invalid_request": lambda m: LiveTranscriptError(f"ElevenLabs refused the live session{m}"),
    "transcriber_error": lambda m: LiveTranscriptError(f"Live transcription failed{m}"),
    "error": lambda m: LiveTranscriptError(f"Live transcription failed{m}"),
}
TERMINAL: tuple[type[VoiceDeskError], ...] = (
    Cancelled,
    InvalidKeyError,
    QuotaExceededError,
    LiveTermsNotAcceptedError,
    InsecureBaseUrlError,
    InvalidBaseUrlError,
)


def server_error(message: dict[str, Any], api_key: str | None) -> VoiceDeskError | None:
    """The error a server message stands for; None when it is not an error."""
    kind = str(message.get("message_type") or "")
    make = _ERRORS.get(kind)
    if make is None:
        return None
    detail = scrub(str(message.get("error") or message.get("message") or ""), api_key).strip()
    return make(f": {detail[:200]}" if detail else ".")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def realtime_url(base_url: str, language: str | None, model_id: str = REALTIME_MODEL_ID) -> str:
    """The WebSocket URL for `base_url`: `wss://` for https, `ws://` only for a loopback http
    one (the key goes in a header, and never in clear to another host)."""
    parts = urlsplit(base_url.strip())
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        scheme = "wss"
    elif parts.scheme == "http" and host:
        if not is_loopback(host):
            raise InsecureBaseUrlError()
        scheme = "ws"
    else:
        raise InvalidBaseUrlError()
    query = {"model_id": model_id, "audio_format": "pcm_16000", "commit_strategy": "manual"}
    if language:
        query["language_code"] = language
    path = parts.path.rstrip("/") + REALTIME_PATH
    return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


def connect_error(exc: BaseException, api_key: str | None) -> VoiceDeskError:
    """What a failed WebSocket handshake means to the user."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        if status in (401, 403):
            return InvalidKeyError()
        if status == 429:
            return RateLimitedError()
        return ServiceError(f"ElevenLabs refused the live session ({status}).")
    if isinstance(exc, TimeoutError | socket.timeout):
        return NetworkError("ElevenLabs did not answer the live session in time.")
    if isinstance(exc, InvalidURI):
        return InvalidBaseUrlError()
    if isinstance(exc, OSError | ConnectionClosed | InvalidMessage):
        return NetworkError()  # refused, reset, or closed before the handshake's answer
    detail = scrub(str(exc), api_key)[:200]
    return ServiceError(f"The live session could not start ({type(exc).__name__}: {detail}).")


class RealtimeSession:
    """One take's live transcription. `start()`, `feed()` while recording, then `finish()`
    (or `abort()`). Thread-safe: `feed` from the audio thread, the rest from one caller."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        language: str | None = "en",
        model_id: str = REALTIME_MODEL_ID,
        on_partial: PartialCallback | None = None,
        cancel: threading.Event | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = 15.0,
        max_backlog_bytes: int = MAX_BACKLOG_BYTES,
    ) -> None:
        self._api_key = api_key
        self.url = realtime_url(base_url, language, model_id)  # raises before anything starts
        self._on_partial = on_partial
        self._cancel = cancel
        # Set when the session ends early (abort, failure): also ends a wait for a slot.
        self._stop = CancelToken()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_backlog = max_backlog_bytes
        self._cond = threading.Condition()
        self._backlog: deque[bytes] = deque()
        self._backlog_bytes = 0
        self._finishing = False
        self._aborted = False
        self._commit_sent = False
        self._segments: list[str] = []  # committed text so far
        self._result: str | None = None
        self._failure: VoiceDeskError | None = None
        self._ws: ClientConnection | None = None
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()  # the socket is closed and the slot given back
        #: Bytes of audio sent over the socket (a measure, for logs and tests).
        self.sent_bytes = 0
        #: Bytes handed to `feed` (the same audio the recorder keeps).
        self.fed_bytes = 0

    def __repr__(self) -> str:  # never the key
        return f"RealtimeSession({self.url!r})"

    # -- caller side ---------------------------------------------------------------------

    def start(self) -> None:
        """Take a slot and connect, on the session's own thread (returns at once)."""
        self._unhook = on_cancel(self._cancel, self.abort)
        self._thread = threading.Thread(target=self._run, name="live-stt", daemon=True)
        self._thread.start()

    def feed(self, pcm: bytes) -> None:
        """Audio as it arrives (any thread, PortAudio's included: this never blocks on I/O)."""
        with self._cond:
            if self._failure is not None or self._aborted or self._finishing:
                return
            self.fed_bytes += len(pcm)
            if self._backlog_bytes + len(pcm) > self._max_backlog:
                self._failure = LiveTranscriptError("The live connection fell behind the audio.")
                self._stop.set()  # no callbacks on it: cheap enough for the audio thread
            else:
                self._backlog.append(pcm)
                self._backlog_bytes += len(pcm)
            self._cond.notify_all()

    def finish(self, timeout: float | None = None) -> str:
        """Send what is left and the commit; the whole committed transcript. Raises the
        session's failure (a `VoiceDeskError`) when it failed, or didn't answer in time."""
        with self._cond:
            self._finishing = True
            self._cond.notify_all()
            wait = self._read_timeout + self._connect_timeout if timeout is None else timeout
            done = self._cond.wait_for(
                lambda: self._result is not None or self._failure is not None, wait
            )
            if not done:
                self._failure = NetworkError("ElevenLabs did not send the live transcript in time.")
            failure, result = self._failure, self._result
        if failure is not None:
            self.abort()
            raise failure
        return result or ""

    def abort(self) -> None:
        """Drop the session now (Escape, a too-short take, Stop): nothing more is sent."""
        with self._cond:
            self._aborted = True
            if self._failure is None and self._result is None:
                self._failure = Cancelled()
            self._cond.notify_all()
        self._stop.set()
        self._interrupt()

    def wait_closed(self, timeout: float | None = None) -> bool:
        """True once the socket is closed and the API slot given back."""
        return self._closed.wait(timeout)

    @property
    def failure(self) -> VoiceDeskError | None:
        with self._cond:
            return self._failure

    # -- the session's thread ------------------------------------------------------------

    def _run(self) -> None:
        try:
            with api_slot(self._stop):
                self._session()
        except VoiceDeskError as error:
            self._fail(error)
        except Exception as exc:  # a bug must not hang the caller: it falls back to batch
            log.exception("live session failed")
            self._fail(LiveTranscriptError(f"Live transcription failed ({type(exc).__name__})."))
        finally:
            self._unhook()
            self._closed.set()

    def _session(self) -> None:
        if self._stopped():
            return
        try:
            ws = connect(
                self.url,
                additional_headers={"xi-api-key": self._api_key},
                open_timeout=self._connect_timeout,
                close_timeout=1.0,
                compression=None,  # base64 PCM barely compresses; spare the CPU
                proxy=None if is_loopback(urlsplit(self.url).hostname or "") else True,
                max_size=1 << 20,
            )
        except Exception as exc:
            if self._stop.is_set():
                raise Cancelled() from None
            log.info("live session did not open: %s", type(exc).__name__)
            raise connect_error(exc, self._api_key) from None
        with ws, contextlib.ExitStack() as hooks:
            with self._cond:
                self._ws = ws
            receiver = threading.Thread(target=self._receive, args=(ws,), name="live-stt-recv")
            receiver.daemon = True
            receiver.start()
            hooks.callback(receiver.join, 2.0)
            hooks.callback(self._interrupt)  # runs first: wakes the receiver for the join
            self._send_all(ws)
            with self._cond:
                answered = self._cond.wait_for(
                    lambda: self._result is not None or self._failure is not None,
                    self._read_timeout,
                )
                succeeded = answered and self._result is not None
            if not answered:
                self._fail(NetworkError("ElevenLabs did not send the live transcript in time."))
            if succeeded:
                with contextlib.suppress(WebSocketException, OSError):
                    ws.close()  # an orderly close: the server's side ends too

    def _send_all(self, ws: ClientConnection) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._backlog or self._finishing or self._stopped_locked()
                )
                if self._stopped_locked():
                    return
                chunk = self._take_chunk()
                commit = self._finishing and not self._backlog
            try:
                if chunk:
                    ws.send(_audio_message(chunk, commit=False))
                    self.sent_bytes += len(chunk)
                if commit:
                    with self._cond:
                        self._commit_sent = True
                    ws.send(_audio_message(b"", commit=True))
                    return
            except (ConnectionClosed, OSError) as exc:
                # The receiving thread says why: the server's error message may still be
                # queued ahead of the close that made this send fail.
                log.info("live audio could not be sent: %s", type(exc).__name__)
                return

    def _take_chunk(self) -> bytes:
        parts: list[bytes] = []
        size = 0
        while self._backlog and size + len(self._backlog[0]) <= MAX_CHUNK_BYTES:
            block = self._backlog.popleft()
            parts.append(block)
            size += len(block)
        if not parts and self._backlog:  # one block larger than a chunk: split it
            block = self._backlog.popleft()
            parts.append(block[:MAX_CHUNK_BYTES])
            self._backlog.appendleft(block[MAX_CHUNK_BYTES:])
            size = MAX_CHUNK_BYTES
        self._backlog_bytes -= size
        return b"".join(parts)

    def _receive(self, ws: ClientConnection) -> None:
        try:
            for raw in ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(message, dict) and self._handle(message):
                    return
        except (ConnectionClosed, OSError, WebSocketException):
            pass
        with self._cond:
            if self._result is None and self._failure is None:
                log.info("live connection closed before the transcript (%s)", ws.close_code)
        self._fail(LiveConnectionLostError())

    def _handle(self, message: dict[str, Any]) -> bool:
        """Act on one server message; True when the session is over."""
        kind = message.get("message_type")
        text = str(message.get("text") or "").strip()
        if kind == "partial_transcript":
            with self._cond:
                live = " ".join([*self._segments, text]).strip()
            if self._on_partial is not None and text:
                self._on_partial(live)
            return False
        if kind in ("committed_transcript", "committed_transcript_with_timestamps"):
            with self._cond:
                if text and (kind == "committed_transcript" or not self._segments):
                    self._segments.append(text)
                if self._commit_sent and kind == "committed_transcript":
                    self._result = " ".join(self._segments)
                    self._cond.notify_all()
                    return True
            return False
        error = server_error(message, self._api_key)
        if error is not None:
            log.info("live session error from the server: %s", kind)
            self._fail(error)
            return True
        return False  # session_started, and types this version does not know

    # -- shared ----------------------------------------------------------------------------

    def _fail(self, error: VoiceDeskError) -> None:
        with self._cond:
            if self._failure is None and self._result is None:
                self._failure = error
            self._cond.notify_all()
        self._stop.set()
        self._interrupt()

    def _stopped(self) -> bool:
        with self._cond:
            return self._stopped_locked()

    def _stopped_locked(self) -> bool:
        return self._aborted or self._failure is not None or self._result is not None

    def _interrupt(self) -> None:
        """Wake every thread blocked on the socket: shut it down (close alone doesn't)."""
        with self._cond:
            ws = self._ws
        if ws is not None:
            with contextlib.suppress(OSError):
                ws.socket.shutdown(socket.SHUT_RDWR)


def _audio_message(pcm: bytes, *, commit: bool) -> str:
    return json.dumps(
        {
            "message_type": "input_audio_chunk",
            "audio_base_64": base64.b64encode(pcm).decode("ascii"),
            "commit": commit,
            "sample_rate": STT_SAMPLE_RATE,
        }
    )


class LiveTake:
    """A take with live words, and the batch request as its fallback: `feed()` while
    recording, then `result(pcm)`. When the live session fails (it could not open, the
    connection dropped, the server sent an error), `result` sends the whole take, kept in RAM
    by the recorder, to batch speech-to-text instead: nothing for the user to do, nothing lost.
    """

    def __init__(self, session: RealtimeSession, batch: BatchTranscribe, language: str) -> None:
        self.session = session
        self._batch = batch
        self._language = language
        #: Why the take went to batch (None when the live transcript was used).
        self.fallback_reason: VoiceDeskError | None = None

    def feed(self, pcm: bytes) -> None:
        self.session.feed(pcm)

    def abort(self) -> None:
        self.session.abort()

    def result(self, pcm: bytes, cancel: threading.Event | None = None) -> str:
        unhook = on_cancel(cancel, self.abort)
        try:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            return self.session.finish()
        except TERMINAL:
            raise
        except VoiceDeskError as error:
            self.fallback_reason = error
            log.info("live transcript failed (%s): sending the whole take", type(error).__name__)
        finally:
            unhook()
        return self._batch(pcm, self._language, cancel=cancel)


class BatchTranscribe(Protocol):
    def __call__(
        self, pcm: bytes, language: str = "en", *, cancel: threading.Event | None = None
    ) -> str: ...
