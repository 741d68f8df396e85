"""What the service answers, independent of how the bytes go out (see server.py for that)."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from . import catalog
from .audio import MP3_FORMATS, speech_mp3
from .config import Settings
from .faults import Kind
from .forms import FormError, parse_multipart
from .records import RequestRecord

MAX_TEXT = 40_000  # per request, whatever the model allows
PAID_KINDS: tuple[Kind, ...] = ("tts", "stt", "realtime")
TTS_PATH = re.compile(r"^/v1/text-to-speech/(?P<voice_id>[^/]+)(?P<stream>/stream)?$")
VOICE_PATH = re.compile(r"^/v1/voices/(?P<voice_id>[^/]+)$")
HISTORY_ITEM_PATH = re.compile(r"^/v1/history/(?P<item_id>[^/]+)$")
TRANSCRIPT_PATH = re.compile(r"^/v1/speech-to-text/transcripts/(?P<item_id>[^/]+)$")


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    chunked: bool = False


def json_reply(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=headers)


def classify(method: str, path: str) -> Kind:
    if path.startswith("/v1/text-to-speech/"):
        return "tts"
    if path == "/v1/speech-to-text":
        return "stt"
    if path == "/v1/speech-to-text/realtime":
        return "realtime"
    if path.startswith("/v1/speech-to-text/transcripts/"):
        return "transcript"
    if path.startswith("/v1/history"):
        return "history"
    if path.startswith(("/v1/voices", "/v2/voices")):
        return "voices"
    if path == "/v1/models":
        return "models"
    if path.startswith("/v1/user"):
        return "user"
    return "other"


def new_request_id() -> str:
    return secrets.token_hex(16)


def record_payload(rec: RequestRecord) -> None:
    """Decode the JSON or multipart body into the record, best effort (even for requests a fault
    answers), so tests can check what the client sent."""
    content_type = rec.headers.get("content-type", "")
    try:
        if content_type.startswith("application/json"):
            rec.json = json.loads(rec.body)
        elif content_type.startswith("multipart/form-data"):
            rec.form, files = parse_multipart(rec.body, content_type)
            rec.audio = files["file"].data if "file" in files else None
    except (ValueError, KeyError):
        pass


class Service:
    """The emulated account and its endpoints. Thread-safe: handlers run concurrently."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.character_count = 0
        # What the service keeps of each request (unless zero retention): history item id ->
        # the text spoken; transcript id -> its text. DELETE removes them.
        self.history: dict[str, str] = {}
        self.history_requests: dict[str, str] = {}  # history item id -> its request id
        self.transcripts: dict[str, str] = {}

    def error(self, status: int, error: str, request_id: str, **values: object) -> Reply:
        return json_reply(status, catalog.error_body(error, request_id, **values))

    def handle(self, rec: RequestRecord, settings: Settings, paid_in_flight: int) -> Reply:
        request_id = new_request_id()
        key = rec.api_key_valid
        if rec.kind == "other":
            return json_reply(404, {"detail": "Not Found"})
        if not key:
            return self.error(401, "invalid_api_key", request_id)
        limit = settings.concurrency_limit
        if rec.kind in PAID_KINDS and limit is not None and paid_in_flight > limit:
            return self.error(429, "too_many_concurrent_requests", request_id, limit=limit)
        if rec.kind == "realtime":
            # 101: the server turns the connection into the WebSocket (realtime.py).
            return Reply(101, b"")
        if rec.kind == "tts" and rec.method == "POST":
            return self.tts(rec, settings, request_id, paid_in_flight)
        if rec.kind == "stt" and rec.method == "POST":
            return self.stt(rec, settings, request_id)
        if rec.kind in ("history", "transcript") and rec.method == "DELETE":
            return self.delete(rec, request_id)
        if rec.method != "GET":
            return json_reply(405, {"detail": "Method Not Allowed"})
        return self.get(rec, settings, request_id)

    # -- text to speech -----------------------------------------------------------------------
    def tts(
        self, rec: RequestRecord, settings: Settings, request_id: str, paid_in_flight: int
    ) -> Reply:
        match = TTS_PATH.match(rec.path)
        if match is None:
            return json_reply(404, {"detail": "Not Found"})
        try:
            rec.json = json.loads(rec.body or b"null")
        except ValueError:
            return json_reply(
                422, catalog.validation_error(["body"], "JSON decode error", "json_invalid")
            )
        payload = rec.json if isinstance(rec.json, dict) else {}
        text = payload.get("text")
        if not isinstance(text, str):
            return json_reply(
                422, catalog.validation_error(["body", "text"], "Field required", "missing")
            )
        output_format = rec.param("output_format") or "mp3_44100_128"
        if output_format not in MP3_FORMATS:
            return self.error(
                400,
                "invalid_parameters",
                request_id,
                message=f"The emulator only serves MP3, not {output_format!r}.",
            )
        voice = settings.voice(match["voice_id"])
        if voice is None:
            return self.error(404, "voice_not_found", request_id, voice_id=match["voice_id"])
        model_id = payload.get("model_id") or "eleven_multilingual_v2"
        if model_id not in catalog.MODELS:
            return self.error(400, "model_not_found", request_id, model_id=model_id)
        if not text.strip():
            return self.error(400, "empty_text", request_id)
        limit = min(MAX_TEXT, catalog.MODELS[model_id][1])
        if len(text) > limit:
            return self.error(
                400, "max_character_limit_exceeded", request_id, length=len(text), limit=limit
            )
        cost = len(text)
        with self._lock:
            left = settings.character_limit - self.character_count
            if cost > left:
                return self.error(
                    401,
                    "quota_exceeded",
                    request_id,
                    limit=settings.character_limit,
                    left=left,
                    cost=cost,
                )
            self.character_count += cost
        audio = speech_mp3(text, settings.audio, output_format, voice.frequency)
        kept: tuple[tuple[str, str], ...] = ()
        if not _zero_retention(rec, settings):
            item_id = secrets.token_urlsafe(15)[:20]
            with self._lock:
                self.history[item_id] = text
                self.history_requests[item_id] = request_id
            kept = (("history-item-id", item_id),) if settings.history_item_header else ()
        headers = (
            ("request-id", request_id),
            *kept,
            ("character-cost", str(cost)),
            ("current-concurrent-requests", str(paid_in_flight)),
            ("maximum-concurrent-requests", str(settings.concurrency_limit or 0)),
            ("x-region", settings.region),
        )
        return Reply(200, audio, "audio/mpeg", headers, chunked=True)

    # -- speech to text -----------------------------------------------------------------------
    def stt(self, rec: RequestRecord, settings: Settings, request_id: str) -> Reply:
        try:
            fields, files = parse_multipart(rec.body, rec.headers.get("content-type", ""))
        except (FormError, UnicodeDecodeError) as exc:
            return json_reply(422, catalog.validation_error(["body"], str(exc), "value_error"))
        rec.form = fields
        rec.audio = files["file"].data if "file" in files else None
        if "model_id" not in fields:
            return json_reply(
                422, catalog.validation_error(["body", "model_id"], "Field required", "missing")
            )
        if fields["model_id"] not in catalog.STT_MODELS:
            return self.error(400, "model_not_found", request_id, model_id=fields["model_id"])
        if rec.audio is None and _given(fields.get("cloud_storage_url")) is None:
            return self.error(
                400,
                "invalid_parameters",
                request_id,
                message="Either a file or a cloud_storage_url must be provided.",
            )
        audio = rec.audio or b""
        transcript = settings.transcript
        text = transcript if isinstance(transcript, str) else transcript(audio, fields)
        seconds = None
        if fields.get("file_format") == "pcm_s16le_16":
            if len(audio) % 2:
                return self.error(
                    400,
                    "invalid_parameters",
                    request_id,
                    message="pcm_s16le_16 audio must have an even byte length.",
                )
            seconds = len(audio) / 32_000
        language = _given(fields.get("language_code")) or "eng"
        if not _zero_retention(rec, settings):
            with self._lock:
                self.transcripts[request_id] = text
        return json_reply(
            200,
            {
                "language_code": language,
                "language_probability": 1.0 if _given(fields.get("language_code")) else 0.98,
                "text": text,
                "words": _words(text, seconds),
                "transcription_id": request_id,
                **({"audio_duration_secs": seconds} if seconds is not None else {}),
            },
            headers=(("request-id", request_id),),
        )

    # -- what the service kept -----------------------------------------------------------------
    def _history_page(self, rec: RequestRecord) -> dict[str, Any]:
        size = max(1, min(1000, int(rec.param("page_size") or 100)))
        with self._lock:
            newest = list(self.history.items())[::-1][:size]
            requests = dict(self.history_requests)
        items = [
            {
                "history_item_id": item_id,
                "request_id": requests.get(item_id),
                "text": text,
                "date_unix": 1_800_000_000,
                "character_count_change_from": 0,
                "character_count_change_to": len(text),
                "content_type": "audio/mpeg",
                "state": "created",
            }
            for item_id, text in newest
        ]
        last = items[-1]["history_item_id"] if items else None
        return {"history": items, "last_history_item_id": last, "has_more": False}

    def delete(self, rec: RequestRecord, request_id: str) -> Reply:
        pattern = HISTORY_ITEM_PATH if rec.kind == "history" else TRANSCRIPT_PATH
        match = pattern.match(rec.path)
        store = self.history if rec.kind == "history" else self.transcripts
        with self._lock:
            found = match is not None and store.pop(match["item_id"], None) is not None
            if found and match is not None:
                self.history_requests.pop(match["item_id"], None)
        if not found:
            return json_reply(404, {"detail": {"status": "not_found", "message": "Not found"}})
        return json_reply(200, {"status": "ok"}, headers=(("request-id", request_id),))

    # -- account ------------------------------------------------------------------------------
    def get(self, rec: RequestRecord, settings: Settings, request_id: str) -> Reply:
        headers = (("request-id", request_id),)
        if rec.path == "/v2/voices":
            return json_reply(200, _voices_page(rec, settings), headers)
        if rec.path == "/v1/voices":
            return json_reply(200, {"voices": [v.to_json() for v in settings.voices]}, headers)
        if match := VOICE_PATH.match(rec.path):
            voice = settings.voice(match["voice_id"])
            if voice is None:
                return self.error(404, "voice_not_found", request_id, voice_id=match["voice_id"])
            return json_reply(200, voice.to_json(), headers)
        if rec.path == "/v1/history":
            return json_reply(200, self._history_page(rec), headers)
        if rec.path == "/v1/models":
            return json_reply(200, [catalog.model_json(m) for m in catalog.MODELS], headers)
        with self._lock:
            count = self.character_count
        subscription = catalog.subscription_json(settings.tier, count, settings.character_limit)
        if rec.path == "/v1/user/subscription":
            return json_reply(200, subscription, headers)
        if rec.path == "/v1/user":
            return json_reply(200, catalog.user_json(subscription), headers)
        return json_reply(404, {"detail": "Not Found"})


