"""The engines' HTTP client: one pooled connection kept open for long, and timed.

`make_client` builds the `httpx.Client` an engine keeps for its lifetime. Two things differ from
httpx's defaults:

- The pool keeps an idle connection for `KEEPALIVE_EXPIRY` seconds, not httpx's 5 s
  (https://www.python-httpx.org/advanced/resource-limits/): the window's warm-up request comes
  every `WARM_INTERVAL` seconds, so a connection outlives the gap between two of them, and a
  Speak a few seconds after the last one still finds it open (no TCP and TLS handshake).
- Every request goes through `TracedTransport`, which reads httpcore's `trace` extension
  (https://www.encode.io/httpcore/extensions/#trace) to time the connect (TCP and TLS) and the
  response head, and counts requests in flight (so a warm-up can tell the connection is in use
  and skip itself).

Timings go to whoever asked for them on the current thread: `record_timing()` around a
request (an engine's generator runs on its consumer's thread, so a worker wraps its loop in
it). Plain Python, no Qt.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

# Seconds between two warm-up requests while the window is in use (the UI's timer).
WARM_INTERVAL = 20.0
# Seconds an idle pooled connection is kept: longer than WARM_INTERVAL, so warm-ups find it.
KEEPALIVE_EXPIRY = 60.0


@dataclass(frozen=True, slots=True)
class NetworkTiming:
    """When the request that produced the first byte connected and got its answer's head.

    All on `time.monotonic()`. `connect_start`/`connect_end` are None when the request went
    out on a pooled connection (`reused`); `connect_end` is after the TLS handshake.
    """

    connect_start: float | None = None
    connect_end: float | None = None
    response_head: float | None = None
    reused: bool | None = None


class TimingRecorder:
    """Collects the trace of the requests made on one thread until `freeze()`.

    A retried request overwrites what the failed one left, so after the first byte (when the
    caller freezes it) it holds the timing of the request whose answer is being played.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen = False
        self._timing = NetworkTiming()

    def begin(self) -> None:
        with self._lock:
            if not self._frozen:
                self._timing = NetworkTiming(reused=True)

    def event(self, name: str, now: float) -> None:
        with self._lock:
            if self._frozen:
                return
            t = self._timing
            if name.endswith("connect_tcp.started"):
                t = NetworkTiming(connect_start=now, reused=False)
            elif name.endswith(("connect_tcp.complete", "start_tls.complete")):
                t = NetworkTiming(t.connect_start, now, t.response_head, t.reused)
            elif name.endswith("receive_response_headers.complete"):
                t = NetworkTiming(t.connect_start, t.connect_end, now, t.reused)
            self._timing = t

    def freeze(self) -> NetworkTiming:
        with self._lock:
            self._frozen = True
            return self._timing

    @property
    def timing(self) -> NetworkTiming:
        with self._lock:
            return self._timing


_local = threading.local()


@contextlib.contextmanager
def record_timing() -> Iterator[TimingRecorder]:
    """Time the requests this thread makes inside the `with` (nested: the inner one wins)."""
    recorder = TimingRecorder()
    outer = getattr(_local, "recorder", None)
    _local.recorder = recorder
    try:
        yield recorder
    finally:
        _local.recorder = outer


class _ClosingStream(httpx.SyncByteStream):
    """A response body that tells the transport once, when it is closed."""

    def __init__(self, inner: httpx.SyncByteStream, closed: Callable[[], None]) -> None:
        self._inner = inner
        self._closed: Callable[[], None] | None = closed

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            closed, self._closed = self._closed, None
            if closed is not None:
                closed()


class TracedTransport(httpx.BaseTransport):
    """Wraps httpx's own transport: traces each request, counts requests in flight."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._in_flight = 0
        self._idle_since = float("-inf")  # never used: no connection to keep warm yet
        self.connections_opened = 0

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def idle_for(self) -> float:
        """Seconds since the last request ended (infinite before the first); 0 while one runs."""
        with self._lock:
            return 0.0 if self._in_flight else time.monotonic() - self._idle_since

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        recorder: TimingRecorder | None = getattr(_local, "recorder", None)
        if recorder is not None:
            recorder.begin()
        request.extensions["trace"] = self._tracer(recorder, request.extensions.get("trace"))
        with self._lock:
            self._in_flight += 1
        try:
            response = self._inner.handle_request(request)
        except BaseException:
            with self._lock:  # no answer: the connection isn't known to be warm
                self._in_flight -= 1
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ClosingStream(response.stream, self._ended),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()

    def _ended(self) -> None:
        with self._lock:
            self._in_flight -= 1
            self._idle_since = time.monotonic()

    def _tracer(
        self, recorder: TimingRecorder | None, chained: Callable[[str, dict[str, Any]], None] | None
    ) -> Callable[[str, dict[str, Any]], None]:
        def trace(name: str, info: dict[str, Any]) -> None:
            if name.endswith("connect_tcp.started"):
                with self._lock:
                    self.connections_opened += 1
            if recorder is not None:
                recorder.event(name, time.monotonic())
            if chained is not None:
                chained(name, info)

        return trace


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, ALL_PROXY, NO_PROXY), if any.

    httpx only reads these when it builds its own transport; ours is built here, so we read
    them, with the standard library's rules (https://docs.python.org/3/library/urllib.request.html#urllib.request.getproxies).
    """
    parts = urllib.parse.urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parts.scheme) or proxies.get("all") or None


def make_client(
    base_url: str, timeout: float, verify: ssl.SSLContext | bool = True, *, http2: bool = False
) -> tuple[httpx.Client, TracedTransport]:
    """The client an engine keeps, and its transport (for `in_flight` and `idle_for`).

    `verify` is httpx's: True checks certificates against certifi's store. Tests and benchmarks
    pass an `ssl.SSLContext` that trusts their own test CA; nothing turns checking off.
    `http2` (needs the `h2` package) is for `bench/wan.py`'s comparison only: the engines speak
    HTTP/1.1 (docs/benchmarks.md says why).
    """
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY)
    proxy = environment_proxy(base_url)
    inner = httpx.HTTPTransport(verify=verify, limits=limits, http2=http2, proxy=proxy)
    transport = TracedTransport(inner)
    client = httpx.Client(transport=transport, timeout=timeout, follow_redirects=True)
    return client, transport
