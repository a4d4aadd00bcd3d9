"""A card per health target: status colour, latency, age of the last check, error and hint."""

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


class HealthCard(Static):
    """Shows one ProbeResult (or 'checking…' before the first)."""

    def __init__(self, name: str, label: str | None = None) -> None:
        super().__init__(classes="card health-card -unknown", id=f"health-{name}")
        self.target = name
        self.label = label or name

    def show(self, result: Any | None, now: float | None = None) -> None:
        now = now if now is not None else time.time()
        status = result.status if result is not None else "unknown"
        only_class(self, [f"-{s}" for s in _MARK], f"-{status}")
        text = Text()
        text.append(f"{self.label}\n", "bold")
        text.append(f"{_MARK.get(status, '?')} {status.upper()}", "bold")
        if result is None:
            text.append("  checking…")
            update_if_changed(self, text)
            return
        if result.latency_ms is not None:
            text.append(f"  {result.latency_ms:.0f} ms")
        text.append(f"  · {ago(now - result.at)}", "dim")
        if result.detail:
            text.append(f"\n{result.detail}")
        error = result.error
        if error is not None and status != "up":
            room = max(12, self.size.width - 4 - len(error.kind))
            message = error.message if len(error.message) <= room else error.message[: room - 1] + "…"
            text.append(f"\n{error.kind}: ", "bold")
            text.append(scrub(message))
        if result.hint and status != "up":
            text.append("\n")
            text.append_text(prose(scrub(f"→ {result.hint}"), "italic"))
        update_if_changed(self, text)
