"""Speech out: the incremental MP3 decoder, the ring buffer, the QAudioSink player."""
