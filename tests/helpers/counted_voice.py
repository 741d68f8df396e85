"""The offline voice's synthesis call, counted: which runs a test made Piper synthesise."""

from __future__ import annotations

import threading

import pytest

from voicedesk.engines.local import LocalEngine


class CountedVoice:
    """Counts (and can hold) the voice's `phoneme_ids_to_audio` calls, by their phoneme ids."""

    def __init__(self, engine: LocalEngine, monkeypatch: pytest.MonkeyPatch) -> None:
        voice = engine._tts()
        self.calls: list[tuple[int, ...]] = []
        self.entered = threading.Event()  # a held call has started
        self.release = threading.Event()
        self.release.set()  # not holding unless asked
        real = voice.phoneme_ids_to_audio

        def counted(ids, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.calls.append(tuple(ids))
            self.entered.set()
            assert self.release.wait(30), "the test never let the held synthesis go"
            return real(ids, *args, **kwargs)

        monkeypatch.setattr(voice, "phoneme_ids_to_audio", counted)

    def hold(self) -> None:
        self.entered.clear()
        self.release.clear()
