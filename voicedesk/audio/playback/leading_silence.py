"""Drop inaudible samples at the very start of an utterance, so the sound starts sooner.

An MP3 stream without a LAME Info frame (a streaming server can't write one) starts with the
encoder's priming: ~25 ms of near-silence at 44.1 kHz that a player would otherwise wait
through. Only samples below -60 dBFS before the first audible one are dropped; nothing after
it is touched, so pauses inside speech are kept.
"""

from __future__ import annotations

import numpy as np

from voicedesk.audio.playback.pcm import PcmFormat

THRESHOLD = 33  # -60 dBFS in s16


class LeadingSilenceTrimmer:
    def __init__(self, fmt: PcmFormat) -> None:
        self._format = fmt
        self._done = False
        self.dropped = 0  # bytes

    def feed(self, pcm: bytes) -> bytes:
        if self._done or not pcm:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2")
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > THRESHOLD)
        if not loud.size:
            self.dropped += len(pcm)
            return b""
        self._done = True
        start = int(loud[0]) // self._format.channels * self._format.bytes_per_frame
        self.dropped += start
        return pcm[start:]
