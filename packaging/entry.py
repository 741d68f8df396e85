"""PyInstaller's entry point: the same `main` as the `voicedesk` console script."""

import sys

from voicedesk.cli import main

sys.exit(main())
