"""Where the push-to-talk key comes from when the window is not focused.

Every source emits `down` and `up` (and `failed` with one line when it stops working); the
window's `PushToTalkKey` turns them into one press and one release per hold. Which source runs
is chosen in `choose.py`, with the reason shown in Settings.
"""

from voicedesk.hotkeys.source import HotkeySource

__all__ = ["HotkeySource"]
