"""The Xing/Info frame an MP3 encoder may put first, and the LAME encoder delay it records.

That frame carries no audio: decoded, it is 1152 samples of silence. Its LAME extension says
how many priming samples the encoder added in front of the audio; a gapless decoder drops
those plus the MP3 decoder's own delay (529 samples), as FFmpeg's MP3 demuxer does when it
reads the same tag. Streaming the raw codec this way starts the sound ~50 ms sooner.
"""

from __future__ import annotations

import struct

# FFmpeg's mp3 demuxer skips `delay + 528 + 1` samples (libavformat/mp3dec.c).
DECODER_DELAY = 529
_MAGICS = (b"Xing", b"Info")
_LAME_DELAY_OFFSET = 21  # from the start of the LAME extension to the 12-bit delay field


def _side_info_length(header: bytes) -> int:
    mpeg1 = (header[1] >> 3) & 0x3 == 3
    mono = (header[3] >> 6) == 3
    if mpeg1:
        return 17 if mono else 32
    return 9 if mono else 17


def parse_info_frame(frame: bytes) -> int | None:
    """For a Xing/Info frame: the samples to skip after it (0 if unknown); None otherwise."""
    if len(frame) < 4 or frame[0] != 0xFF or frame[1] & 0xE0 != 0xE0:
        return None
    offset = 4 + _side_info_length(frame) + (0 if frame[1] & 1 else 2)  # 2-byte CRC if any
    if frame[offset : offset + 4] not in _MAGICS:
        return None
    (flags,) = struct.unpack_from(">I", frame, offset + 4)
    lame = offset + 8
    lame += 4 if flags & 1 else 0  # frame count
    lame += 4 if flags & 2 else 0  # byte count
    lame += 100 if flags & 4 else 0  # seek table
    lame += 4 if flags & 8 else 0  # quality
    field = frame[lame + _LAME_DELAY_OFFSET : lame + _LAME_DELAY_OFFSET + 2]
    if len(field) < 2:
        return 0
    delay = (field[0] << 4) | (field[1] >> 4)
    return delay + DECODER_DELAY
