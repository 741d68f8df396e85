"""Realtime speech-to-text (`/v1/speech-to-text/realtime`): a WebSocket on the same server.

The HTTP handler that read the upgrade request carries on as a WebSocket endpoint (RFC 6455,
server side: unmasked frames out, masked frames in, ping answered, close echoed), so the
emulator stays one server at one base URL. Messages are the service's: `session_started`,
`partial_transcript` as audio arrives (words of the emulator's transcript, revealed at
`realtime_seconds_per_word`), `committed_transcript` after a commit (following the same
recognition delay as batch STT), and the error types, on demand.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import struct
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from .config import Settings

if TYPE_CHECKING:
    from .records import Recorder, RequestRecord
    from .server import _Handler

PATH = "/v1/speech-to-text/realtime"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BYTES_PER_SECOND = 32_000  # pcm_16000: 16 kHz mono s16le
MAX_MESSAGE = 16 << 20
TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
# The error message types the service sends (the SDK's RealtimeEvents), with a message each.
ERRORS = {
    "auth_error": "You must be authenticated to use this endpoint.",
    "quota_exceeded": "You have exceeded your quota.",
    "rate_limited": "Too many requests.",
    "commit_throttled": "Commits are too frequent.",
    "resource_exhausted": "No capacity available.",
    "session_time_limit_exceeded": "The session exceeded its maximum duration.",
    "insufficient_audio_activity": "Not enough audio activity.",
    "queue_overflow": "Audio was sent faster than it could be processed.",
    "chunk_size_exceeded": "The audio chunk is too large.",
    "input_error": "The input could not be read.",
    "invalid_request": "The request is invalid.",
    "transcriber_error": "The transcriber failed.",
    "unaccepted_terms": "Accept the terms of service first.",
    "error": "An error occurred.",
}


class Closed(Exception):
    """The peer closed the WebSocket (or the connection)."""


def is_upgrade(headers: Any) -> bool:
    return "websocket" in (headers.get("Upgrade") or "").lower()


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def send_frame(wfile: BinaryIO, opcode: int, payload: bytes = b"") -> None:
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 1 << 16:
        head += bytes([126]) + struct.pack(">H", size)
    else:
        head += bytes([127]) + struct.pack(">Q", size)
    wfile.write(head + payload)
    wfile.flush()


def _read(rfile: BinaryIO, size: int) -> bytes:
    data = rfile.read(size)
    if len(data) < size:
        raise Closed
    return data


def read_frame(rfile: BinaryIO) -> tuple[bool, int, bytes]:
    """(fin, opcode, payload) of the next frame; client frames are masked."""
    b0, b1 = _read(rfile, 2)
    size = b1 & 0x7F
    if size == 126:
        size = struct.unpack(">H", _read(rfile, 2))[0]
    elif size == 127:
        size = struct.unpack(">Q", _read(rfile, 8))[0]
    if size > MAX_MESSAGE:
        raise Closed
    mask = _read(rfile, 4) if b1 & 0x80 else b""
    payload = _read(rfile, size)
    if mask and size:
        key = np.resize(np.frombuffer(mask, np.uint8), size)
        payload = (np.frombuffer(payload, np.uint8) ^ key).tobytes()
    return bool(b0 & 0x80), b0 & 0x0F, payload


class Session:
    """One WebSocket session, run on the handler's thread until either side closes it."""

    def __init__(
        self,
        handler: _Handler,
        rec: RequestRecord,
        settings: Settings,
        recorder: Recorder,
        pause: Any,
    ) -> None:
        self.handler = handler
        self.rec = rec
        self.settings = settings
        self.recorder = recorder
        self.pause = pause  # Emulator._pause: a wait that ends when the emulator stops
        self.audio = bytearray()
        self.segment_from = 0  # where the current (uncommitted) segment begins in `audio`
        self.recognised = 0  # bytes of the segment already covered by a partial
        self.next_partial = settings.realtime_partial_every
        self.fields = {k: v[-1] for k, v in rec.query.items() if v}

    # -- wire --------------------------------------------------------------------------------
    def handshake(self) -> None:
        handler = self.handler
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header(
            "Sec-WebSocket-Accept", accept_key(handler.headers["Sec-WebSocket-Key"])
        )
        handler.end_headers()
        handler.wfile.flush()

    def send(self, message: dict[str, Any]) -> None:
        send_frame(self.handler.wfile, TEXT, json.dumps(message).encode())
        self.rec.sent_messages.append(message)
        self.recorder.changed()

    def close(self, code: int = 1000, reason: str = "") -> None:
        send_frame(self.handler.wfile, CLOSE, struct.pack(">H", code) + reason.encode()[:120])

    def receive(self) -> str:
        """The next text message, answering pings and echoing a close on the way."""
        parts: list[bytes] = []
        while True:
            fin, opcode, payload = read_frame(self.handler.rfile)
            if opcode == CLOSE:
                self.close(struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1000)
                raise Closed
            if opcode == PING:
                send_frame(self.handler.wfile, PONG, payload)
                continue
            if opcode == PONG:
                continue
            parts.append(payload)
            if fin:
                return b"".join(parts).decode()

    # -- service -----------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.serve()
        except Closed:
            pass  # the client closed the session: the usual end
        finally:
            if self.rec.outcome != "reset":
                self.rec.audio = bytes(self.audio)

    def serve(self) -> None:
        self.handshake()
        rec = self.rec
        rec.status, rec.headers_sent_at = 101, rec.started_at
        if not rec.api_key_valid:
            self.error("auth_error")
            return
        self.send(
            {
                "message_type": "session_started",
                "session_id": secrets.token_hex(16),
                "config": {
                    "sample_rate": 16_000,
                    "audio_format": self.fields.get("audio_format", "pcm_16000"),
                    "language_code": self.fields.get("language_code", ""),
                    "model_id": self.fields.get("model_id", ""),
                    "commit_strategy": self.fields.get("commit_strategy", "manual"),
                },
            }
        )
        while True:
            try:
                message = json.loads(self.receive())
            except ValueError:
                self.error("input_error")
                return
            rec.messages.append(_without_audio(message))
            kind = message.get("message_type")
            if kind == "input_audio_chunk":
                pcm = base64.b64decode(message.get("audio_base_64") or "")
                if self.audio_arrived(pcm):
                    return
                if message.get("commit"):
                    self.commit()
            elif kind == "commit":
                self.commit()

    def audio_arrived(self, pcm: bytes) -> bool:
        """Record the audio and answer with partials; True when a fault ended the session."""
        rec, settings = self.rec, self.settings
        self.audio += pcm
        rec.audio_bytes = len(self.audio)
        self.recorder.changed()
        seconds = len(self.audio) / BYTES_PER_SECOND
        if settings.realtime_drop_after is not None and seconds >= settings.realtime_drop_after:
            rec.outcome = "reset"
            rec.audio = bytes(self.audio)
            self.handler.drop(rst=True)
            return True
        error = settings.realtime_error
        if error is not None and pcm and seconds >= settings.realtime_error_after:
            self.error(error)
            return True
        segment = (len(self.audio) - self.segment_from) / BYTES_PER_SECOND
        if pcm and segment >= self.next_partial:
            self.next_partial = segment + settings.realtime_partial_every
            words = self.transcript().split()
            shown = min(len(words), math.ceil(segment / settings.realtime_seconds_per_word))
            if shown:
                self.recognised = len(self.audio) - self.segment_from
                self.send({"message_type": "partial_transcript", "text": " ".join(words[:shown])})
        return False

    def commit(self) -> None:
        rec, settings = self.rec, self.settings
        rec.audio = bytes(self.audio)
        rec.commits += 1
        pending = (len(self.audio) - self.segment_from - self.recognised) / BYTES_PER_SECOND
        self.pause(settings.recognition_delay + settings.recognition_rate * pending)
        text = self.transcript()
        self.segment_from, self.recognised = len(self.audio), 0
        self.next_partial = settings.realtime_partial_every
        self.send({"message_type": "committed_transcript", "text": text})

    def transcript(self) -> str:
        transcript = self.settings.transcript
        if isinstance(transcript, str):
            return transcript
        return transcript(bytes(self.audio[self.segment_from :]), self.fields)

    def error(self, kind: str) -> None:
        self.rec.audio = bytes(self.audio)
        self.rec.outcome = "error"
        self.send({"message_type": kind, "error": ERRORS.get(kind, "An error occurred.")})
        self.close(1008 if kind == "auth_error" else 1011)
        self.await_close()

    def await_close(self) -> None:
        """The rest of the closing handshake: read (and drop) what the client still sends
        until its close. Closing with unread bytes would make the kernel send an RST, and the
        client could lose the error message still in its receive buffer."""
        self.handler.connection.settimeout(2.0)
        try:
            while read_frame(self.handler.rfile)[1] != CLOSE:
                pass
        except (Closed, OSError):
            pass


def _without_audio(message: Any) -> Any:
    """A message as recorded: the audio replaced by its size (tests compare `rec.audio`)."""
    if isinstance(message, dict) and "audio_base_64" in message:
        size = len(base64.b64decode(message.get("audio_base_64") or ""))
        return {**{k: v for k, v in message.items() if k != "audio_base_64"}, "audio_bytes": size}
    return message
