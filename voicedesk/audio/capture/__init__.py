"""Speech in: the microphone through sounddevice (PortAudio), resampled and trimmed in memory."""
