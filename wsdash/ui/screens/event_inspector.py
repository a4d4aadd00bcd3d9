"""`enter` on an event: its raw frame and its normalised form, as pretty JSON; `c` copies."""

from __future__ import annotations

import json
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wsdash.core.event_store import Row
from wsdash.core.redact import scrub
from wsdash.ui.widgets.key_footer import KeyFooter


def _pretty_raw(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        return f"(binary frame, {len(raw)} bytes)\n{raw[:512].hex(' ')}"
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


def normalised(row: Row) -> dict[str, Any]:
    e = row.event
    return {
        "type": e.type, "kind": e.kind, "raw_type": e.raw_type, "agent_name": e.agent_name,
        "tool_name": e.tool_name, "execution_id": e.execution_id, "run_id": e.run_id,
        "offset_ms": None if row.offset is None else round(row.offset * 1000, 1),
        "timestamp": e.timestamp, "note": e.note, "fields": e.fields,
    }


def highlighted(code: str) -> Text:
    """JSON, highlighted once. A `Syntax` renderable runs the lexer again every time it is
    measured or drawn (a dozen times as the screen opens): ~5 ms each, in a burst many more."""
    text = Syntax(code, "json", word_wrap=True, theme="ansi_dark").highlight(code)
    text.rstrip()
    return text


class EventInspector(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "Back"),
        Binding("c", "copy('raw')", "Copy raw"),
        Binding("n", "copy('normalised')", "Copy normalised"),
    ]

    def __init__(self, row: Row) -> None:
        super().__init__()
        self.row = row
        self.raw_text = scrub(_pretty_raw(row.event.raw))
        self.norm_text = scrub(json.dumps(normalised(row), indent=2, ensure_ascii=False, default=str))

    def compose(self) -> ComposeResult:
        e = self.row.event
        with Vertical(id="inspector"):
            title = f"event #{self.row.seq} · {e.type}" + (f" (wire type {e.raw_type})" if e.raw_type else "")
            yield Static(scrub(title), id="inspector-title", markup=False)  # the type is the server's text
            if e.note:
                yield Static(scrub(e.note), id="inspector-note", markup=False)
            with Horizontal():
                with VerticalScroll(classes="inspector-pane"):
                    yield Static("raw frame", classes="pane-title")
                    yield Static(highlighted(self.raw_text))
                with VerticalScroll(classes="inspector-pane"):
                    yield Static("normalised", classes="pane-title")
                    yield Static(highlighted(self.norm_text))
        yield KeyFooter()

    def action_copy(self, which: str) -> None:
        from wsdash.ui.clipboard import copy_text

        done = copy_text(self.app, self.raw_text if which == "raw" else self.norm_text)
        if done.ok:
            self.notify(f"{which} frame {done.how} (secrets redacted)")
        else:
            self.notify(f"{which} frame not copied: {done.how}", severity="error")
