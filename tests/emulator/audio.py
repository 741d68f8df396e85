"""Deterministic speech audio for the emulator: tones or espeak-ng, MP3-encoded in memory."""

from __future__ import annotations

import io
import re
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import av
import numpy as np

MP3_FORMAT = re.compile(r"^mp3_(?P<rate>\d+)_(?P<kbps>\d+)$")
# The MP3 formats the real API offers (see TextToSpeechStreamRequestOutputFormat in the SDK).
MP3_FORMATS = frozenset(
    {
        "mp3_22050_32",
        "mp3_24000_48",
        "mp3_44100_32",
        "mp3_44100_64",
        "mp3_44100_96",
        "mp3_44100_128",
        "mp3_44100_192",
    }
)
FADE_SECONDS = 0.005  # short ramps so the tone has no clicks at its edges


@dataclass(frozen=True, slots=True)
class AudioSpec:
    """What the emulator "says" for a text.

    `tone`: a sine at `frequency` (or the voice's own frequency) lasting
    `seconds_per_char * len(text)`, clamped to [min_seconds, max_seconds].
    `espeak`: the text spoken by espeak-ng (piped, never a file), for STT round trips.
    """

    source: Literal["tone", "espeak"] = "tone"
    frequency: float = 440.0
    amplitude: float = 0.5
    seconds_per_char: float = 0.06
    min_seconds: float = 0.1
    max_seconds: float = 60.0
    espeak_voice: str = "en-us"
    espeak_wpm: int = 175
    id3: bool = True  # ffmpeg-made MP3 starts with an ID3v2 tag; decoders must skip it

    def tone_seconds(self, text: str) -> float:
        return min(self.max_seconds, max(self.min_seconds, len(text) * self.seconds_per_char))


def parse_mp3_format(output_format: str) -> tuple[int, int] | None:
    """`mp3_44100_128` -> (44100, 128); None for anything that is not a known MP3 format."""
    match = MP3_FORMAT.match(output_format)
    if output_format not in MP3_FORMATS or match is None:
        return None
    return int(match["rate"]), int(match["kbps"])


def tone(seconds: float, frequency: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """Mono float32 sine with short fades."""
    n = max(1, round(seconds * rate))
    samples = amplitude * np.sin(2 * np.pi * frequency * np.arange(n) / rate)
    fade = min(n // 2, round(FADE_SECONDS * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        samples[:fade] *= ramp
        samples[-fade:] *= ramp[::-1]
    return samples.astype(np.float32)


def espeak(text: str, rate: int, voice: str = "en-us", wpm: int = 175) -> np.ndarray:
    """The text spoken by espeak-ng, resampled to `rate`; text goes in on stdin, WAV comes back."""
    wav = subprocess.run(
        ["espeak-ng", "--stdout", "--stdin", "-v", voice, "-s", str(wpm)],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    # espeak-ng streams its WAV, so the RIFF and data sizes are placeholders: read the raw frames.
    src_rate = int.from_bytes(wav[24:28], "little")
    data = wav.index(b"data") + 8
    pcm = np.frombuffer(wav[data : data + (len(wav) - data) // 2 * 2], dtype="<i2")
    return resample(pcm.astype(np.float32) / 32768.0, src_rate, rate)


def resample(samples: np.ndarray, src_rate: int, rate: int) -> np.ndarray:
    if src_rate == rate or not len(samples):
        return samples
    frame = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
    frame.sample_rate = src_rate
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
    out = [f.to_ndarray()[0] for f in [*resampler.resample(frame), *resampler.resample(None)]]
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)


def encode_mp3(samples: np.ndarray, rate: int, kbps: int, id3: bool = True) -> bytes:
    """Mono float32 -> CBR MP3 bytes with libmp3lame, entirely in memory.

    No Xing/Info frame: a streaming server cannot seek back to write one.
    """
    out = io.BytesIO()
    options = {"write_xing": "0"} if id3 else {"write_xing": "0", "id3v2_version": "0"}
    with av.open(out, "w", format="mp3", options=options) as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.bit_rate = kbps * 1000
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue()


def render(text: str, spec: AudioSpec, rate: int, frequency: float | None = None) -> np.ndarray:
    """The PCM the emulator would speak for `text` (before MP3 encoding)."""
    if spec.source == "espeak":
        return espeak(text, rate, spec.espeak_voice, spec.espeak_wpm)
    return tone(spec.tone_seconds(text), frequency or spec.frequency, rate, spec.amplitude)


class Mp3Cache:
    """Encoded MP3 per (text, settings), in memory only, least recently used dropped first."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...], make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        data = make()  # outside the lock: encoding can take a while, duplicates are harmless
        with self._lock:
            self._items[key] = data
            while sum(map(len, self._items.values())) > self._max_bytes and len(self._items) > 1:
                self._items.popitem(last=False)
        return data


_CACHE = Mp3Cache()


def speech_mp3(
    text: str, spec: AudioSpec, output_format: str = "mp3_44100_128", frequency: float | None = None
) -> bytes:
    """MP3 bytes for `text`, as the emulator serves them (cached)."""
    parsed = parse_mp3_format(output_format)
    if parsed is None:
        raise ValueError(f"not an MP3 output format: {output_format!r}")
    rate, kbps = parsed
    key = (text, spec, rate, kbps, frequency)
    return _CACHE.get(
        key, lambda: encode_mp3(render(text, spec, rate, frequency), rate, kbps, spec.id3)
    )
