"""A card per health target: status colour, latency, age of the last check, error and hint — or,
when the check itself broke, that it did and why (its last result is stale)."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.widgets import Static

from wsdash.services.health.model import ago
from wsdash.core.redact import scrub
from wsdash.ui.widgets.prose import prose
from wsdash.ui.widgets.refresh import only_class, update_if_changed

_MARK = {"up": "●", "degraded": "◐", "down": "✗", "skipped": "○", "unknown": "…"}
CHECK_FAILED = "check-failed"
_CLASSES = [f"-{s}" for s in (*_MARK, CHECK_FAILED)]


def one_line(width: int, *choices: list[tuple[str, str]]) -> Text:
    """The first of `choices` (each a list of (words, style)) that fits on one line of `width`,
    else the last: a narrow card drops the latency rather than wrapping 'just now' onto a line
    of its own, or cutting a word in half."""
    for parts in choices:
        if width <= 0 or sum(len(words) for words, _ in parts) <= width:
            break
    return Text.assemble(*parts)


class HealthCard(Static):
    """Shows one ProbeResult (or 'checking…' before the first)."""

    def __init__(self, name: str, label: str | None = None) -> None:
        super().__init__(classes="card health-card -unknown", id=f"health-{name}")
        self.target = name
        self.label = label or name

    def show(self, result: Any | None, now: float | None = None, failure: Any | None = None) -> None:
        """`failure`: the ClassifiedError of a check that raised after `result` (None when not)."""
        now = now if now is not None else time.time()
        status = result.status if result is not None else "unknown"
        only_class(self, _CLASSES, f"-{CHECK_FAILED if failure is not None else status}")
        width = self.size.width
        text = Text()
        text.append(f"{self.label}\n", "bold")
        if failure is not None:
            text.append("⚠ CHECK FAILED\n", "bold")
            if result is not None:  # the last result, dated: stale, not current
                last = (f"last: {status.upper()}", "dim")
                text.append_text(one_line(width, [last, (f" · {ago(now - result.at)}", "dim")], [last]))
                text.append("\n")
            text.append_text(prose(scrub(f"check failed: {failure.message} — {failure.hint}")))
            update_if_changed(self, text)
            return
        if result is None:
            mark = (f"{_MARK['unknown']} UNKNOWN", "bold")
            text.append_text(one_line(width, [mark, ("  checking…", "")], [mark]))
            update_if_changed(self, text)
            return
        mark = (f"{_MARK.get(status, '?')} {status.upper()}", "bold")
        age = (f"  · {ago(now - result.at)}", "dim")
        latency = [(f"  {result.latency_ms:.0f} ms", "")] if result.latency_ms is not None else []
        text.append_text(one_line(width, [mark, *latency, age], [mark, age], [mark]))
        if result.detail:
            text.append(f"\n{result.detail}")
        error = result.error
        if error is not None and status != "up":
            room = max(12, width - 4 - len(error.kind))
            message = error.message if len(error.message) <= room else error.message[: room - 1] + "…"
            text.append(f"\n{error.kind}: ", "bold")
            text.append(scrub(message))
        if result.hint and status != "up":
            text.append("\n")
            text.append_text(prose(scrub(f"→ {result.hint}"), "italic"))
        update_if_changed(self, text)
