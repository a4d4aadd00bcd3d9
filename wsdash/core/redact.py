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
# A name that says its value is a secret: token, access_token, api_key, apikey, client_secret,
# password, X-Amz-Signature, x-amz-security-token, aws_secret_access_key, auth, sig, … (not
# "keyword" or "author"). One rule for a URL's query and for `NAME=value` in any text: a tier's
# output, an environment dump, a command line.
_SECRET_NAME = (r"(?:[\w.-]*?(?:token|secret|passw|pwd|signature|jwt|credential|(?:(?<![a-z0-9])|(?<=api)|(?<=private)|(?<=access))key(?=[_.-]|$|=))[\w.-]*"
                r"|auth|authorization|sig)")
_SECRET_NAME_RE = re.compile(_SECRET_NAME + r"\Z", re.IGNORECASE)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_VALUE_RE = re.compile(r"[^&#\s\"'<>,;]+")
# Userinfo in a URL anywhere in text (`wss://user:password@host`): the whole of it, as redact_url does.
_USERINFO_RE = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^\s/@\"'<>]+@", re.IGNORECASE)
_secrets: list[str] = []  # longest first, so a secret inside another is masked with it


def register_secret(value: str | None) -> None:
    """Remember a secret so that `scrub` removes it wherever it appears. JWTs need no
    registering (the pattern catches them), which keeps this list as small as the secrets."""
    global _secrets
    if not value or len(value) < 4 or value in _secrets or _JWT_RE.fullmatch(value):
        return
    # A new list, bound at once: another thread's scrub may be iterating the old one (a sort in
    # place empties the list while it runs, and that scrub would mask nothing).
    _secrets = sorted([*_secrets, value], key=len, reverse=True)


def registered_secrets() -> list[str]:
    """The secrets registered so far: handed to a process of ours (the stream worker) whose own
    output — its recordings — must mask them too."""
    return list(_secrets)


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
    """Return `text` with every registered secret, every secret-named value (`?token=…`,
    `API_KEY=…`), every URL's userinfo and every JWT-shaped string masked."""
    if not text:
        return text
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, mask(secret))
    if "=" in text:
        text = _mask_named_values(text)
    if "@" in text and "://" in text:
        text = _USERINFO_RE.sub(r"\1•••@", text)
    if "eyJ" not in text:  # the common case: no token-shaped text at all
        return text
    return _JWT_RE.sub(lambda m: mask(m.group(0)), text)


def is_secret_name(name: str) -> bool:
    """Does a parameter or variable of this name hold a secret (`api_key`, `X-Amz-Signature`)?"""
    return bool(_SECRET_NAME_RE.match(name))


def _mask_named_values(text: str) -> str:
    """`NAME=value` with a secret's name → `NAME=•••(redacted)`. Found from each "=" backwards:
    a regex over every word of every frame cost a recording 6× more."""
    parts: list[str] = []
    done = 0
    at = text.find("=")
    while at != -1:
        start = at
        while start > 0 and text[start - 1] in _NAME_CHARS:
            start -= 1
        value = _VALUE_RE.match(text, at + 1) if start < at else None
        if value is not None and is_secret_name(text[start:at]):
            v = value.group()
            if not v.endswith("(redacted)") and not (v.isdigit() and len(v) < 8):  # a count (`max_tokens=512`)
                parts += (text[done:at + 1], mask(v))
                done = value.end()
        at = text.find("=", at + 1)
    return "".join(parts) + text[done:] if parts else text


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
            f"{quote(k, safe=_READABLE)}={mask(v) if is_secret_name(k) else quote(v, safe=_READABLE)}"
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
