"""An ElevenLabs HTTP API emulator for tests: real sockets, real MP3, scripted faults.

with Emulator() as emu:
    emu.script("tts", [Fault.too_many_concurrent(), None])
    client = ElevenLabs(api_key=TEST_API_KEY, base_url=emu.base_url)
"""

from .audio import AudioSpec, speech_mp3
from .catalog import DEFAULT_MODEL_ID, DEFAULT_VOICE_ID, DEFAULT_VOICES, VoiceInfo
from .config import DEFAULT_TRANSCRIPT, TEST_API_KEY, Settings, Transcriber
from .faults import Fault
from .records import RequestRecord
from .server import Emulator

__all__ = [
    "DEFAULT_MODEL_ID",
    "DEFAULT_TRANSCRIPT",
    "DEFAULT_VOICES",
    "DEFAULT_VOICE_ID",
    "TEST_API_KEY",
    "AudioSpec",
    "Emulator",
    "Fault",
    "RequestRecord",
    "Settings",
    "Transcriber",
    "VoiceInfo",
    "speech_mp3",
]
