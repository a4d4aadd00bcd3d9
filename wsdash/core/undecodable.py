"""Text that is not text: arguments and environment variables reach Python decoded with
surrogateescape, so a byte that was not valid in the locale's encoding arrives as a lone
surrogate. It cannot travel in a URL, a header or a subprotocol; each reader says so by name."""

from __future__ import annotations


def not_text(value: str) -> bool:
    """Holds bytes that were not text where it came from (an argument or variable)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
