"""Benchmarks: `python -m bench.run` writes docs/benchmarks.md."""

from voicedesk import early_init

early_init.apply()  # as the app does first (`python -m bench.X`; scripts run directly call it too)
