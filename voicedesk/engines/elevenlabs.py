"""ElevenLabs: streaming text-to-speech, `scribe_v2` speech-to-text, voices and quota.

Every request holds one slot of `limits.API_SLOTS` from before it is sent until its response
is read or closed. A request is retried (at most `RETRY.attempts` in all, `RETRY.delay` apart)
only on 429, timeouts and connection errors, and only before its first audio byte: once audio
has reached the caller, a failure ends the utterance with `StreamInterruptedError`.
The SDK's own retries are off (`max_retries=0`): they multiply ours, and on speech-to-text
they resend the upload without its form fields (the SDK's HTTP client rebuilds the request
from `files` only on retry, so `model_id` and the rest are lost).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
from elevenlabs.client import ElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.request_options import RequestOptions

from voicedesk.cancel import on_cancel
from voicedesk.config import (
    DEFAULT_MODEL_ID,
    DEFAULT_OUTPUT_FORMAT,
    DEFAULT_STT_MODEL_ID,
    DEFAULT_VOICE_ID,
)
from voicedesk.endpoint import DEFAULT_BASE_URL, check_api_key, check_base_url
from voicedesk.engines.base import PieceCallback, Quota, SpeechEngine, SpeechFormat, Voice
from voicedesk.engines.elevenlabs_errors import Failure, check_audio_response, classify, expect
from voicedesk.engines.elevenlabs_realtime import LiveTake, PartialCallback, RealtimeSession
from voicedesk.engines.http_client import make_client
from voicedesk.engines.usage import ResponseFacts, ResponseListener, facts_from_headers
from voicedesk.errors import (
    STT_SAMPLE_RATE,
    Cancelled,
    EmptyTextError,
    RecordingTooShortError,
    StreamInterruptedError,
    UnexpectedResponseError,
    VoiceDeskError,
)
from voicedesk.limits import RETRY, RetryPolicy, api_slot, try_api_slot, wait_or_cancel
from voicedesk.redact import register_secret
from voicedesk.text import Piece, split_text

log = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds without a byte before a request counts as timed out (httpx applies it per phase:
# connect, each read, each write), so a stalled stream fails instead of hanging forever.
DEFAULT_TIMEOUT = 15.0
VOICES_PAGE_SIZE = 100
# A warm-up that takes longer than this is no help: give its API slot back.
WARM_UP_TIMEOUT = 5.0
# Zero retention (`enable_logging=false`) "may only be used by enterprise customers" (the SDK's
# docstring for the parameter); the subscription's tier says whether this account is one.
ZERO_RETENTION_TIERS = ("enterprise",)
# Newest history items searched for a request's own (it was made moments ago).
HISTORY_LOOKUP_PAGE = 20


class ElevenLabsEngine(SpeechEngine):
    name = "elevenlabs"
    speech_format = SpeechFormat("mp3", 44_100, 1)

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        model_id: str = DEFAULT_MODEL_ID,
        voice_id: str | None = None,
        voice_settings: dict[str, float] | None = None,
        output_format: str = DEFAULT_OUTPUT_FORMAT,
        stt_model_id: str = DEFAULT_STT_MODEL_ID,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RETRY,
        allow_insecure_http: bool = False,
        verify: ssl.SSLContext | bool = True,
        erase_after_use: bool = False,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        # Checked before anything is sent: a malformed key or endpoint is named, not reported
        # as a network failure, and plain http never carries the key off this computer.
        self._api_key = check_api_key(api_key)
        register_secret(self._api_key)
        self.base_url = check_base_url(
            base_url or DEFAULT_BASE_URL,
            allow_insecure_http=allow_insecure_http,
            api_key=self._api_key,
        )
        self.model_id = model_id
        self.default_voice_id = voice_id or DEFAULT_VOICE_ID
        self.voice_settings = voice_settings
        self.output_format = output_format
        self.stt_model_id = stt_model_id
        self._timeout = timeout
        self._retry = retry
        # Erase after use: ask for zero retention where the account allows it (known once
        # `quota()` has read the tier), else the caller deletes what `on_response` reports.
        self.erase_after_use = erase_after_use
        self.zero_retention_allowed = False
        # Told about every response's account facts (credits, concurrency, what was kept), on
        # the thread that made the request. Set by whoever shows them; exceptions are logged.
        self.on_response: ResponseListener | None = None
        # Our own httpx client: one connection pool for every call (keep-alive saves a TCP and
        # TLS handshake on each utterance), and nothing read from the environment behind our back.
        # `verify` is only ever an SSLContext trusting a test CA (tests, benchmarks): never off.
        self._http, self._transport = make_client(self.base_url, timeout, verify)
        # Both passed explicitly: the SDK reads ELEVENLABS_API_KEY at import time otherwise.
        self._client = ElevenLabs(
            api_key=api_key, base_url=self.base_url, timeout=timeout, httpx_client=self._http
        )

    def __repr__(self) -> str:  # never the key
        return f"ElevenLabsEngine(base_url={self.base_url!r}, model_id={self.model_id!r})"

    @property
    def label(self) -> str:
        return "ElevenLabs"

    def close(self) -> None:
        self._http.close()

    def warm_up(self, cancel: threading.Event | None = None, *, min_idle: float = 0.0) -> bool:
        """Open (or keep open) the pooled connection, TLS included, with one cheap request.

        With `min_idle` > 0, skipped (True) while a request is in flight or one ended less than
        `min_idle` seconds ago (the connection is warm already). Skipped too when every API slot
        is taken: it never waits for one, and holds its own for one small GET. False when the
        request failed (logged, never shown: the next Speak reports its own error); no retries.
        """
        idle = self._transport.idle_for()  # 0 while a request is in flight
        if min_idle > 0 and idle < min_idle:
            return True
        if cancel is not None and cancel.is_set():
            return False
        with try_api_slot() as got:
            if not got:
                return True
            try:
                # The subscription: small, authenticated, free, answered by every account.
                response = self._http.get(
                    f"{self.base_url}/v1/user/subscription",
                    headers={"xi-api-key": self._api_key},
                    timeout=WARM_UP_TIMEOUT,
                )
                response.read()
                response.close()
            except (httpx.HTTPError, OSError) as exc:
                log.info("warm-up failed: %s", type(exc).__name__)
                return False
        log.debug("warm-up: HTTP %d", response.status_code)
        return True

    @property
    def zero_retention(self) -> bool:
        """Requests go out with `enable_logging=false`: the service keeps nothing to erase."""
        return self.erase_after_use and self.zero_retention_allowed

    def _enable_logging(self) -> bool | None:
        return False if self.zero_retention else None  # None: the parameter is not sent

    def _report(self, facts: ResponseFacts) -> None:
        listener = self.on_response
        if listener is None:
            return
        try:
            listener(facts)
        except Exception:  # a listener's bug must not fail the request it reports on
            log.exception("response listener failed")

    def _options(self, **extra: Any) -> RequestOptions:
        return RequestOptions(max_retries=0, timeout_in_seconds=self._timeout, **extra)  # type: ignore[typeddict-item]

    # -- retries -----------------------------------------------------------------------

    def _attempts(self, cancel: threading.Event | None) -> Iterator[int]:
        """Attempt numbers, sleeping `delay` between them; the caller breaks on success."""
        for attempt in range(1, self._retry.attempts + 1):
            if attempt > 1:
                wait_or_cancel(self._retry.delay, cancel)
            yield attempt

    def _fail(self, exc: BaseException, attempt: int, cancel: threading.Event | None) -> Failure:
        if cancel is not None and cancel.is_set():
            raise Cancelled() from None
        if isinstance(exc, ApiError) and exc.headers:
            # A 429 names the plan's concurrency too: lower our own count before the retry.
            self._report(facts_from_headers("error", exc.headers))
        failure = classify(exc, self._api_key)
        log.info(
            "ElevenLabs attempt %d failed: %s (%s)", attempt, type(exc).__name__, failure.retryable
        )
        if not failure.retryable or attempt >= self._retry.attempts:
            raise failure.error from None
        return failure

    def _call(self, request: Callable[[], T], cancel: threading.Event | None) -> T:
        """A whole (non-streaming) request under one slot, with the retry policy."""
        for attempt in self._attempts(cancel):
            with api_slot(cancel):
                try:
                    return request()
                except VoiceDeskError:
                    raise
                except Exception as exc:
                    self._fail(exc, attempt, cancel)
        raise AssertionError("unreachable: the last attempt raises")

    # -- text to speech ----------------------------------------------------------------

    def stream_speech(
        self,
        text: str,
        voice_id: str | None = None,
        *,
        cancel: threading.Event | None = None,
        on_piece: PieceCallback | None = None,
    ) -> Iterator[bytes]:
        """MP3 chunks as they arrive. Long text is requested piece by piece, in order, each
        as soon as the one before has been read (each piece is a whole MP3 stream)."""
        pieces = split_text(text)
        if not pieces:
            raise EmptyTextError()
        return self._stream_pieces(pieces, voice_id or self.default_voice_id, cancel, on_piece)

    def _stream_pieces(
        self,
        pieces: list[Piece],
        voice_id: str,
        cancel: threading.Event | None,
        on_piece: PieceCallback | None,
    ) -> Iterator[bytes]:
        for index, piece in enumerate(pieces):
            if on_piece is not None:
                on_piece(index, len(pieces))
            yield from self._stream_piece(piece, voice_id, cancel)

    def _stream_piece(
        self, piece: Piece, voice_id: str, cancel: threading.Event | None
    ) -> Iterator[bytes]:
        for attempt in self._attempts(cancel):
            # Left in reverse order: forget the cancel hook, close the response, free the slot.
            with api_slot(cancel), contextlib.ExitStack() as opened:
                try:
                    http_response = opened.enter_context(
                        self._client.text_to_speech.with_raw_response.stream(
                            voice_id,
                            text=piece.text,
                            model_id=self.model_id,
                            output_format=self.output_format,  # type: ignore[arg-type]
                            previous_text=piece.previous_text,
                            next_text=piece.next_text,
                            voice_settings=self.voice_settings,  # type: ignore[arg-type]
                            enable_logging=self._enable_logging(),
                            # chunk_size None: hand over bytes as they arrive, not in 1 KiB batches.
                            request_options=self._options(chunk_size=None),
                        )
                    )
                except VoiceDeskError:
                    raise
                except Exception as exc:
                    self._fail(exc, attempt, cancel)
                    continue
                response: httpx.Response = http_response._response
                # A 200 that is not audio (an HTML error page from a proxy, JSON): a clear
                # error before any byte, not retried (it would come back the same).
                check_audio_response(response.headers.get("content-type"))
                self._report(facts_from_headers("tts", response.headers))
                opened.callback(on_cancel(cancel, functools.partial(_interrupt, response)))
                chunks = iter(http_response.data)
                first = self._first_chunk(chunks, attempt, cancel)
                if first is _RETRY:
                    continue
                if first is None:
                    raise UnexpectedResponseError("ElevenLabs answered with no audio at all.")
                yield first
                yield from self._rest(chunks, cancel)
                return

    def _first_chunk(
        self, chunks: Iterator[bytes], attempt: int, cancel: threading.Event | None
    ) -> Any:
        """The first audio bytes; `_RETRY` when a retryable failure came before any audio."""
        try:
            return next(chunks, None)
        except VoiceDeskError:
            raise
        except Exception as exc:
            self._fail(exc, attempt, cancel)
            return _RETRY

    def _rest(self, chunks: Iterator[bytes], cancel: threading.Event | None) -> Iterator[bytes]:
        try:
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                yield chunk
        except (httpx.HTTPError, OSError) as exc:
            if cancel is not None and cancel.is_set():
                raise Cancelled() from None
            log.info("stream cut after the first byte: %s", type(exc).__name__)
            raise StreamInterruptedError() from None
        if cancel is not None and cancel.is_set():
            raise Cancelled()

    # -- speech to text ----------------------------------------------------------------

    def transcribe_audio(
        self, pcm: bytes, language: str = "en", *, cancel: threading.Event | None = None
    ) -> str:
        """Transcribe 16 kHz mono s16le PCM with `scribe_v2` (sent raw: no container)."""
        if len(pcm) < STT_SAMPLE_RATE // 10:  # under 50 ms: nothing a model could hear
            raise RecordingTooShortError()

        def request() -> str:
            enable_logging = self._enable_logging()
            raw = self._client.speech_to_text.with_raw_response.convert(
                model_id=self.stt_model_id,
                file=("speech.pcm", pcm, "application/octet-stream"),
                file_format="pcm_s16le_16",
                language_code=language or None,
                tag_audio_events=False,
                enable_logging=enable_logging,
                request_options=self._options(),
            )
            result = raw.data
            # `construct_type` does not validate: check the shape here, or garbage reads as "".
            text = expect(getattr(result, "text", None), str, "transcript").strip()
            kept = getattr(result, "transcription_id", None)
            self._report(
                facts_from_headers(
                    "stt",
                    raw.headers,
                    # Zero retention keeps no transcript: nothing to delete.
                    transcript_id=kept
                    if isinstance(kept, str) and enable_logging is None
                    else None,
                )
            )
            return text

        return self._call(request, cancel)

    def open_live(
        self,
        language: str = "en",
        *,
        on_partial: PartialCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> LiveTake:
        """Key down: a live session (`scribe_v2_realtime`) is opening; feed it the audio as it
        arrives, then `result(pcm)` at key up (batch `scribe_v2` if the session fails)."""
        session = RealtimeSession(
            self._api_key,
            self.base_url,
            language=language or None,
            on_partial=on_partial,
            cancel=cancel,
            read_timeout=self._timeout,
        )
        session.start()
        return LiveTake(session, self.transcribe_audio, language)

    # -- account -----------------------------------------------------------------------

    def voices(self) -> list[Voice]:
        """Every voice on the account (premade, cloned, generated), following the pages."""
        found: list[Voice] = []
        token: str | None = None
        while True:
            page = self._call(functools.partial(self._voices_page, token), None)
            for v in expect(getattr(page, "voices", None), list, "voice list"):
                voice_id = expect(getattr(v, "voice_id", None), str, "voice list")
                found.append(
                    Voice(
                        voice_id=voice_id,
                        name=str(getattr(v, "name", None) or voice_id),
                        category=str(getattr(v, "category", None) or ""),
                        preview_url=str(getattr(v, "preview_url", None) or ""),
                    )
                )
            token = getattr(page, "next_page_token", None)
            if not getattr(page, "has_more", False) or not isinstance(token, str) or not token:
                return found

    def _voices_page(self, token: str | None) -> Any:
        return self._client.voices.search(
            page_size=VOICES_PAGE_SIZE, next_page_token=token, request_options=self._options()
        )

    def quota(self) -> Quota | None:
        sub = self._call(
            lambda: self._client.user.subscription.get(request_options=self._options()), None
        )
        quota = Quota(
            used=expect(getattr(sub, "character_count", None), int, "subscription"),
            limit=expect(getattr(sub, "character_limit", None), int, "subscription"),
            tier=str(getattr(sub, "tier", None) or ""),
        )
        self.zero_retention_allowed = quota.tier.lower().startswith(ZERO_RETENTION_TIERS)
        return quota

    # -- erasing what the service kept ---------------------------------------------------

    def delete_history_item(
        self, history_item_id: str, *, cancel: threading.Event | None = None
    ) -> None:
        """Delete one speech history item (`DELETE /v1/history/{id}`); gone already is fine."""
        self._call(
            functools.partial(
                _gone_is_fine, self._client.history.delete, history_item_id, self._options()
            ),
            cancel,
        )

    def find_history_item(
        self, request_id: str, *, cancel: threading.Event | None = None
    ) -> str | None:
        """The history item of the request `request_id`, for a speech response that came
        without a `history-item-id` header: looked up among the newest items; None if absent."""
        page = self._call(
            lambda: self._client.history.list(
                page_size=HISTORY_LOOKUP_PAGE, request_options=self._options()
            ),
            cancel,
        )
        for item in getattr(page, "history", None) or []:
            if getattr(item, "request_id", None) == request_id:
                found = getattr(item, "history_item_id", None)
                return found if isinstance(found, str) and found else None
        return None

    def delete_transcript(
        self, transcript_id: str, *, cancel: threading.Event | None = None
    ) -> None:
        """Delete one stored transcript (`DELETE /v1/speech-to-text/transcripts/{id}`)."""
        self._call(
            functools.partial(
                _gone_is_fine,
                self._client.speech_to_text.transcripts.delete,
                transcript_id,
                self._options(),
            ),
            cancel,
        )


_RETRY = object()


def _gone_is_fine(delete: Callable[..., Any], item_id: str, options: RequestOptions) -> None:
    """A deletion whose item is already gone (404) has done its job."""
    try:
        delete(item_id, request_options=options)
    except ApiError as exc:
        if exc.status_code != 404:
            raise


def _interrupt(response: httpx.Response) -> None:
    """Wake a thread blocked reading `response`: shut its socket down (close alone doesn't)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
