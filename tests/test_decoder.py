"""StreamDecoder and PcmPassthrough: any chunking, tags, junk and corruption, in memory."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from tests.emulator.audio import encode_mp3, tone
from voicedesk.audio.playback.decoder import PcmPassthrough, StreamDecoder, make_decoder
from voicedesk.audio.playback.id3 import Id3Stripper
from voicedesk.audio.playback.pcm import PcmFormat
from voicedesk.engines.base import SpeechFormat

pytestmark = pytest.mark.timeout(60)

RATE = 44_100
MONO = PcmFormat(RATE, 1)


def mp3(seconds: float = 1.0, freq: float = 440.0, rate: int = RATE, id3: bool = True) -> bytes:
    return encode_mp3(tone(seconds, freq, rate), rate, 128, id3=id3)


def mp3_with_info_frame(seconds: float, rate: int = RATE) -> bytes:
    """What an MP3 file (not a stream) looks like: ID3, then a Xing/Info frame with LAME delay."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(tone(seconds, 440, rate)[None, :], "fltp", "mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue()


def decode(data: bytes, step: int, output: PcmFormat = MONO) -> tuple[np.ndarray, StreamDecoder]:
    decoder = StreamDecoder(output)
    pieces = [decoder.feed(data[i : i + step]) for i in range(0, len(data), step)]
    pieces.append(decoder.flush())
    pcm = b"".join(pieces)
    assert len(pcm) % output.bytes_per_frame == 0
    return np.frombuffer(pcm, "<i2").astype(np.float32) / 32768, decoder


def loud(samples: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(np.abs(samples) > 0.02)
    return samples[idx[0] : idx[-1] + 1]


def frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize("step", [1, 7, 417, 4096, 1 << 20])
def test_any_chunking_gives_the_same_pcm(step: int) -> None:
    data = mp3(0.5)
    reference, _ = decode(data, 1 << 20)
    samples, decoder = decode(data, step)
    assert np.array_equal(samples, reference)
    assert decoder.tags_skipped == 1 and decoder.bad_frames == 0
    assert abs(len(loud(samples)) / RATE - 0.5) < 0.01


def test_pcm_comes_out_while_the_stream_is_still_arriving() -> None:
    data = mp3(1.0)
    decoder = StreamDecoder(MONO)
    first_pcm_after = next(i for i in range(0, len(data), 64) if decoder.feed(data[i : i + 64]))
    assert first_pcm_after < 2000  # within the first few frames, not at the end


def test_id3_tags_are_skipped_anywhere_even_split_byte_by_byte() -> None:
    clip = mp3(0.3)
    assert clip.startswith(b"ID3")
    single, _ = decode(clip, 1 << 20)
    samples, decoder = decode(clip + clip + clip, 1)
    assert decoder.tags_skipped == 3 and decoder.bad_frames == 0
    assert len(samples) == 3 * len(single)


def test_id3_stripper_keeps_audio_that_only_looks_like_a_tag() -> None:
    stripper = Id3Stripper()
    not_a_tag = b"xxID3\xff\x00\x00\x00\x00\x00yy"  # revision 0xFF: not a tag header
    out = b"".join(stripper.feed(not_a_tag[i : i + 1]) for i in range(len(not_a_tag)))
    assert out + stripper.flush() == not_a_tag


def test_junk_before_and_between_frames_is_skipped() -> None:
    junk = bytes(np.random.default_rng(7).integers(0, 256, 3000, dtype=np.uint8))
    clip = mp3(1.0, id3=False)
    samples, _ = decode(junk + clip[:5000] + junk + clip[5000:], 333)
    heard = loud(samples)
    assert 0.9 < len(heard) / RATE < 1.15
    assert abs(frequency(heard, RATE) - 440) < 5


def test_corrupt_bytes_resynchronise_instead_of_raising() -> None:
    clip = bytearray(mp3(1.0, id3=False))
    rng = np.random.default_rng(3)
    for start in (3000, 9000):
        clip[start : start + 600] = rng.integers(0, 256, 600, dtype=np.uint8).tobytes()
    samples, _ = decode(bytes(clip), 100)
    # The damaged frames are lost (or garbled), everything after each one plays again.
    assert len(samples) / RATE > 0.85
    tail = samples[-RATE // 2 : -RATE // 10]
    assert abs(frequency(tail, RATE) - 440) < 5


def test_flush_completes_a_stream_cut_mid_frame() -> None:
    data = mp3(0.5, id3=False)
    decoder = StreamDecoder(MONO)
    body = decoder.feed(data[:-200])  # the last frame arrives only in part
    rest = decoder.flush()
    assert decoder.flush() == b""
    assert 0.4 < (len(body) + len(rest)) / 2 / RATE < 0.56


def test_resamples_to_the_device_format_and_keeps_the_pitch() -> None:
    out = PcmFormat(48_000, 2)
    samples, decoder = decode(mp3(1.0, freq=1000, rate=22_050), 512, out)
    assert decoder.input_format == PcmFormat(22_050, 1)
    left = samples[0::2]
    assert np.array_equal(left, samples[1::2])  # mono copied to both channels
    heard = loud(left)
    assert abs(len(heard) / 48_000 - 1.0) < 0.01
    assert abs(frequency(heard, 48_000) - 1000) < 5


def test_info_frame_is_dropped_and_encoder_delay_honoured() -> None:
    samples, _ = decode(mp3_with_info_frame(0.5), 100)
    first_loud = int(np.flatnonzero(np.abs(samples) > 0.02)[0])
    # The tone fades in over 5 ms; without the gapless skip it would start ~50 ms late.
    assert first_loud < 0.006 * RATE


def test_plain_pcm_bypasses_the_mp3_decoder() -> None:
    decoder = make_decoder(SpeechFormat("pcm_s16le", 22_050), PcmFormat(22_050))
    assert isinstance(decoder, PcmPassthrough)
    pcm = (tone(0.2, 440, 22_050) * 32767).astype("<i2").tobytes()
    out = b"".join(decoder.feed(pcm[i : i + 3]) for i in range(0, len(pcm), 3))
    assert out + decoder.flush() == pcm


def test_plain_pcm_is_resampled_when_the_device_needs_it() -> None:
    decoder = make_decoder(SpeechFormat("pcm_s16le", 22_050), PcmFormat(44_100))
    pcm = (tone(1.0, 1000, 22_050) * 32767).astype("<i2").tobytes()
    out = decoder.feed(pcm) + decoder.flush()
    samples = np.frombuffer(out, "<i2").astype(np.float32) / 32768
    assert abs(len(samples) / 44_100 - 1.0) < 0.01
    assert abs(frequency(samples, 44_100) - 1000) < 5
