"""Incremental, in-memory decoding of streamed speech into the PCM the output device takes.

`StreamDecoder` turns MP3 arriving in pieces of any size (down to single bytes, split
mid-frame or mid-tag) into s16 PCM at once: FFmpeg's MP3 parser (through PyAV) finds frame
boundaries, the decoder decodes each frame as soon as it is complete, and PyAV's resampler
converts to the device's rate and channel count. Nothing touches the disk.

Bad data never raises: ID3v2 tags are cut out (see `id3`), the parser skips junk until the
next frame header, and a frame the decoder rejects is counted and dropped. A Xing/Info frame
is dropped and its LAME encoder delay honoured (see `lame`), wherever a new clip begins.

`PcmPassthrough` does the same job for engines that already produce s16le PCM (the offline
voice): it only re-frames odd-sized pieces and resamples when the device needs another rate.
"""

from __future__ import annotations

import logging

import av
import av.error
import numpy as np

from voicedesk.audio.playback.id3 import Id3Stripper
from voicedesk.audio.playback.lame import parse_info_frame
from voicedesk.audio.playback.pcm import PcmFormat
from voicedesk.engines.base import SpeechFormat

log = logging.getLogger(__name__)


class _Resampler:
    """PyAV's resampler, rebuilt when the input changes shape (pieces of different rates)."""

    def __init__(self, output: PcmFormat) -> None:
        self.output = output
        self._resampler: av.AudioResampler | None = None
        self._input: tuple[str, str, int] | None = None

    def convert(self, frame: av.AudioFrame) -> list[bytes]:
        shape = (frame.format.name, frame.layout.name, frame.sample_rate)
        out: list[bytes] = []
        if shape != self._input:
            out.extend(self.flush())
            self._input = shape
            self._resampler = av.AudioResampler(
                format="s16", layout=self.output.layout, rate=self.output.sample_rate
            )
        assert self._resampler is not None
        frame.pts = None  # timestamps mean nothing here, and stale ones make swr warn
        out.extend(_packed(f) for f in self._resampler.resample(frame))
        return out

    def flush(self) -> list[bytes]:
        if self._resampler is None:
            return []
        resampler, self._resampler, self._input = self._resampler, None, None
        return [_packed(f) for f in resampler.resample(None)]


def _packed(frame: av.AudioFrame) -> bytes:
    # s16 is interleaved: one plane, possibly padded past the last sample.
    used = frame.samples * len(frame.layout.channels) * 2
    return bytes(frame.planes[0])[:used]


class StreamDecoder:
    """MP3 in, s16le PCM in `output` format out, for one continuous stream."""

    def __init__(self, output: PcmFormat) -> None:
        self.output = output
        self._id3 = Id3Stripper()
        self._codec = av.CodecContext.create("mp3", "r")
        self._resampler = _Resampler(output)
        self.bad_frames = 0
        self._skip_samples = 0  # encoder priming still to drop, in decoded samples
        #: (rate, channels) of the MP3 as decoded, once the first frame is known.
        self.input_format: PcmFormat | None = None

    @property
    def tags_skipped(self) -> int:
        return self._id3.tags_skipped

    def feed(self, data: bytes) -> bytes:
        """Decode what `data` completes; returns the PCM ready so far (maybe empty)."""
        clean = self._id3.feed(data)
        return self._decode_bytes(clean) if clean else b""

    def flush(self) -> bytes:
        """At the end of the stream: decode the last frame and drain the resampler."""
        out = [self._decode_bytes(self._id3.flush())]
        out.append(self._decode_packets(self._parse(None)))
        out.append(self._decode_packets([None]))
        out.extend(self._resampler.flush())
        return b"".join(out)

    def _decode_bytes(self, data: bytes) -> bytes:
        return self._decode_packets(self._parse(data)) if data else b""

    def _parse(self, data: bytes | None) -> list[av.Packet]:
        try:
            return self._codec.parse(data)
        except av.error.FFmpegError as error:
            self._bad(error)
            return []

    def _decode_packets(self, packets: list[av.Packet] | list[None]) -> bytes:
        out: list[bytes] = []
        for packet in packets:
            if packet is not None and self._is_info_frame(packet):
                continue
            try:
                frames = self._codec.decode(packet)
            except av.error.EOFError:
                continue
            except av.error.FFmpegError as error:
                self._bad(error)
                continue
            for frame in frames:
                if self.input_format is None:
                    self.input_format = PcmFormat(frame.sample_rate, len(frame.layout.channels))
                if self._skip_samples:
                    trimmed = self._skip_priming(frame)
                    if trimmed is None:
                        continue
                    frame = trimmed
                out.extend(self._resampler.convert(frame))
        return b"".join(out)

    def _is_info_frame(self, packet: av.Packet) -> bool:
        head = bytes(packet)[:200]
        # Cheap test first: only a frame naming Xing/Info anywhere near its start can be one.
        if b"Xing" not in head and b"Info" not in head:
            return False
        skip = parse_info_frame(bytes(packet))
        if skip is None:
            return False
        self._skip_samples = skip
        return True

    def _skip_priming(self, frame: av.AudioFrame) -> av.AudioFrame | None:
        """`frame` less the priming samples still to drop (None if nothing is left)."""
        drop = min(self._skip_samples, frame.samples)
        self._skip_samples -= drop
        if drop == frame.samples:
            return None
        rest = frame.to_ndarray()[:, drop:]
        trimmed = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(rest, dtype=rest.dtype),  # type: ignore[arg-type]
            format=frame.format.name,
            layout=frame.layout.name,
        )
        trimmed.sample_rate = frame.sample_rate
        return trimmed

    def _bad(self, error: Exception) -> None:
        # Corrupt bytes in a stream are expected now and then: skip to the next good frame.
        self.bad_frames += 1
        log.debug("dropped undecodable MP3 data: %s", error)


class PcmPassthrough:
    """s16le PCM in `source` format in, PCM in `output` format out, in whole frames."""

    def __init__(self, source: PcmFormat, output: PcmFormat) -> None:
        self.source = source
        self.output = output
        self.input_format = source
        self._partial = b""
        self._resampler = None if source == output else _Resampler(output)

    def feed(self, data: bytes) -> bytes:
        data = self._partial + data if self._partial else data
        whole = len(data) - len(data) % self.source.bytes_per_frame
        self._partial = data[whole:]
        return self._convert(data[:whole])

    def flush(self) -> bytes:
        self._partial = b""  # half a sample at the very end can't be played
        return b"".join(self._resampler.flush()) if self._resampler else b""

    def _convert(self, pcm: bytes) -> bytes:
        if not pcm or self._resampler is None:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout=self.source.layout)
        frame.sample_rate = self.source.sample_rate
        return b"".join(self._resampler.convert(frame))


Decoder = StreamDecoder | PcmPassthrough


def make_decoder(speech_format: SpeechFormat, output: PcmFormat) -> Decoder:
    """The decoder for what an engine yields: MP3 goes through PyAV, plain PCM bypasses it."""
    if speech_format.codec == "pcm_s16le":
        source = PcmFormat(speech_format.sample_rate, speech_format.channels)
        return PcmPassthrough(source, output)
    return StreamDecoder(output)
