"""The errors users see, and the audio format speech-to-text takes everywhere.

Every layer imports these (engines, audio, workers, UI), so they live here, below all of them:
plain Python, no Qt. Each error carries a `message` fit for a status bar: never a traceback,
never a secret.
"""

from __future__ import annotations

# What speech-to-text takes everywhere in voicedesk: raw PCM, no container.
STT_SAMPLE_RATE = 16_000
STT_SAMPLE_WIDTH = 2  # bytes, signed 16-bit little-endian
STT_CHANNELS = 1


class VoiceDeskError(Exception):
    """An error a user can read: `message` fits a status bar; no traceback, never a secret."""

    default_message = "Something went wrong."
    #: Whether trying the same thing again later might succeed (shown as a "Retry" action).
    retryable = False

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class EmptyTextError(VoiceDeskError):
    default_message = "There is nothing to speak: type some text first."


class InvalidKeyError(VoiceDeskError):
    default_message = "The ElevenLabs API key was rejected. Check it in Settings."


class QuotaExceededError(VoiceDeskError):
    default_message = "Your ElevenLabs character quota is used up for this period."


class VoiceNotFoundError(VoiceDeskError):
    default_message = "That voice is not available on this ElevenLabs account. Pick another voice."


class TextTooLongError(VoiceDeskError):
    default_message = "The text is too long for one request."

    def __init__(
        self, message: str | None = None, *, size: int | None = None, limit: int | None = None
    ) -> None:
        # With the size and the limit (voicedesk's own cap on what it speaks), say both.
        if message is None and size is not None and limit is not None:
            message = (
                f"The text is too long to speak: {size:,} characters; the limit is {limit:,}. "
                "Speak it in parts."
            )
        super().__init__(message)
        self.size = size
        self.limit = limit


class RateLimitedError(VoiceDeskError):
    default_message = "ElevenLabs is busy (too many requests at once). Try again in a moment."
    retryable = True


class NetworkError(VoiceDeskError):
    default_message = "Could not reach ElevenLabs. Check your network connection."
    retryable = True


class StreamInterruptedError(VoiceDeskError):
    default_message = "The connection dropped while speaking; the rest of the text was not played."
    retryable = True


class ServiceError(VoiceDeskError):
    default_message = "ElevenLabs returned an error."
    retryable = True


class Cancelled(VoiceDeskError):
    default_message = "Stopped."


class NoInputDeviceError(VoiceDeskError):
    default_message = "No microphone was found. Connect one or choose another in Settings."


class InputDeviceError(VoiceDeskError):
    default_message = "The microphone could not be opened (busy, or permission refused)."


class NoOutputDeviceError(VoiceDeskError):
    default_message = "No audio output device was found. Connect speakers or headphones."


class RecordingTooShortError(VoiceDeskError):
    default_message = "That was too short to transcribe: hold the key while you speak."


class RecordingTooLongError(VoiceDeskError):
    default_message = "The recording reached its length limit and was stopped."


class EngineUnavailableError(VoiceDeskError):
    default_message = "The offline speech engine is not installed."


# -- added for input nobody named: bad endpoints, odd answers, sound that goes away -------------


class InvalidBaseUrlError(VoiceDeskError):
    default_message = "The ElevenLabs endpoint is not a valid http(s) URL."


class InsecureBaseUrlError(VoiceDeskError):
    default_message = (
        "The ElevenLabs endpoint uses plain http:// to a host that is not this computer, which "
        "would send your API key unencrypted. Use https://."
    )


class MalformedKeyError(InvalidKeyError):
    default_message = (
        "The ElevenLabs API key contains characters a key cannot have (a line break, a space or "
        "a non-ASCII character). Paste it again."
    )


class UnexpectedResponseError(ServiceError):
    default_message = "ElevenLabs answered with something that is not what was asked for."


class AudioOutputLostError(VoiceDeskError):
    default_message = "The sound output went away (the sound server or the device stopped)."
    retryable = True


class InputDeviceLostError(InputDeviceError):
    default_message = "The microphone went away while recording; what was heard so far is kept."
    retryable = True


class NothingHeardError(VoiceDeskError):
    default_message = "Nothing was heard in that recording."


# -- text: what a voice is given to speak --------------------------------------------------------


class NothingToSayError(VoiceDeskError):
    default_message = "The offline voice found nothing it can pronounce in this text."


# -- live words (realtime speech-to-text) -------------------------------------------------------


class LiveTranscriptError(ServiceError):
    """The live session failed; the take is transcribed whole instead (nothing is lost)."""

    default_message = "Live transcription failed; the whole recording was sent instead."


class LiveConnectionLostError(NetworkError):
    default_message = "The live transcription connection dropped."


class LiveSessionTooLongError(LiveTranscriptError):
    default_message = "The live transcription session reached its time limit."


class LiveTermsNotAcceptedError(VoiceDeskError):
    default_message = (
        "Live transcription needs the ElevenLabs terms for realtime speech-to-text accepted on "
        "your account first."
    )


class LiveNeedsElevenLabsError(VoiceDeskError):
    default_message = (
        "Live words need ElevenLabs (an API key); the offline engine transcribes after the take."
    )


# -- privacy and budget (credits, the speaking queue) -------------------------------------------


class QueueFullError(VoiceDeskError):
    """Speak pressed while the queue already holds `speaker.MAX_QUEUED` utterances: every one
    is a paid request, so no more are queued until some have played."""

    default_message = (
        "Several utterances are already waiting to be spoken; wait for them, or press Stop."
    )


# -- errors as objects across threads (issue 16: the window's parts) ----------------------------


class NoApiKeyError(InvalidKeyError):
    """No key, and no system keyring to keep one in: the message says where one can be kept."""

    default_message = "No ElevenLabs API key is configured."


class InsertFailedError(VoiceDeskError):
    """The transcript could not be put into the focused application (it is on the clipboard or
    in the window's history instead)."""

    default_message = "The transcript could not be typed into the focused application."


def as_user_error(error: BaseException, what: str = "Something went wrong") -> VoiceDeskError:
    """`error` if it is one of ours; anything else as one short line that names only its type
    (never its text: it could hold a path, a URL or a secret)."""
    if isinstance(error, VoiceDeskError):
        return error
    return VoiceDeskError(f"{what} ({type(error).__name__}).")
