"""Putting the transcript where the user was typing, in another application (opt-in).

`inserter.Inserter` picks the way for this desktop: paste through the clipboard (saved first and
put back after) or typing key by key (XTest on X11, `wtype` on wlroots compositors).
"""
