"""Input devices: listing them (following hot-plugging), choosing one by name, PortAudio errors.

`sounddevice` is passed in wherever it is used (`backend=`), so tests can substitute a fake
module for the edge cases a real sound server can't produce on demand (a busy device, a
refused permission).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from voicedesk.audio import pulse_client
from voicedesk.audio.capture.quiet_stderr import quiet_native_stderr
from voicedesk.errors import InputDeviceError, NoInputDeviceError, VoiceDeskError

log = logging.getLogger(__name__)

#: The `sounddevice` module or a stand-in with the same names (`query_devices`, `default`,
#: `RawInputStream`, `PortAudioError`, `_terminate`, `_initialize`).
SoundDevice = Any

# PortAudio enumerates devices once, in Pa_Initialize; re-enumerating means terminating it,
# which would pull the rug from under any open stream. Streams register here while open.
_open_streams = 0
_open_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class InputDevice:
    index: int
    name: str
    default_samplerate: float
    is_default: bool


def backend() -> SoundDevice:
    """The real `sounddevice`; a clear error where PortAudio itself is missing."""
    pulse_client.disable_shared_memory()  # before the first connection: see that module
    try:
        with quiet_native_stderr():  # importing it runs Pa_Initialize, which probes devices
            import sounddevice
    except OSError as error:  # the PortAudio shared library could not be loaded
        raise NoInputDeviceError("No sound system was found (PortAudio is missing).") from error
    return sounddevice


def stream_opened() -> None:
    global _open_streams
    with _open_lock:
        _open_streams += 1


def stream_closed() -> None:
    global _open_streams
    with _open_lock:
        _open_streams = max(0, _open_streams - 1)


def list_input_devices(refresh: bool = True, sd: SoundDevice | None = None) -> list[InputDevice]:
    """Every device that can record; with `refresh`, re-enumerated to follow hot-plugging.

    The refresh is skipped (the list PortAudio already has is returned) while any stream of
    ours is open: re-initializing PortAudio would kill it mid-recording.
    """
    sd = sd or backend()
    if refresh:
        with _open_lock:
            if _open_streams == 0:
                with quiet_native_stderr():
                    sd._terminate()
                    sd._initialize()
            else:
                log.debug("not re-enumerating devices: a stream is open")
    try:
        devices = sd.query_devices()
        default_index = _default_input_index(sd)
    except sd.PortAudioError as error:
        raise NoInputDeviceError() from error
    return [
        InputDevice(
            index=int(info["index"]),
            name=str(info["name"]),
            default_samplerate=float(info["default_samplerate"]),
            is_default=int(info["index"]) == default_index,
        )
        for info in devices
        if int(info["max_input_channels"]) > 0
    ]


def _default_input_index(sd: SoundDevice) -> int:
    # sounddevice's `default.device` is an (input, output) pair; -1 where there is no default.
    device = sd.default.device
    index = device if isinstance(device, int | str | None) else device[0]
    try:
        return int(index)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -1


#: A saved input that names one PulseAudio source: `pulse:<source name>`. PortAudio (through
#: ALSA) sees the whole sound server as one device, "pulse"; which source it records is the
#: client's default source, which voicedesk's client settings set (`pulse_client.use_source`;
#: libpulse reads them for each new connection). Source names are stable across restarts and
#: unique, where descriptions are not (two identical USB microphones are both "USB Audio
#: Device").
PULSE_PREFIX = "pulse:"
_source_lock = threading.Lock()


def pulse_source(name: str | None) -> str | None:
    """The PulseAudio source a saved input names, or None for any other input."""
    if name and name.startswith(PULSE_PREFIX) and len(name) > len(PULSE_PREFIX):
        return name[len(PULSE_PREFIX) :]
    return None


@contextlib.contextmanager
def recording_from(source: str | None) -> Iterator[None]:
    """While opening a stream: make `source` libpulse's default source (None: leave it).

    Set only around the open (the ALSA pulse plugin connects then) and put back after, under
    a lock, so two opens never mix their sources. Where it can't be set (no PulseAudio client
    settings of ours), the stream records from the default source."""
    if source is None:
        yield
        return
    with _source_lock:
        if not pulse_client.use_source(source):
            log.info("can't choose the PulseAudio source %r here; using the default", source)
        try:
            yield
        finally:
            pulse_client.use_source(None)


def choose_input(name: str | None, sd: SoundDevice) -> InputDevice:
    """The device called `name` (exactly, else the first whose name contains it), else the default.

    PortAudio's list is as old as its last enumeration, so a device that is missing (plugged
    in since, or no device at all) triggers one re-enumeration (~50 ms) before giving up; the
    usual case costs nothing. A chosen device that is still gone (an unplugged headset) falls
    back to the default input rather than failing: losing what the user is about to say is
    worse than using another microphone.
    """
    if pulse_source(name) is not None:
        name = "pulse"  # the sound server's own device; the source is chosen when opening
    devices = list_input_devices(refresh=False, sd=sd)
    if not devices or (name and not _named(devices, name)):
        devices = list_input_devices(refresh=True, sd=sd)
    if not devices:
        raise NoInputDeviceError()
    if name:
        if found := _named(devices, name):
            return found
        log.warning("input device %r is not connected; using the default input", name)
    defaults = [d for d in devices if d.is_default]
    return (defaults or devices)[0]


def _named(devices: list[InputDevice], name: str) -> InputDevice | None:
    exact = [d for d in devices if d.name == name]
    partial = [d for d in devices if name.lower() in d.name.lower()]
    found = exact or partial
    return found[0] if found else None


# PortAudio error codes (portaudio.h, PaErrorCode) that tell "no such device" from "can't open".
_NO_DEVICE_CODES = {-9996, -9998}  # paInvalidDevice, paInvalidChannelCount
_BUSY_CODE = -9985  # paDeviceUnavailable
INVALID_SAMPLE_RATE = -9997  # paInvalidSampleRate


def portaudio_code(error: Exception) -> int | None:
    """The PaErrorCode of a `sounddevice.PortAudioError` (its second argument), if it has one."""
    return error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else None


def open_error(error: Exception) -> VoiceDeskError:
    """A user-facing error for a failure to open the input stream."""
    code = portaudio_code(error)
    text = str(error.args[0]) if error.args else ""
    if code in _NO_DEVICE_CODES or "querying device -1" in text:
        return NoInputDeviceError()
    if code == _BUSY_CODE or "unavailable" in text.lower() or "busy" in text.lower():
        return InputDeviceError("The microphone is busy: another program is using it.")
    if "permission" in text.lower() or "denied" in text.lower():
        return InputDeviceError(
            "Access to the microphone was refused. Allow voicedesk to use it in your system's "
            "privacy settings."
        )
    return InputDeviceError()
