"""The one redaction function for everything that leaves the process.

Screen, logs, recordings, JSON output, clipboard and screenshots all pass through `scrub`.
It removes (a) every secret registered by the process (tokens it loaded or minted, signing
secrets) and (b) anything shaped like a JWT, so a token pasted by hand never leaks either.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_SECRET_QUERY_KEYS = {"token", "access_token", "jwt", "auth", "key", "secret", "password"}
# A secret-bearing query parameter wherever a URL appears in text (config values, error messages).
_QUERY_SECRET_RE = re.compile(r"([?&](?:" + "|".join(sorted(_SECRET_QUERY_KEYS)) + r")=)([^&#\s\"'<>]+)", re.IGNORECASE)
_secrets: list[str] = []  # longest first, so a secret inside another is masked with it


def register_secret(value: str | None) -> None:
    """Remember a secret so that `scrub` removes it wherever it appears. JWTs need no
    registering (the pattern catches them), which keeps this list as small as the secrets."""
    if not value or len(value) < 4 or value in _secrets or _JWT_RE.fullmatch(value):
        return
    _secrets.append(value)
    _secrets.sort(key=len, reverse=True)


def secrets_known() -> int:
    """How many secrets are registered: what was drawn and kept before a new one came must be
    drawn again."""
    return len(_secrets)


def mask(value: str | None) -> str:
    """A stand-in for a secret. A JWT keeps its first 6 characters (always "eyJhbG", its header)
    so a reader knows a token was there; any other secret keeps nothing."""
    if not value:
        return ""
    if len(value) > 8 and value.startswith("eyJ"):
        return f"{value[:6]}…(redacted)"
    return "•••(redacted)"


def scrub(text: str) -> str:
    """Return `text` with every registered secret, every secret query parameter (`?token=…`) and
    every JWT-shaped string masked."""
    if not text:
        return text
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, mask(secret))
    if "=" in text:
        text = _QUERY_SECRET_RE.sub(_mask_query_value, text)
    if "eyJ" not in text:  # the common case: no token-shaped text at all
        return text
    return _JWT_RE.sub(lambda m: mask(m.group(0)), text)


def _mask_query_value(m: re.Match[str]) -> str:
    value = m.group(2)
    return m.group(0) if value.endswith("(redacted)") else m.group(1) + mask(value)


_READABLE = ":/@!$'()*,;~"


def redact_url(url: str) -> str:
    """Mask secret-bearing query parameters (``?token=``) and userinfo in a URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    query = parts.query
    if query:
        # Written to be read: a mask as it is (urlencode turned "…" into %E2%80%A6) and values
        # percent-encoded only where they would break the query ("burst:100000", not burst%3A100000).
        pairs = parse_qsl(query, keep_blank_values=True)
        query = "&".join(
            f"{quote(k, safe=_READABLE)}={mask(v) if k.lower() in _SECRET_QUERY_KEYS else quote(v, safe=_READABLE)}"
            for k, v in pairs
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
