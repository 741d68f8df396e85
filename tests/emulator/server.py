"""The HTTP/1.1 transport: real sockets, chunked bodies flushed per chunk, faults on the wire."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from . import catalog, realtime
from .config import Settings
from .faults import Fault, FaultPlan, Kind
from .forms import read_body
from .records import REDACTED, Recorder, RequestRecord
from .routes import PAID_KINDS, Reply, Service, classify, json_reply, new_request_id, record_payload

log = logging.getLogger("tests.emulator")


class _Stopped(Exception):
    """The emulator is shutting down: abandon this response."""


class _Server(ThreadingHTTPServer):
    # Non-daemon handler threads, joined by server_close(): stop() leaks no threads.
    daemon_threads = False
    block_on_close = True

    def __init__(
        self, address: tuple[str, int], emulator: Emulator, tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator
        self.tls = tls
        self.connections_accepted = 0
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
            self.connections_accepted += 1
        super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        # The TLS handshake here, on the connection's own thread. Wrapping takes the socket's
        # file descriptor over: from then on the wrapped socket is the one to shut down.
        request.settimeout(_Handler.timeout)
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except OSError as exc:  # ssl.SSLError included
            log.debug("TLS handshake from %s failed: %r", client_address, exc)
            return
        with self._lock:
            self._connections.discard(request)
            self._connections.add(wrapped)
        try:
            super().finish_request(wrapped, client_address)
        finally:
            with self._lock:
                self._connections.discard(wrapped)
            with contextlib.suppress(OSError):
                wrapped.shutdown(socket.SHUT_RDWR)
            wrapped.close()

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Unblock every handler (idle keep-alive reads, blocked writes) by shutting its socket."""
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by a fault
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            log.debug("connection from %s ended: %r", client_address, exc)
        else:
            log.exception("emulator handler crashed")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked transfer encoding
    server_version = "elevenlabs-emulator/1.0"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are dropped after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Each chunk must leave at once, not wait for Nagle to batch it with the next one.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self.server.emulator._serve(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- wire actions used by Emulator._serve ---------------------------------------------------
    def drop(self, rst: bool) -> None:
        """Close the connection: with RST (SO_LINGER 0) or with an orderly FIN."""
        self.close_connection = True
        if rst:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()

    def send_head(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()

    def send_piece(self, data: bytes, chunked: bool) -> None:
        framed = b"%x\r\n%s\r\n" % (len(data), data) if chunked else data
        self.wfile.write(framed)


class Emulator:
    """The ElevenLabs HTTP API on 127.0.0.1, for tests: `with Emulator() as emu: emu.base_url`.

    Keyword arguments are `Settings` fields (api_keys, voices, audio, transcript, ttfb, pacing,
    chunk_size, concurrency_limit, tier, character_limit, region); `configure()` changes them
    while running. Faults: `script()` for the next requests, `always()` for all of a kind.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: ssl.SSLContext | None = None,
        **settings: Any,
    ) -> None:
        self._address = (host, port)
        self._tls = tls  # a server context (tests/helpers/tls.py): serve https
        self._initial = _coerce(Settings(), settings)
        self.settings = self._initial  # swapped whole, never mutated: handlers read one snapshot
        self.faults = FaultPlan()
        self.service = Service()
        self.internal_errors: list[BaseException] = []
        self._recorder = Recorder()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self._address, self, self._tls)
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="elevenlabs-emulator"
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: stalled and slow responses are abandoned, every thread is joined."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        self._recorder.release_all()
        server.shutdown()
        server.drop_connections()
        server.server_close()  # joins the handler threads
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as the SDK's `base_url` (it appends `v1/...` itself)."""
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://{self._address[0]}:{self.port}"

    @property
    def connections(self) -> int:
        """TCP connections accepted since start (a reused keep-alive connection counts once)."""
        return self._server.connections_accepted if self._server is not None else 0

    # -- configuration --------------------------------------------------------------------------
    def configure(self, **changes: Any) -> None:
        """Change settings for requests that start from now on."""
        self.settings = _coerce(self.settings, changes)

    def reset(self) -> None:
        """Back to the state right after construction: settings, faults, records, usage."""
        self._recorder.release_all()
        self._recorder = Recorder()
        self.faults.clear()
        self.settings = self._initial
        self.service.character_count = 0
        self.service.history.clear()
        self.service.history_requests.clear()
        self.service.transcripts.clear()
        self.internal_errors.clear()

    def script(self, kind: Kind | Literal["any"], faults: Iterable[Fault | None]) -> None:
        """One entry per upcoming request of `kind`, in order; None means a normal answer."""
        self.faults.script(kind, faults)

    def always(self, kind: Kind | Literal["any"], fault: Fault | None) -> None:
        """A fault for every later request of `kind` (after its script); None clears it."""
        self.faults.always(kind, fault)

    def pending(self, kind: Kind | Literal["any"]) -> int:
        """Scripted entries not yet used."""
        return self.faults.pending(kind)

    @property
    def character_count(self) -> int:
        return self.service.character_count

    @character_count.setter
    def character_count(self, value: int) -> None:
        self.service.character_count = value

    @property
    def history_items(self) -> dict[str, str]:
        """History items the account still keeps: id -> the text spoken."""
        with self.service._lock:
            return dict(self.service.history)

    @property
    def transcripts(self) -> dict[str, str]:
        """Transcripts the account still keeps: id -> text."""
        with self.service._lock:
            return dict(self.service.transcripts)

    # -- observation ----------------------------------------------------------------------------
    def requests(self, kind: Kind | None = None) -> list[RequestRecord]:
        return [r for r in self._recorder.records() if kind is None or r.kind == kind]

    def last(self, kind: Kind | None = None) -> RequestRecord:
        found = self.requests(kind)
        if not found:
            raise LookupError(f"no {kind or ''} request recorded")
        return found[-1]

    @property
    def in_flight(self) -> int:
        return len(self._recorder.in_flight())

    @property
    def max_in_flight(self) -> int:
        return self._recorder.max_in_flight

    @property
    def max_in_flight_by_kind(self) -> dict[str, int]:
        return dict(self._recorder.max_in_flight_by_kind)

    def wait_request(
        self,
        kind: Kind | None = None,
        nth: int = 0,
        until: Callable[[RequestRecord], bool] = lambda r: True,
        timeout: float = 5.0,
    ) -> RequestRecord:
        """The `nth` request of `kind` (0-based) once it has arrived and `until(record)` holds."""

        def matches(record: RequestRecord) -> bool:
            same = [r for r in self._recorder.records() if kind is None or r.kind == kind]
            return nth < len(same) and same[nth] is record and until(record)

        return self._recorder.wait_for(matches, timeout)

    def wait_first_byte(
        self, kind: Kind | None = "tts", nth: int = 0, timeout: float = 5.0
    ) -> RequestRecord:
        return self.wait_request(kind, nth, lambda r: r.first_byte_at is not None, timeout)

    def wait_stalled(
        self, kind: Kind | None = None, nth: int = 0, timeout: float = 5.0
    ) -> RequestRecord:
        return self.wait_request(kind, nth, lambda r: r.stalled.is_set(), timeout)

    def wait_done(
        self, kind: Kind | None = None, nth: int = 0, timeout: float = 5.0
    ) -> RequestRecord:
        return self.wait_request(kind, nth, lambda r: r.done.is_set(), timeout)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until no request is in flight."""
        deadline = time.monotonic() + timeout
        for record in self._recorder.in_flight():
            if not record.done.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"request {record.index} still in flight after {timeout} s")

    def release(self) -> None:
        """Let every stalled response carry on (stalls reached later still stall)."""
        for record in self._recorder.in_flight():
            record.release()

    # -- serving (runs in handler threads) ------------------------------------------------------
    def _serve(self, handler: _Handler) -> None:
        settings, recorder = self.settings, self._recorder
        try:
            body = read_body(handler.rfile, handler.headers)
        except ValueError:  # a malformed Content-Length or chunk size: nothing else can be read
            handler.close_connection = True
            handler.send_error(400, "malformed request body")
            return
        url = urlsplit(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        key = headers.get("xi-api-key")
        if key is not None:
            headers["xi-api-key"] = REDACTED
        kind = classify(handler.command, url.path)
        base = Fault(
            reset=False,
            ttfb=settings.ttfb,
            pacing=settings.pacing,
            chunk_size=settings.chunk_size,
            cut_with_reset=True,
        )
        rec = RequestRecord(
            index=-1,
            kind=kind,
            method=handler.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers=headers,
            api_key_valid=key in settings.api_keys,
            body=body,
            fault=self.faults.next(kind, base),
            started_at=time.monotonic(),
        )
        record_payload(rec)
        recorder.begin(rec)
        try:
            self._respond(handler, rec, settings, recorder)
        except _Stopped:
            rec.outcome = "stopped"
            handler.close_connection = True
        except OSError:
            rec.outcome = "client_gone"
            handler.close_connection = True
        except Exception as exc:  # a bug in the emulator: answer 500 if still possible, report
            self.internal_errors.append(exc)
            log.exception("emulator failed on %s %s", rec.method, rec.path)
            rec.outcome = "error"
            handler.close_connection = True
            if rec.headers_sent_at is None:
                reply = json_reply(
                    500,
                    catalog.error_body(
                        "internal_server_error", new_request_id(), f"emulator bug: {exc!r}"
                    ),
                )
                handler.send_head(reply)
                handler.wfile.write(reply.body)
        finally:
            recorder.end(rec)

    def _respond(
        self, handler: _Handler, rec: RequestRecord, settings: Settings, recorder: Recorder
    ) -> None:
        fault = rec.fault
        if fault.reset:
            rec.outcome = "reset"
            handler.drop(rst=True)
            return
        self._pause(fault.ttfb)
        if fault.status_code is not None:
            code = fault.status_code
            error = fault.error or catalog.STATUS_FOR_CODE.get(code, "error")
            reply = json_reply(
                code,
                catalog.error_body(
                    error, new_request_id(), fault.message, limit=settings.concurrency_limit
                ),
            )
        else:
            paid = len(recorder.in_flight(PAID_KINDS))
            reply = _odd(self.service.handle(rec, settings, paid), fault)
            if reply.status == 101:
                if realtime.is_upgrade(handler.headers):
                    handler.close_connection = True
                    realtime.Session(handler, rec, settings, recorder, self._pause).run()
                    return
                reply = json_reply(426, {"detail": "Upgrade Required"})
            if rec.kind == "stt" and reply.status == 200:
                seconds = len(rec.audio or b"") / realtime.BYTES_PER_SECOND
                self._pause(settings.recognition_delay + settings.recognition_rate * seconds)
        handler.send_head(reply)
        rec.status, rec.headers_sent_at = reply.status, time.monotonic()
        self._send_body(handler, rec, reply, recorder)

    def _send_body(
        self, handler: _Handler, rec: RequestRecord, reply: Reply, recorder: Recorder
    ) -> None:
        fault, body = rec.fault, reply.body
        size = max(1, fault.chunk_size or 4096)
        stall_at, cut_at = fault.stall_after, fault.cut_after
        pos = 0
        while True:
            if stall_at is not None and pos >= stall_at:
                stall_at = None
                rec.stalled.set()
                recorder.changed()
                rec.gate.wait(fault.stall_for)
                if self._stopping.is_set():
                    raise _Stopped
            if cut_at is not None and pos >= cut_at:
                rec.outcome = "cut"
                handler.drop(rst=bool(fault.cut_with_reset))
                return
            if pos >= len(body):
                break
            end = min(len(body), pos + size)
            for mark in (stall_at, cut_at):
                if mark is not None and pos < mark < end:
                    end = mark
            if pos and fault.pacing:
                self._pause(fault.pacing)
            handler.send_piece(body[pos:end], reply.chunked)
            rec.bytes_sent = end
            if pos == 0:
                rec.first_byte_at = time.monotonic()
                rec.first_byte.set()
                recorder.changed()
            pos = end
        if reply.chunked:
            handler.wfile.write(b"0\r\n\r\n")

    def _pause(self, seconds: float | None) -> None:
        if seconds and self._stopping.wait(seconds):
            raise _Stopped


def _odd(reply: Reply, fault: Fault) -> Reply:
    """A success answer changed as the fault says (its body, type, or a short body)."""
    if reply.status != 200:
        return reply
    body = reply.body if fault.body is None else fault.body
    if fault.truncate_to is not None:
        body = body[: fault.truncate_to]
    return replace(reply, body=body, content_type=fault.content_type or reply.content_type)


def _coerce(settings: Settings, changes: dict[str, Any]) -> Settings:
    if "api_keys" in changes:
        keys = changes["api_keys"]
        changes = {**changes, "api_keys": frozenset([keys] if isinstance(keys, str) else keys)}
    if "voices" in changes:
        changes = {**changes, "voices": tuple(changes["voices"])}
    return replace(settings, **changes)
