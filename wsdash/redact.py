"""The one redaction function for everything that leaves the process.

Screen, logs, recordings, JSON output, clipboard and screenshots all pass through `scrub`.
It removes (a) every secret registered by the process (tokens it loaded or minted, signing
secrets) and (b) anything shaped like a JWT, so a token pasted by hand never leaks either.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_SECRET_QUERY_KEYS = {"token", "access_token", "jwt", "auth", "key", "secret", "password"}
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that `scrub` removes it wherever it appears."""
    if value and len(value) >= 4:
        _secrets.add(value)


def mask(value: str | None) -> str:
    """A short, recognisable stand-in for a secret: its first 6 characters, then a mark."""
    if not value:
        return ""
    if len(value) <= 8:
        return "•••"
    return f"{value[:6]}…(redacted)"


def scrub(text: str) -> str:
    """Return `text` with every registered secret and every JWT-shaped string masked."""
    if not text:
        return text
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, mask(secret))
    return _JWT_RE.sub(lambda m: mask(m.group(0)), text)


def redact_url(url: str) -> str:
    """Mask secret-bearing query parameters (``?token=``) and userinfo in a URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, mask(v) if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs], safe="…()•"
        )
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "•••@" + netloc.rsplit("@", 1)[1]
    return scrub(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def scrub_obj(obj: Any) -> Any:
    """Recursively scrub every string inside a JSON-like value."""
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {scrub(str(k)): scrub_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [scrub_obj(v) for v in obj]
    return obj
