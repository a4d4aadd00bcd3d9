"""What a failed, skipped or xfailed report says, bounded: its one-line message, its traceback
and its captured output.

Limits keep one huge failure (a test that prints megabytes) from flooding the socket and
wsdash's memory; the interesting part of a traceback is its end, of output both ends.

PYTEST_DONT_REWRITE: part of the plugin (see __init__.py), not a test module.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE = 500
MAX_LONGREPR = 8_000
MAX_OUTPUT = 8_000


def truncate_tail(text: str, limit: int) -> str:
    """Keep the last `limit` characters (the end of a traceback says what failed)."""
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit} characters cut …]\n" + text[-limit:]


def truncate_middle(text: str, limit: int) -> str:
    """Keep both ends of `text` (how the output started, and what it said last)."""
    if len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    return f"{text[:head]}\n[… {len(text) - limit} characters cut …]\n{text[-tail:]}"


def message_of(report: Any, category: str) -> str:
    """One line that says why: the exception, the skip reason, the xfail reason."""
    text = ""
    longrepr = getattr(report, "longrepr", None)
    if category in ("xfailed", "xpassed"):
        text = str(getattr(report, "wasxfail", "") or "")
    elif report.skipped and isinstance(longrepr, (tuple, list)) and len(longrepr) == 3:
        text = str(longrepr[2])
        if text.startswith("Skipped: "):  # the reason as written, as pytest's -rs prints it
            text = text[len("Skipped: "):]
    elif report.failed:
        crash = getattr(longrepr, "reprcrash", None)
        text = str(getattr(crash, "message", "") or "")
        if not text:
            lines = [ln for ln in str(getattr(report, "longreprtext", "") or "").splitlines() if ln.strip()]
            text = lines[-1].strip() if lines else ""
            if text.startswith("E "):  # pytest's marker for the exception line
                text = text[1:]
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:MAX_MESSAGE]


def longrepr_of(report: Any) -> str:
    """The end of the traceback pytest would print."""
    return truncate_tail(str(getattr(report, "longreprtext", "") or ""), MAX_LONGREPR)


def output_of(report: Any) -> str:
    """The captured stdout/stderr/log sections, both ends kept."""
    parts = []
    for title, content in getattr(report, "sections", []) or []:
        if content:
            parts.append(f"----- {title} -----\n{content}")
    return truncate_middle("\n".join(parts), MAX_OUTPUT)
