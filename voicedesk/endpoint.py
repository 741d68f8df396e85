"""Checking the ElevenLabs endpoint and API key before anything is sent.

Plain Python, no Qt: the engine's constructor, the settings and the CLI all use it. The key
never appears in what these return or raise, even when it was pasted into the URL field.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from voicedesk.errors import InsecureBaseUrlError, InvalidBaseUrlError, MalformedKeyError

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
# How much of a bad URL a message quotes: enough to recognise it, never a wall of text.
_SHOWN_CHARS = 80
# A word with no dot, slash or colon and this long looks like a key pasted in the wrong field.
_KEY_LIKE = re.compile(r"^(sk_\S*|[A-Za-z0-9_\-]{24,})$")
# ...and inside a URL (a path or query), an `sk_` word or a long run of key characters.
_KEY_INSIDE = re.compile(r"sk_[A-Za-z0-9_\-]+|[A-Za-z0-9_\-]{32,}")


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost` (and its subdomains, which resolve to loopback)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def shown_url(url: str, api_key: str | None = None) -> str:
    """`url` as a message may quote it: no userinfo, never the key, never too long."""
    text = url.strip()
    if api_key and api_key in text:
        text = text.replace(api_key, "***")
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is not None and "@" in parts.netloc:
        # user:password@host: the password may well be a key.
        text = parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()
    if _KEY_LIKE.match(text):
        return "(hidden: it looks like an API key; that goes in the key field)"
    text = _KEY_INSIDE.sub("***", text)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def check_base_url(
    url: str | None, *, allow_insecure_http: bool = False, api_key: str | None = None
) -> str:
    """The base URL to use (the default when empty), without a trailing slash.

    Raises `InvalidBaseUrlError` for anything but http(s)://host[:port][/path], and
    `InsecureBaseUrlError` for plain http to a host that is not this computer (the key would
    travel unencrypted) unless `allow_insecure_http`.
    """
    raw = (url or "").strip()
    if not raw:
        return DEFAULT_BASE_URL
    shown = shown_url(raw, api_key)
    bad = InvalidBaseUrlError(
        f"The ElevenLabs base URL {shown} is not a valid http(s) URL "
        "(expected e.g. https://api.elevenlabs.io)."
    )
    if any(c.isspace() or not c.isprintable() for c in raw):
        raise bad
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise bad from None
    host = parts.hostname or ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise bad
    if parts.username is not None:
        # A key pasted as user:password@host must never be sent anywhere, nor shown.
        raise InvalidBaseUrlError(
            f"The ElevenLabs base URL {shown} has a user name or password in it: remove it "
            "(the API key goes in the key field)."
        )
    if parts.query or parts.fragment:
        raise bad
    if parts.scheme.lower() == "http" and not is_loopback_host(host) and not allow_insecure_http:
        raise InsecureBaseUrlError(
            f"The ElevenLabs base URL {shown} uses plain http:// to another computer, which would "
            "send your API key unencrypted. Use https:// (or, for a trusted local network only, "
            "set VOICEDESK_ALLOW_INSECURE_HTTP=1)."
        )
    del port  # checked above
    return parts._replace(scheme=parts.scheme.lower()).geturl().rstrip("/")


def check_api_key(key: str) -> str:
    """The key, stripped; `MalformedKeyError` if it has characters no key has (never echoed)."""
    key = key.strip()
    for char in key:
        if char.isspace() or not char.isascii() or not char.isprintable():
            raise MalformedKeyError(_key_problem(char))
    return key


def _key_problem(char: str) -> str:
    if char in "\r\n":
        what = "a line break"
    elif char.isspace():
        what = "a space"
    elif not char.isascii():
        what = "a non-ASCII character"
    else:
        what = "a control character"
    return f"The ElevenLabs API key contains {what}, which a key cannot have. Paste it again."
