"""What makes a WebSocket URL one wsdash can dial: the one rule for `--url`, a config file's or an
environment variable's `ws_url`, and the connection itself. Said when the URL is read (exit 2,
naming where it came from), not as a network failure after a connect attempt: port 0 was dialled
as port 80, and a fragment, an empty host label or stray bytes surfaced as "unknown" errors."""

from __future__ import annotations

from urllib.parse import urlsplit

from wsdash.core.redact import redact_url
from wsdash.core.undecodable import not_text


def ws_url_problem(url: str) -> str | None:
    """Why `url` cannot be dialled, or None."""
    shown = redact_url(url)
    if not_text(url):
        return f"{shown!r} holds bytes that are not text (an undecodable byte in the argument or variable)"
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return f"{shown!r} holds a space or a control character"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port out of 0–65535 or not a number, an unclosed [IPv6]
        return f"{shown!r} is not a valid URL: {exc}"
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        return f"{shown!r} is not ws://host[:port]/path or wss://…"
    if port == 0:
        return f"{shown!r} names port 0, which no server listens on"
    if parts.fragment or url.endswith("#"):
        return f"{shown!r} has a #fragment, which a WebSocket URL cannot carry (RFC 6455 §3)"
    try:
        parts.hostname.encode("idna")
    except UnicodeError as exc:
        return f"{shown!r} has a host name that cannot be looked up ({exc.__cause__ or exc})"
    return None
