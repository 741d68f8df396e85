"""Speech engines behind one protocol: ElevenLabs (network) and local (offline)."""
