"""Which system-wide key source to try on this desktop, in order."""

from __future__ import annotations

import os
from collections.abc import Callable

from voicedesk.hotkeys.source import HotkeySource

SourceFactory = Callable[[str], HotkeySource]
# VOICEDESK_HOTKEY_SOURCE picks one source (or "window" for none), for a desktop we guess wrong.
ENV_SOURCE = "VOICEDESK_HOTKEY_SOURCE"
SOURCES = ("portal", "pynput", "window")


def _pynput(key_name: str) -> HotkeySource:
    from voicedesk.hotkeys.pynput_source import PynputSource

    return PynputSource(key_name)


def _portal(key_name: str) -> HotkeySource:
    from voicedesk.hotkeys.portal import PortalSource

    return PortalSource(key_name)


_FACTORIES: dict[str, SourceFactory] = {"pynput": _pynput, "portal": _portal}


def is_wayland_session(platform: str) -> bool:
    return (
        platform == "wayland"
        or os.environ.get("XDG_SESSION_TYPE") == "wayland"
        or bool(os.environ.get("WAYLAND_DISPLAY"))
    )


def candidates(platform: str) -> tuple[list[SourceFactory], str]:
    """The sources to try, best first, and why there are none when the list is empty."""
    forced = os.environ.get(ENV_SOURCE, "").strip().lower()
    if forced == "window":
        return [], f"{ENV_SOURCE}=window"
    if forced in _FACTORIES:
        return [_FACTORIES[forced]], ""
    if platform in ("windows", "cocoa"):
        return [_pynput], ""
    if platform == "xcb" and not is_wayland_session(platform):
        # X11: pynput sees every key without asking; the portal (GNOME on X11) comes second.
        return [_pynput, _portal], ""
    # Wayland (also XWayland, where pynput would only see X clients' keys).
    return [_portal], ""


def window_only_note(key_name: str, reason: str) -> str:
    return (
        f"Only while the window has focus: {reason}. For {key_name} in every application, "
        "bind `voicedesk ptt press` (key down) and `voicedesk ptt release` (key up), or "
        "`voicedesk ptt toggle`, to a key in your desktop's or compositor's settings."
    )
