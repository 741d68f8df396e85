"""A TCP proxy on 127.0.0.1 that delays every byte by half a round trip, each way.

`DelayProxy(target_port, rtt=0.04)` listens on its own port and forwards each connection to
`127.0.0.1:target_port`. Bytes read from one side are written to the other `rtt / 2` seconds
later (each piece stamped when it was read, so bandwidth is not cut, only latency added), and
an end of stream is passed on with the same delay. Every flight of a TLS handshake and every
request and answer therefore pays the round trip, as on a real link.

The TCP handshake itself happens on loopback (the kernel answers the SYN before any code of
ours runs), so `connect()` returns at once. Its round trip is paid instead by the client's
first bytes: on a real link nothing can leave before the SYN-ACK is back, one round trip after
the connect began, so those bytes go out at `max(read, accepted + rtt) + rtt / 2`.

This kernel has no `netem` qdisc: this is how tests and benchmarks get a slow link on loopback.

`connections` counts the connections accepted: a client that reuses its connection adds none.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time


class DelayProxy:
    def __init__(self, target_port: int, rtt: float, target_host: str = "127.0.0.1") -> None:
        self.rtt = rtt
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.connections = 0
        self._accepter = threading.Thread(target=self._accept, name="delay-proxy", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> DelayProxy:
        self._accepter.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._accepter.join(5)
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(5)
        for sock in sockets:
            sock.close()

    def drop_connections(self) -> None:
        """Cut every open connection (both sides), as a network change would."""
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> DelayProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._sockets += [client, server]
            # Nothing from the client leaves before its SYN's round trip (see above).
            self._pipe(client, server, not_before=time.monotonic() + self.rtt)
            self._pipe(server, client, not_before=0.0)

    def _pipe(self, source: socket.socket, sink: socket.socket, not_before: float) -> None:
        """Two threads per direction: one reads and stamps, one writes when the time comes."""
        pieces: queue.Queue[tuple[float, bytes]] = queue.Queue()
        threads = [
            threading.Thread(target=self._read, args=(source, pieces, not_before), daemon=True),
            threading.Thread(target=self._write, args=(sink, pieces), daemon=True),
        ]
        with self._lock:
            self._threads += threads
        for thread in threads:
            thread.start()

    def _read(
        self, source: socket.socket, pieces: queue.Queue[tuple[float, bytes]], not_before: float
    ) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            pieces.put((max(time.monotonic(), not_before) + self.rtt / 2, data))
            if not data:
                return

    def _write(self, sink: socket.socket, pieces: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            due, data = pieces.get()
            # The link's delay itself (not a wait for something to happen): hold until due.
            if self._stopping.wait(max(0.0, due - time.monotonic())):
                return
            try:
                if data:
                    sink.sendall(data)
                else:
                    sink.shutdown(socket.SHUT_WR)
                    return
            except OSError:
                return
