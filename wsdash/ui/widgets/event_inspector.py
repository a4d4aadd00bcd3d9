"""`enter` on an event: its raw frame and its normalised form, as pretty JSON; `c` / `n` copy.

A panel in the event list's place in the dashboard, not a screen of its own: the golden-path
tracker above it stays live, and opening or closing it lays out and paints that part of the
dashboard alone. A pushed screen restyled, laid out and repainted the whole terminal both ways —
~100 ms of CPU per key mid-burst on this VM's slow phases, the keys' worst case (bench/ui.py)."""

from __future__ import annotations

import json
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wsdash.core.event_store import Row
from wsdash.core.redact import scrub, secrets_known


SIDE_BY_SIDE = 70  # columns: narrower, the raw frame goes above the normalised form
SHOWN_LINES = 2000  # of each form: the rest is left to `c` / `n` (the clipboard takes it whole)


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


def shown_part(text: str) -> str:
    """The first SHOWN_LINES lines, and how many more there are: a megabyte frame is ~30,000
    lines, and highlighting and laying out all of them held the screen for seconds. `c` and `n`
    still copy the whole text."""
    lines = text.split("\n", SHOWN_LINES)
    if len(lines) <= SHOWN_LINES:
        return text
    more = lines.pop().count("\n") + 1
    return "\n".join(lines) + f"\n… {more:,} more line{'' if more == 1 else 's'}: c / n copies the whole frame"


def highlighted(code: str) -> Text:
    """JSON, highlighted once. A `Syntax` renderable runs the lexer again every time it is
    measured or drawn (a dozen times as the panel opens): ~5 ms each, in a burst many more."""
    text = Syntax(code, "json", word_wrap=True, theme="ansi_dark").highlight(code)
    text.rstrip()
    return text


