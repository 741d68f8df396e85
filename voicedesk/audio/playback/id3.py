"""Cut ID3v2 tags out of an MP3 byte stream that arrives in arbitrary pieces.

FFmpeg's MP3 parser only knows audio frames: an ID3v2 tag (which the demuxer would normally
strip) reaches the decoder as a bogus packet, and a tag's payload can hold byte patterns that
look like frame headers. Servers and concatenated clips may put a tag at the start of each
piece, so tags are looked for anywhere in the stream, not only at byte 0. A real tag header is
"ID3", a version byte of 2-4, a revision below 0xFF, a flags byte and four sync-safe size bytes
(each below 0x80); audio data matching all of that by chance is vanishingly unlikely.
"""

from __future__ import annotations

_MAGIC = b"ID3"
_HEADER = 10
_FOOTER_FLAG = 0x10


def _tag_length(header: bytes) -> int | None:
    """Total length of the tag that starts with these 10 bytes, or None if it isn't one."""
    version, revision, flags = header[3], header[4], header[5]
    size_bytes = header[6:10]
    if version not in (2, 3, 4) or revision == 0xFF or any(b & 0x80 for b in size_bytes):
        return None
    size = 0
    for b in size_bytes:
        size = (size << 7) | b
    footer = _HEADER if flags & _FOOTER_FLAG and version == 4 else 0
    return _HEADER + size + footer


class Id3Stripper:
    """`feed(bytes) -> bytes` with every ID3v2 tag removed; holds back at most 9 bytes."""

    def __init__(self) -> None:
        self._pending = b""  # the tail that may be the start of a tag header
        self._skip = 0  # bytes of the current tag still to drop
        self.tags_skipped = 0

    def feed(self, data: bytes) -> bytes:
        buf = self._pending + data if self._pending else data
        self._pending = b""
        out: list[bytes] = []
        i = 0
        end = len(buf)
        while i < end:
            if self._skip:
                dropped = min(self._skip, end - i)
                self._skip -= dropped
                i += dropped
                continue
            j = buf.find(_MAGIC, i)
            if j < 0:
                # Keep a trailing "I" or "ID": the rest of a tag's magic may come next.
                keep = 2 if buf.endswith(b"ID") else 1 if buf.endswith(b"I") else 0
                keep = min(keep, end - i)
                out.append(buf[i : end - keep])
                self._pending = buf[end - keep :]
                break
            if end - j < _HEADER:
                out.append(buf[i:j])
                self._pending = buf[j:]
                break
            length = _tag_length(buf[j : j + _HEADER])
            if length is None:
                out.append(buf[i : j + 1])
                i = j + 1
                continue
            out.append(buf[i:j])
            self._skip = length
            self.tags_skipped += 1
            i = j
        return b"".join(out)

    def flush(self) -> bytes:
        """What was held back, at the end of the stream (never a tag: there is no more)."""
        rest, self._pending = self._pending, b""
        return b"" if self._skip else rest
