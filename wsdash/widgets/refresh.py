"""Update a Static only when its content changed: the screen flushes at 10 Hz, and an update
forces a layout, which is wasted CPU when nothing moved (most ticks)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static


def update_if_changed(widget: Static, content: Any) -> None:
    if getattr(widget, "_wsdash_last", None) != content:
        widget._wsdash_last = content  # type: ignore[attr-defined]
        widget.update(content)
