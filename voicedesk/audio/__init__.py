"""Sound in and out. The two halves share no code: `playback` (streamed speech decoded in memory
to a QAudioSink) and `capture` (the microphone through sounddevice/PortAudio, trimmed in memory).
`pulse_client` is neither: how this process connects to PulseAudio at all (set once, first
thing, by `early_init`)."""