def _zero_retention(rec: RequestRecord, settings: Settings) -> bool:
    """`enable_logging=false` on an account allowed to use it (others' flag is ignored)."""
    return settings.zero_retention and rec.param("enable_logging") == "false"


def _given(value: str | None) -> str | None:
    """A multipart text field's value; the SDK sends some unset fields as the literal `null`."""
    return None if value in (None, "", "null") else value


def _words(text: str, seconds: float | None) -> list[dict[str, Any]]:
    """Word and spacing entries spread evenly over the audio (0.3 s a word if unknown)."""
    tokens = re.findall(r"\S+|\s+", text)
    step = (seconds / len(tokens)) if seconds and tokens else 0.15
    words = []
    for i, token in enumerate(tokens):
        kind = "spacing" if token.isspace() else "word"
        words.append(
            {
                "text": token,
                "start": round(i * step, 3),
                "end": round((i + 1) * step, 3),
                "type": kind,
                "logprob": 0.0,
            }
        )
    return words


def _voices_page(rec: RequestRecord, settings: Settings) -> dict[str, Any]:
    voices = list(settings.voices)
    if search := (rec.param("search") or "").lower():
        voices = [v for v in voices if search in v.name.lower()]
    if wanted := rec.query.get("voice_ids"):
        voices = [v for v in voices if v.voice_id in wanted]
    size = max(1, min(100, int(rec.param("page_size") or 10)))
    token = rec.param("next_page_token")
    start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    page = voices[start : start + size]
    has_more = start + size < len(voices)
    next_token = base64.urlsafe_b64encode(str(start + size).encode()).decode() if has_more else None
    return {
        "voices": [v.to_json() for v in page],
        "has_more": has_more,
        "total_count": len(voices),
        "next_page_token": next_token,
    }
