"""This process talks to PulseAudio without shared memory (`enable-shm = no`). No Qt.

Why: a capture stream deadlocks when the sound server dies mid-take, about one time in seven
here. ALSA's pulse plugin (what PortAudio records through) keeps a partly read fragment
"peeked", i.e. its memory block acquired, between reads
(https://github.com/alsa-project/alsa-plugins/blob/master/pulse/pcm_pulse.c, `pulse_read`).
When the connection drops, libpulse's mainloop thread frees the shared-memory import and waits,
holding the mainloop lock, for every imported block to be released (`pa_memimport_free` →
`memblock_wait`, https://gitlab.freedesktop.org/pulseaudio/pulseaudio/-/blob/master/src/pulsecore/memblock.c);
the block is released by `pa_stream_drop`, which needs that lock. PortAudio's callback thread
then waits on the lock for good, and closing the stream (`Pa_CloseStream` joins that thread)
hangs: `listen` never exited, and the window would freeze on key up.

Without shared memory, audio comes over the socket into local blocks, nothing is imported,
and the loss is reported as an ordinary stream error. The cost is one copy of each block
(16 kHz mono in, 44.1 kHz mono out: nothing). Measured on the tests' server: 3 hangs in 20
kills with shared memory, 0 in 40 without.

libpulse reads its client settings from one file (`PULSE_CLIENTCONFIG`, else the user's, else
the system's, plus that file's `.d/` directory) each time a connection is made; there is no
environment variable for this one setting. So the settings libpulse would have read are copied
into an in-memory file (`memfd`, never on disk), `enable-shm = no` is added last (the last
value wins), and `PULSE_CLIENTCONFIG` points at it (`/proc/PID/fd/N`, readable again on every
connection). It must run before the first connection: before `sounddevice` is imported (its
import enumerates devices) and before Qt Multimedia starts.

The same file chooses the microphone's PulseAudio source (`use_source`): PortAudio, through
ALSA, records from the client's default source, and `default-source` sets it. Changing the
`PULSE_SOURCE` variable around each open did the same, but setting a variable while another
thread's C code reads the environment can crash the process (glibc's `setenv` may move the
array that `getenv` walks; libpulse, Qt and ALSA all call `getenv`). So the variable stays
as it was set at start-up, and the file behind it is swapped whole: a new memfd with the new
settings is duplicated onto the descriptor the variable names (`dup3`, atomic), so a reader
gets the old settings or the new ones, never half of either.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "PULSE_CLIENTCONFIG"
SETTING = "enable-shm = no"
SOURCE_ENV = "PULSE_SOURCE"  # libpulse's own variable: it wins over `default-source`
_SYSTEM_FILE = Path("/etc/pulse/client.conf")

_done = False
_fd: int | None = None  # the descriptor `ENV` names
_settings = ""  # what libpulse would read, and the user's PULSE_SOURCE as `default-source`
_source: str | None = None  # the source `use_source` chose (None: the settings' own)
_lock = threading.Lock()


def disable_shared_memory() -> None:
    """Point libpulse at the user's own client settings plus `enable-shm = no` (once)."""
    global _done, _fd, _settings
    if _done:
        return
    _done = True
    if not hasattr(os, "memfd_create"):  # not Linux: no PulseAudio client here anyway
        return
    settings = _settings_libpulse_would_read()
    if own := os.environ.get(SOURCE_ENV):
        # Kept as the default source, where `use_source` can change it without the variable
        # (which would win over any file). Children read these settings too.
        settings += f"\n# voicedesk: {SOURCE_ENV} at start-up\ndefault-source = {own}\n"
    try:
        fd = _memfd(settings, None)
    except OSError as error:
        log.debug("could not make the PulseAudio client settings: %s", error)
        return
    _fd, _settings = fd, settings
    if own:
        os.environ.pop(SOURCE_ENV)  # start-up: no other thread runs yet
    # By process id, not /proc/self: a child (pactl, another voicedesk) that inherits the
    # variable reads these same settings while we run, never a descriptor of its own.
    os.environ[ENV] = f"/proc/{os.getpid()}/fd/{fd}"


def use_source(name: str | None) -> bool:
    """Make `name` libpulse's default source for connections made from now on (None: the one
    the settings name, else the server's). False if it can't be chosen (no settings file of
    ours: not Linux, or no memfd; a name no settings line can hold; or the system refused
    a descriptor, and the settings stay as they were)."""
    global _source
    if _fd is None or (name is not None and not _fits_a_line(name)):
        return False
    with _lock:
        if name == _source:
            return True
        try:
            fresh = _memfd(_settings, name)
            try:
                os.dup2(fresh, _fd, inheritable=False)  # atomic: the old file or the new one
            finally:
                os.close(fresh)
        except OSError as error:  # out of descriptors or memory: record from the default
            log.warning("could not choose the PulseAudio source: %s", error)
            return False
        _source = name
    return True


def _memfd(settings: str, source: str | None) -> int:
    chosen = f"\n# voicedesk: the chosen microphone\ndefault-source = {source}\n" if source else ""
    text = f"{settings}{chosen}\n# voicedesk: no shared memory\n{SETTING}\n"
    fd = os.memfd_create("voicedesk-pulse-client.conf")  # close-on-exec: ours alone
    try:
        os.write(fd, text.encode())
    except OSError:
        os.close(fd)
        raise
    return fd


def _fits_a_line(name: str) -> bool:
    # libpulse reads `key = value` up to the end of the line, trimmed.
    return bool(name.strip()) and name == name.strip() and not any(c in name for c in "\r\n\0")


def _settings_libpulse_would_read() -> str:
    """The client settings libpulse would load: the first readable of `$PULSE_CLIENTCONFIG`,
    the user's file, the system's; then the `*.conf` files in that file's `.d` directory."""
    if chosen := os.environ.get(ENV):
        candidates = [Path(chosen)]
    else:
        config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        candidates = [
            Path(config_home) / "pulse" / "client.conf",
            Path.home() / ".pulse" / "client.conf",
            _SYSTEM_FILE,
        ]
    for path in candidates:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = path.read_text()
            parts = [text]
            directory = Path(f"{path}.d")
            with contextlib.suppress(OSError):
                for extra in sorted(directory.glob("*.conf")):
                    with contextlib.suppress(OSError, UnicodeDecodeError):
                        parts.append(extra.read_text())
            return "\n".join(parts)
    return ""
