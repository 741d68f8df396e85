"""Speech engines behind one protocol: ElevenLabs (network) and local (offline).

The engine names live here, once: `cli` (which must stay light), `config` and the settings
dialog take them from this module, which imports nothing.
"""

from typing import Literal, get_args

#: "auto": ElevenLabs when an API key is configured, else the offline engine.
EngineChoice = Literal["auto", "elevenlabs", "local"]
ENGINE_CHOICES: tuple[EngineChoice, ...] = get_args(EngineChoice)
