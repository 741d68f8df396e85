"""An HTTP/2 front for the (HTTP/1.1) emulator, to measure whether HTTP/2 would help.

`H2Front(upstream_base_url, server_context)` listens on 127.0.0.1, speaks TLS offering only
`h2` by ALPN, and forwards each request stream as one HTTP/1.1 request to the emulator over
plain http on loopback (a pooled httpx client), streaming the answer back as DATA frames as it
arrives. One thread per connection does all the TLS and h2 work (an SSL socket is not shared
between threads); each stream's upstream request runs on a thread of its own and hands its
pieces over through a queue and a wake-up socket pair. Flow control is honoured (pieces wait
for window updates). Benchmark-only, uses the `h2` package (https://python-hyper.org/h2/).
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import ssl
import threading
from typing import Any

import h2.config
import h2.connection
import h2.events
import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


class H2Front:
    def __init__(self, upstream_base_url: str, server_context: ssl.SSLContext) -> None:
        self._upstream = upstream_base_url.rstrip("/")
        self._context = server_context
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._http = httpx.Client(timeout=30)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.connections = 0

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def start(self) -> H2Front:
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(5)
        self._http.close()

    def __enter__(self) -> H2Front:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._sockets.append(raw)
            self._spawn(self._serve, raw)

    def _serve(self, raw: socket.socket) -> None:
        try:
            sock = self._context.wrap_socket(raw, server_side=True)
        except OSError:
            return
        with self._lock:
            self._sockets.append(sock)
        try:
            if sock.selected_alpn_protocol() == "h2":
                _Connection(self, sock).run()
        except OSError:
            pass
        finally:
            sock.close()

    def forward(self, sid: int, headers: list[tuple[str, str]], body: bytes, out: Any) -> None:
        """On a thread of its own: one request to the emulator, its answer to `out(...)`."""
        pseudo = {k: v for k, v in headers if k.startswith(":")}
        plain = [(k, v) for k, v in headers if not k.startswith(":") and k not in HOP_BY_HOP]
        url = self._upstream + pseudo[":path"]
        try:
            with self._http.stream(pseudo[":method"], url, headers=plain, content=body) as reply:
                out(sid, "head", reply.status_code, reply.headers.multi_items())
                for chunk in reply.iter_raw():
                    out(sid, "data", chunk)
        except httpx.HTTPError:
            out(sid, "reset")
            return
        out(sid, "end")


class _Connection:
    """One h2 connection; all of its TLS and h2 work happens on the thread that runs it."""

    def __init__(self, front: H2Front, sock: ssl.SSLSocket) -> None:
        self._front = front
        self._sock = sock
        self._h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self._requests: dict[int, tuple[list[tuple[str, str]], bytearray]] = {}
        self._pending: dict[int, bytearray] = {}  # answer bytes waiting for flow-control window
        self._ending: set[int] = set()
        self._outbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._wake_r, self._wake_w = socket.socketpair()

    def _out(self, *item: Any) -> None:
        self._outbox.put(item)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def run(self) -> None:
        self._h2.initiate_connection()
        self._flush()
        selector = selectors.DefaultSelector()
        selector.register(self._sock, selectors.EVENT_READ, "net")
        selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while True:
                for key, _ in selector.select():
                    if key.data == "wake":
                        self._wake_r.recv(4096)
                        self._drain_outbox()
                    elif not self._receive():
                        return
                self._send_pending()
                self._flush()
        finally:
            selector.close()
            self._wake_r.close()
            self._wake_w.close()

    def _receive(self) -> bool:
        data = self._sock.recv(65536)
        while self._sock.pending():
            data += self._sock.recv(self._sock.pending())
        if not data:
            return False
        for event in self._h2.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                headers = [(str(k), str(v)) for k, v in event.headers]
                self._requests[event.stream_id] = (headers, bytearray())
            elif isinstance(event, h2.events.DataReceived):
                self._requests[event.stream_id][1].extend(event.data)
                self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                headers, body = self._requests.pop(event.stream_id)
                self._front._spawn(
                    self._front.forward, event.stream_id, headers, bytes(body), self._out
                )
            elif isinstance(event, h2.events.StreamReset):
                self._pending.pop(event.stream_id, None)
                self._ending.discard(event.stream_id)
            elif isinstance(event, h2.events.ConnectionTerminated):
                return False
        return True

    def _drain_outbox(self) -> None:
        while True:
            try:
                sid, kind, *rest = self._outbox.get_nowait()
            except queue.Empty:
                return
            if kind == "head":
                status, headers = rest
                fields = [(":status", str(status))] + [
                    (k.lower(), v) for k, v in headers if k.lower() not in HOP_BY_HOP
                ]
                self._h2.send_headers(sid, fields)
                self._pending[sid] = bytearray()
            elif kind == "data":
                self._pending.setdefault(sid, bytearray()).extend(rest[0])
            elif kind == "end":
                self._ending.add(sid)
            else:
                with contextlib.suppress(Exception):
                    self._h2.reset_stream(sid)
                self._pending.pop(sid, None)

    def _send_pending(self) -> None:
        for sid in list(self._pending):
            buffer = self._pending[sid]
            while buffer:
                window = self._h2.local_flow_control_window(sid)
                size = min(len(buffer), window, self._h2.max_outbound_frame_size)
                if size <= 0:
                    break  # a WINDOW_UPDATE will come; this runs again after it
                self._h2.send_data(sid, bytes(buffer[:size]))
                del buffer[:size]
            if not buffer and sid in self._ending:
                self._h2.end_stream(sid)
                self._ending.discard(sid)
                del self._pending[sid]

    def _flush(self) -> None:
        data = self._h2.data_to_send()
        if data:
            self._sock.sendall(data)
