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

    def __init__(self, row: Row | None = None) -> None:
        super().__init__()
        self.row: Row | None = None
        self.raw_text = self.norm_text = self.title_text = self.note_text = ""
        if row is not None:
            self.show(row)

    def show(self, row: Row) -> None:
        """Show this event (the dashboard keeps one inspector and shows each event in it)."""
        self.row = row
        e = row.event
        self.raw_text = scrub(_pretty_raw(e.raw))
        self.norm_text = scrub(json.dumps(normalised(row), indent=2, ensure_ascii=False, default=str))
        self.title_text = scrub(f"event #{row.seq} · {e.type}" + (f" (wire type {e.raw_type})" if e.raw_type else ""))
        self.note_text = scrub(e.note) if e.note else ""
        if self.is_mounted:
            self._fill()

    def compose(self) -> ComposeResult:
        with Vertical(id="inspector"):
            yield Static(id="inspector-title", markup=False)  # the type is the server's text
            yield Static(id="inspector-note", markup=False)
            with Horizontal():
                with VerticalScroll(classes="inspector-pane"):
                    yield Static("raw frame", classes="pane-title")
                    yield Static(id="inspector-raw")
                with VerticalScroll(classes="inspector-pane"):
                    yield Static("normalised", classes="pane-title")
                    yield Static(id="inspector-normalised")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._fill()

    def _fill(self) -> None:
        self.query_one("#inspector-title", Static).update(self.title_text)
        note = self.query_one("#inspector-note", Static)
        note.update(self.note_text)
        note.display = bool(self.note_text)
        self.query_one("#inspector-raw", Static).update(highlighted(self.raw_text))
        self.query_one("#inspector-normalised", Static).update(highlighted(self.norm_text))
        for pane in self.query(".inspector-pane"):
            pane.scroll_home(animate=False)  # the last event's scroll position is not this one's

    def action_copy(self, which: str) -> None:
        from wsdash.ui.clipboard import copy_text

        done = copy_text(self.app, self.raw_text if which == "raw" else self.norm_text)
        if done.ok:
            self.notify(f"{which} frame {done.how} (secrets redacted)")
        else:
            self.notify(f"{which} frame not copied: {done.how}", severity="error")
