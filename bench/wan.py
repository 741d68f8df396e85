"""WAN benchmark: key press → first audible sample over https on a slow link, cold and warm.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.wan [--runs 7]

Prints a Markdown section (`make bench` appends it to docs/benchmarks.md). Everything runs in
this process on `time.monotonic()`: the ElevenLabs emulator serving https with a certificate
from a CA made in memory (`tests/helpers/tls.py`, which the clients here are told to trust;
checking stays on), a delaying TCP proxy in front of it that holds each direction's bytes for
half the round trip (`tests/helpers/delay_proxy.py`; the TCP handshake's round trip is charged
to the client's first bytes), the private PulseAudio server, and the players.

Three ways, interleaved, at each round-trip time:
- cold: a fresh `ElevenLabsEngine` (client made at start-up, no connection yet), as on the
  first Speak of a window that never warmed up.
- warm: one engine whose connection `warm_up()` opened (as the window does when it shows and
  while it is in use).
- SDK: `elevenlabs.play.stream()` on the SDK's `text_to_speech.stream()` (pipes into mpv),
  one client for all runs, as a script would hold it (httpx's default pool keeps an idle
  connection 5 s; a run is longer than that, so most runs open a new one).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RTTS_MS = (40, 120)
TEXT = "Hello from far away."


@dataclass
class Way:
    name: str
    runs_ms: list[float] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)
    parts: list[dict[str, float]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)

    def part(self, name: str) -> str:
        values = [p[name] for p in self.parts if name in p]
        return f"{statistics.median(values):.0f}" if values else "–"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs per way and round trip")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from bench.sound import private_sound_server

    with private_sound_server() as pulse:
        return _run(pulse, args.runs)


def _run(pulse, runs: int) -> int:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QGuiApplication

    from bench.run import _settle

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    _settle(pulse)
    results = {rtt: _measure(pulse, rtt / 1000, runs) for rtt in RTTS_MS}
    print(_report(results, runs), flush=True)
    protocols = {rtt: _http2(rtt / 1000, runs) for rtt in RTTS_MS}
    print(_report_http2(protocols, runs))
    del app
    return 0


def _measure(pulse, rtt: float, runs: int) -> list[Way]:  # type: ignore[no-untyped-def]
    import httpx
    from elevenlabs.client import ElevenLabs
    from elevenlabs.play import stream as sdk_stream

    from bench.tts import CHUNK, PACING, TTFB, wait_until
    from tests.emulator.config import TEST_API_KEY
    from tests.emulator.server import Emulator
    from tests.helpers.delay_proxy import DelayProxy
    from tests.helpers.tls import throwaway_tls
    from voicedesk.engines.elevenlabs import ElevenLabsEngine
    from voicedesk.workers.latency import LatencyMarks
    from voicedesk.workers.speaker import Speaker

    tls = throwaway_tls()
    cold, warm, sdk = Way("cold (new connection)"), Way("warm (connection kept)"), Way("SDK")
    with (
        Emulator(tls=tls.server, ttfb=TTFB, pacing=PACING, chunk_size=CHUNK) as emu,
        DelayProxy(emu.port, rtt) as proxy,
    ):
        url = proxy.url()
        warm_engine = ElevenLabsEngine(TEST_API_KEY, base_url=url, verify=tls.client)
        speaker = Speaker(warm_engine)
        sdk_http = httpx.Client(verify=tls.client)
        client = ElevenLabs(api_key=TEST_API_KEY, base_url=url, httpx_client=sdk_http)

        def speak(engine: ElevenLabsEngine) -> Callable[[], dict[str, float]]:
            def play() -> dict[str, float]:
                marks: list[LatencyMarks] = []
                done: list[int] = []

                def latency(uid: int, m: LatencyMarks) -> None:
                    marks.append(m)

                speaker.set_engine(engine)
                speaker.latency.connect(latency)
                speaker.utterance_finished.connect(done.append)
                speaker.speak(TEXT)
                wait_until(lambda: bool(done) and bool(marks))
                speaker.latency.disconnect(latency)
                speaker.utterance_finished.disconnect(done.append)
                m = marks[0]
                assert m.request_sent is not None and m.first_sample is not None
                return {**m.parts_ms(), "request_sent": m.request_sent, "sample": m.first_sample}

            return play

        cold_engines: list[ElevenLabsEngine] = []

        def cold_prepare() -> None:  # the app has started: a client, no connection yet
            cold_engines.append(ElevenLabsEngine(TEST_API_KEY, base_url=url, verify=tls.client))

        def cold_run() -> dict[str, float]:
            engine = cold_engines.pop()
            try:
                return speak(engine)()
            finally:
                engine.close()

        def warm_prepare() -> None:  # what the window did when it showed / became active
            assert warm_engine.warm_up()

        def warm_run() -> dict[str, float]:
            return speak(warm_engine)()

        def sdk_run() -> dict[str, float]:
            audio = client.text_to_speech.stream(
                warm_engine.default_voice_id, text=TEXT, output_format="mp3_44100_128"
            )
            sdk_stream(audio)  # pipes into mpv, returns once mpv has exited
            return {}

        ways = [
            (cold, cold_prepare, cold_run),
            (warm, warm_prepare, warm_run),
            (sdk, None, sdk_run),
        ]
        for _, prepare, play in ways:  # warm-up of the process: imports, mpv's start, the sink
            _press_to_sound(pulse, proxy, prepare, play)
        for _ in range(runs):  # interleaved, so drift on the machine hits every way alike
            for way, prepare, play in ways:
                ms, opened, parts = _press_to_sound(pulse, proxy, prepare, play)
                way.runs_ms.append(ms)
                way.connections.append(opened)
                way.parts.append(parts)
        speaker.shutdown()
        warm_engine.close()
        sdk_http.close()
    return [cold, warm, sdk]


def _press_to_sound(
    pulse,  # type: ignore[no-untyped-def]
    proxy,
    prepare: Callable[[], None] | None,
    play: Callable[[], dict[str, float]],
) -> tuple[float, int, dict[str, float]]:
    """Key press (the call) → first non-silent sample at the sink's monitor; new connections.

    `prepare` runs before the press (what the app did before the user pressed the key)."""
    before = proxy.connections
    if prepare is not None:
        prepare()
    with pulse.record_output() as capture:
        pressed = time.monotonic()
        parts = play()
        if capture.first_sound_time() is None:
            capture.wait_for_sound(5)
        heard = capture.first_sound_time()
    assert heard is not None, "nothing was heard"
    if "request_sent" in parts:  # the two ends the engine's marks don't cover
        parts["press_to_request_ms"] = (parts.pop("request_sent") - pressed) * 1000
        parts["sample_to_heard_ms"] = (heard - parts.pop("sample")) * 1000
    return (heard - pressed) * 1000, proxy.connections - before, parts


def _http2(rtt: float, runs: int) -> dict[str, dict[str, float]]:
    """Request → first audio byte over HTTP/1.1 and HTTP/2: cold, warm, and a second request
    while a first one streams (HTTP/1.1 must open another connection for it, HTTP/2 not)."""
    from elevenlabs.client import ElevenLabs

    from bench.h2_front import H2Front
    from bench.tts import CHUNK, PACING, TTFB
    from tests.emulator.config import TEST_API_KEY
    from tests.emulator.server import Emulator
    from tests.helpers.delay_proxy import DelayProxy
    from tests.helpers.tls import throwaway_tls
    from voicedesk.engines.http_client import make_client

    tls = throwaway_tls()
    found: dict[str, dict[str, list[float]]] = {"HTTP/1.1": {}, "HTTP/2": {}}
    with (
        Emulator(tls=tls.server, ttfb=TTFB, pacing=PACING, chunk_size=CHUNK) as emu,
        Emulator(ttfb=TTFB, pacing=PACING, chunk_size=CHUNK) as plain,
        H2Front(plain.base_url, tls.server_context(alpn=["h2"])) as front,
        DelayProxy(emu.port, rtt) as h1_link,
        DelayProxy(front.port, rtt) as h2_link,
    ):
        links = {"HTTP/1.1": (h1_link, False), "HTTP/2": (h2_link, True)}

        def first_byte_ms(sdk: ElevenLabs, text: str = TEXT) -> tuple[float, object]:
            started = time.monotonic()
            chunks = iter(
                sdk.text_to_speech.stream(
                    "JBFqnCBsd6RMkjVDRZzb", text=text, output_format="mp3_44100_128"
                )
            )
            next(chunks)
            return (time.monotonic() - started) * 1000, chunks

        for _ in range(runs + 1):  # the first round warms the process up and is dropped
            for name, (link, http2) in links.items():
                http, _ = make_client(link.url(), 30, tls.client, http2=http2)
                sdk = ElevenLabs(api_key=TEST_API_KEY, base_url=link.url(), httpx_client=http)
                cold, chunks = first_byte_ms(sdk)
                b"".join(chunks)  # type: ignore[call-overload]
                warm, chunks = first_byte_ms(sdk)
                b"".join(chunks)  # type: ignore[call-overload]
                _, streaming = first_byte_ms(sdk, "A first utterance still streaming. " * 3)
                second, chunks = first_byte_ms(sdk)
                b"".join(chunks)  # type: ignore[call-overload]
                b"".join(streaming)  # type: ignore[call-overload]
                http.close()
                for case, ms in (("cold", cold), ("warm", warm), ("second", second)):
                    found[name].setdefault(case, []).append(ms)
        assert front.connections and not emu.internal_errors and not plain.internal_errors
    # Drop the warm-up round.
    return {
        name: {case: statistics.median(ms[1:]) for case, ms in cases.items()}
        for name, cases in found.items()
    }


def _report_http2(protocols: dict[int, dict[str, dict[str, float]]], runs: int) -> str:
    lines = [
        "",
        "HTTP/2 against HTTP/1.1: request → first audio byte through the SDK on the engine's",
        "own client (`make_client(http2=...)`), medians of "
        f"{runs}. HTTP/1.1 is the emulator's own TLS; HTTP/2 is a",
        "TLS front speaking h2 (`bench/h2_front.py`, the `h2` package) that forwards each",
        "stream to the emulator on loopback (one more local hop than the HTTP/1.1 path).",
        '"Second" is a request made while a first one is still streaming.',
        "",
        "| round trip | protocol | cold | warm | second while one streams |",
        "|---|---|---|---|---|",
    ]
    for rtt, by_protocol in protocols.items():
        for name, cases in by_protocol.items():
            lines.append(
                f"| {rtt} ms | {name} | {cases['cold']:.0f} ms | {cases['warm']:.0f} ms | "
                f"{cases['second']:.0f} ms |"
            )
    return "\n".join(lines) + "\n" + HTTP2_VERDICT


HTTP2_VERDICT = """
HTTP/2 is not kept. On the key-press path, one request at a time, it has nothing to save:
ALPN picks it inside the same TLS handshake, and the request leaves right behind the
connection preface, so cold and warm cost what HTTP/1.1 costs. It only spares a *second*
request made while one is streaming the handshake HTTP/1.1 needs for a second connection.
In the app that is push to talk during speech, and the window stops speech on push to talk
first; Stop shuts the response's socket down to free its API slot at once, which under
HTTP/2 would end every stream sharing the connection. Instead, Stop warms a new connection
in the background, so the transcription after the key release finds one open.
"""


def _report(results: dict[int, list[Way]], runs: int) -> str:
    from bench.tts import TTFB, machine

    info = machine()
    lines = [
        "",
        "## Over a slow link: cold and warm connections (https)",
        "",
        "`QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.wan`",
        "",
        f"Machine: {info['nproc']} cores, load average {os.getloadavg()[0]:.1f} at the end.",
        "From the key press (the call to `Speaker.speak`, or to the SDK) to the first",
        "non-silent sample at the null sink's monitor. The emulator serves https (TLS 1.3, a",
        "certificate from a CA made in memory for the run, which the clients are told to trust)",
        f"with {TTFB * 1000:.0f} ms to first byte; a TCP proxy on loopback holds each",
        "direction's bytes for half the round trip, so every handshake flight pays it (the TCP",
        "handshake's round trip is charged to the client's first bytes). "
        f"Median of {runs} runs, the three ways interleaved after one run each to warm up.",
        "Parts, medians in ms: press → the worker sends the request; then voicedesk's own",
        "marks as `say --stats` and the status tooltip show them (connect, request → first",
        "byte, first byte → first sample handed to the sink); then that sample → heard at",
        "the monitor (the sink's own buffering).",
        "",
        "| round trip | way | key press → audible | range | press → request | connect "
        "| request → first byte | first byte → sample | sample → heard | new connections |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rtt, ways in results.items():
        for way in ways:
            lines.append(
                f"| {rtt} ms | {way.name} | **{way.median:.0f} ms** | "
                f"{min(way.runs_ms):.0f}–{max(way.runs_ms):.0f} ms | "
                f"{way.part('press_to_request_ms')} | {way.part('connect_ms')} | "
                f"{way.part('request_to_first_byte_ms')} | "
                f"{way.part('first_byte_to_first_sample_ms')} | "
                f"{way.part('sample_to_heard_ms')} | "
                f"{statistics.mean(way.connections):.1f} |"
            )
    lines.append("")
    for rtt, (cold, warm, _) in results.items():
        saved = cold.median - warm.median
        verdict = "at least" if saved >= 2 * rtt else "less than"
        lines.append(
            f"- {rtt} ms: warm saves **{saved:.0f} ms** against cold, {verdict} the "
            f"handshake's two round trips ({2 * rtt} ms: TCP, then TLS 1.3)."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