class EventInspector(ScrollView, can_focus=True):
    """One widget drawing the whole inspector from lines laid out once per event and width: a
    note (if the event has one) and the column titles fixed on top, then the raw frame and its
    normalised form side by side, or one above the other when narrow, scrolled together. (A title,
    two bordered scroll panes and two Statics cost a layout and ~8 widgets' rendering per open.)
    Its title (`title_text`) is the dashboard's to show, in the list's header line.
    Hidden until `show`; `esc` or `q` posts `Closed` and the dashboard puts the list back."""

    COMPONENT_CLASSES = {"event-inspector--note", "event-inspector--heading", "event-inspector--rule"}
    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("c", "copy('raw')", "Copy raw"),
        Binding("n", "copy('normalised')", "Copy normalised"),
    ]

    class Closed(Message):
        pass

    class Resized(Message):
        """Laid out at a new size: the dashboard judges whether that leaves it enough rows."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row: Row | None = None
        self.raw_text = self.norm_text = self.title_text = self.note_text = ""
        self._raw = self._norm = Text()
        self._laid_out: tuple[int, list[Strip], list[Strip]] | None = None  # (width, fixed top, body)
        self._norm_at: int | None = None  # stacked: the body line titled "normalised"
        self._secrets = 0  # secrets known when this event was shown

    def show(self, row: Row, *, place_width: int = 0) -> None:
        """Lay out this event (one inspector, shown each event in turn). `place_width`: the outer
        width of the place it is about to take, so that it is laid out now, for the width its
        lines will have (hidden, it has none): laid out at its first paint, it changed its own
        size there and was painted twice."""
        self.row = row
        self._secrets = secrets_known()
        e = row.event
        self.raw_text = scrub(_pretty_raw(e.raw))
        self.norm_text = scrub(json.dumps(normalised(row), indent=2, ensure_ascii=False, default=str))
        self.title_text = scrub(f"event #{row.seq} · {e.type}" + (f" (wire type {e.raw_type})" if e.raw_type else ""))
        self.note_text = scrub(e.note) if e.note else ""
        self._raw, self._norm = highlighted(shown_part(self.raw_text)), highlighted(shown_part(self.norm_text))
        self._laid_out = None
        self.scroll_to(y=0, animate=False, immediate=True, force=True)  # the last event's position is not this one's
        # Its scrollbar's gutter is always there (app.tcss): the lines' width is the place's less that.
        self._lay_out(place_width - self.styles.scrollbar_size_vertical if place_width else None)
        self.refresh()

    def mask_new_secrets(self) -> None:
        """Show the event again, where it was scrolled to, if a secret was registered since it was
        shown (its text was masked then)."""
        if self.row is None or secrets_known() == self._secrets:
            return
        y = self.scroll_offset.y
        self.show(self.row, place_width=self.outer_size.width)
        self.scroll_to(y=y, animate=False, immediate=True, force=True)

    # ---- layout: once per event and width --------------------------------------------------
    def on_resize(self) -> None:
        self._lay_out()
        self.post_message(self.Resized())

    def _lay_out(self, width: int | None = None) -> tuple[list[Strip], list[Strip]]:
        width = width or self.scrollable_content_region.width
        if self._laid_out is not None and self._laid_out[0] == width:
            return self._laid_out[1], self._laid_out[2]
        if width <= 0:
            return [], []
        style = self.get_component_rich_style
        top = self._wrap(Text(self.note_text, style=style("event-inspector--note")), width) if self.note_text else []
        heading, rule = style("event-inspector--heading"), style("event-inspector--rule")
        self._norm_at = None
        if width >= SIDE_BY_SIDE:
            left_w = (width - 3) // 2
            right_w = width - 3 - left_w
            sep = Strip([Segment(" │ ", rule)], 3)
            top.append(Strip.join([self._line("raw frame", left_w, heading), sep, self._line("normalised", right_w, heading)]))
            left, right = self._wrap(self._raw, left_w), self._wrap(self._norm, right_w)
            body = [
                Strip.join([left[i] if i < len(left) else Strip.blank(left_w), sep, right[i] if i < len(right) else Strip.blank(right_w)])
                for i in range(max(len(left), len(right)))
            ]
        else:
            top.append(self._line("raw frame", width, heading))
            raw = self._wrap(self._raw, width)
            self._norm_at = len(raw) + 1
            body = raw + [Strip.blank(width), self._line("normalised", width, heading)] + self._wrap(self._norm, width)
        self._laid_out = (width, top, body)
        self.virtual_size = Size(width, len(top) + len(body))
        return top, body

    def _wrap(self, text: Text, width: int) -> list[Strip]:
        console = self.app.console
        lines = console.render_lines(text, console.options.update(width=width, height=None, no_wrap=False, overflow="fold"), pad=True)
        return [Strip(line, width) for line in lines]

    @staticmethod
    def _line(words: str, width: int, style: Style) -> Strip:
        return Strip([Segment(words[:width].ljust(width), style)], width)

    # ---- drawing ------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        top, body = self._lay_out()
        width = self.scrollable_content_region.width
        if y < len(top):  # fixed: the column titles stay as the frame scrolls under them
            strip = top[y]
            if y == len(top) - 1 and self._norm_at is not None and self.scroll_offset.y > self._norm_at:
                strip = body[self._norm_at]  # stacked, scrolled past the raw frame: the title says what is under it
        else:
            index = self.scroll_offset.y + y - len(top)
            strip = body[index] if 0 <= index < len(body) else Strip.blank(width)
        return strip.adjust_cell_length(width).apply_style(self.rich_style)

    def watch_has_focus(self, _has_focus: bool) -> None:
        pass  # no `:focus` rule styles it: no restyle as focus comes and goes (see EventStream's)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._laid_out = None  # a theme change: the note's and the headings' colours

    # ---- keys -------------------------------------------------------------------------------
    def action_close(self) -> None:
        self.post_message(self.Closed())

    def action_copy(self, which: str) -> None:
        from wsdash.ui.clipboard import copy_text

        done = copy_text(self.app, self.raw_text if which == "raw" else self.norm_text)
        if done.ok:
            self.notify(f"{which} frame {done.how} (secrets redacted)")
        else:
            self.notify(f"{which} frame not copied: {done.how}", severity="error")
