"""Keys into the focused X11 window through the XTEST extension (python-xlib, pynput's own dep).

Characters the keyboard map has are typed with their keycode (Shift for the second level).
Others (any Unicode, or a layout that lacks them) go through spare keycodes, those with no
keysym, remapped to the character's keysym for the duration, as xdotool does
(https://github.com/jordansissel/xdotool/blob/master/xdo.c, its keysym-to-keycode scratch).
The spare map is put back only after the target has had time to read it: a client looks the
keysym up when it handles the key, and a restore that lands first types the wrong character.

Modifiers: the user may still hold some (the push-to-talk key's own Ctrl, say); they are
released before typing, or "a" would arrive as Ctrl+A. Every key we press is released in a
`finally`, so nothing stays latched whatever fails.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

# Window classes (WM_CLASS, lowercased) of terminals: they paste with Ctrl+Shift+V, since
# Ctrl+V is a control character to the program running inside.
TERMINALS = frozenset({
    "alacritty", "foot", "gnome-terminal", "gnome-terminal-server", "guake", "kitty",
    "konsole", "lxterminal", "mate-terminal", "org.gnome.console", "kgx", "qterminal",
    "sakura", "st", "st-256color", "terminator", "terminology", "tilda", "tilix",
    "urxvt", "rxvt", "wezterm", "org.wezfurlong.wezterm", "xfce4-terminal", "xterm",
    "uxterm", "ptyxis", "org.gnome.ptyxis", "ghostty", "com.mitchellh.ghostty",
})  # fmt: skip


def keysym_for(char: str) -> int:
    """The X keysym of one character: Latin-1 keysyms are the code point, the rest
    0x01000000 + code point (X11 keysym encoding, Appendix A of the protocol)."""
    from Xlib import XK

    if char == "\n":
        return XK.string_to_keysym("Return")
    if char == "\t":
        return XK.string_to_keysym("Tab")
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return 0x01000000 + code


class X11Keyboard:
    """One connection to the X server, for one insertion."""

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import display

        self._display = display.Display(display_name)
        if not self._display.has_extension("XTEST"):
            self._display.close()
            raise RuntimeError("the X server has no XTEST extension")
        self._pressed: list[int] = []
        self._remapped: dict[int, list[int]] = {}  # keycode -> its original keysyms

    def close(self) -> None:
        try:
            self.release_all()
            self.restore_map()
        finally:
            self._display.close()

    # -- the focused window --------------------------------------------------------------

    def focused_class(self) -> str:
        """WM_CLASS (its class part, lowercased) of the focused top-level window, or ""."""
        window: Any = self._display.get_input_focus().focus
        root = self._display.screen().root
        for _ in range(32):  # the focus may be a child; WM_CLASS sits on the top level
            if not hasattr(window, "get_wm_class") or window == root:
                return ""
            names = window.get_wm_class()
            if names:
                return (names[1] or names[0]).lower()
            window = window.query_tree().parent
        return ""

    def is_terminal(self) -> bool:
        return self.focused_class() in TERMINALS

    # -- keys ----------------------------------------------------------------------------

    def _fake(self, kind: int, keycode: int) -> None:
        from Xlib.ext import xtest

        xtest.fake_input(self._display, kind, keycode)

    def press(self, keycode: int) -> None:
        from Xlib import X

        self._fake(X.KeyPress, keycode)
        self._pressed.append(keycode)

    def release(self, keycode: int) -> None:
        from Xlib import X

        self._fake(X.KeyRelease, keycode)
        if keycode in self._pressed:
            self._pressed.remove(keycode)

    def release_all(self) -> None:
        for keycode in reversed(self._pressed[:]):
            self.release(keycode)
        self._display.sync()

    def held_modifiers(self) -> list[int]:
        """Keycodes of modifier keys down right now (the user's, or anyone's)."""
        keymap = self._display.query_keymap()  # 32 bytes, one bit a keycode
        held = []
        for keycodes in self._display.get_modifier_mapping():
            for keycode in keycodes:
                if keycode and keymap[keycode // 8] & (1 << (keycode % 8)):
                    held.append(keycode)
        return held

    def clear_modifiers(self) -> None:
        """Release modifiers still held, so they don't change what we type. Not pressed
        again afterwards: if the user let go meanwhile, that would latch them."""
        from Xlib import X

        for keycode in self.held_modifiers():
            self._fake(X.KeyRelease, keycode)
        self._display.sync()

    def _keycode(self, name: str) -> int:
        from Xlib import XK

        return int(self._display.keysym_to_keycode(XK.string_to_keysym(name)))

    def chord(self, modifiers: Iterable[str], key: str) -> None:
        """E.g. chord(["Control_L", "Shift_L"], "v"): press in order, release in reverse."""
        codes = [self._keycode(name) for name in modifiers]
        target = self._keycode(key)
        if not target or not all(codes):
            raise RuntimeError(f"no key for {'+'.join([*modifiers, key])} in the keyboard map")
        try:
            self.clear_modifiers()
            for code in codes:
                self.press(code)
            self.press(target)
            self.release(target)
        finally:
            self.release_all()

    # -- typing --------------------------------------------------------------------------

    def _spare_keycodes(self) -> list[int]:
        first = self._display.display.info.min_keycode
        count = self._display.display.info.max_keycode - first + 1
        rows = self._display.get_keyboard_mapping(first, count)
        return [first + i for i, row in enumerate(rows) if not any(row)]

    def _found(self, keysym: int) -> tuple[int, bool] | None:
        """A keycode giving `keysym` at level 1 (no Shift) or 2 (Shift), or None."""
        best: tuple[int, bool] | None = None
        for keycode, index in self._display.keysym_to_keycodes(keysym):
            if index == 0:
                return keycode, False
            if index == 1 and best is None:
                best = (keycode, True)
        return best

    def type_text(self, text: str) -> str:
        """Type as much of `text` as the spare keycodes allow; returns what is left (the
        spare map must be put back, after a pause, before the rest: `restore_map`)."""
        shift = self._keycode("Shift_L")
        spares = [code for code in self._spare_keycodes() if code not in self._remapped]
        assigned: dict[int, int] = {}
        self.clear_modifiers()
        try:
            for done, char in enumerate(text):
                keysym = keysym_for(char)
                found = self._found(keysym)
                if found is None and keysym in assigned:
                    found = (assigned[keysym], False)
                if found is None:
                    if not spares:
                        return text[done:]
                    code = spares.pop()
                    self._remap(code, keysym)
                    assigned[keysym] = code
                    found = (code, False)
                keycode, with_shift = found
                if with_shift:
                    self.press(shift)
                self.press(keycode)
                self.release(keycode)
                if with_shift:
                    self.release(shift)
            return ""
        finally:
            self.release_all()

    def _remap(self, keycode: int, keysym: int) -> None:
        original = self._display.get_keyboard_mapping(keycode, 1)[0]
        self._remapped.setdefault(keycode, list(original))
        # Both levels the same, so Shift or Caps Lock held doesn't change the character.
        self._display.change_keyboard_mapping(keycode, [[keysym, keysym]])
        self._display.sync()

    def restore_map(self) -> None:
        for keycode, original in self._remapped.items():
            self._display.change_keyboard_mapping(keycode, [original or [0, 0]])
        self._remapped.clear()
        self._display.sync()
