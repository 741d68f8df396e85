"""voicedesk: a desktop voice assistant. Type to speak, hold to talk."""

__version__ = "0.1.0"
