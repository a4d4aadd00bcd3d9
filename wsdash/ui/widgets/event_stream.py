"""The event firehose: a virtual list over the core's ring buffer, drawn line by line.

Only visible lines are rendered, so the rate of events does not matter; the screen calls
`sync()` on its timer. Tail mode follows new events until you scroll or move up, then
counts "N new" until you press end.
"""

from __future__ import annotations

import time
from typing import Callable

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wsdash.core.event_store import EventStore, Row
from wsdash.core.redact import scrub, secrets_known
from wsdash.core.protocol import GOLDEN, MALFORMED, UNKNOWN

TYPE_W, AGENT_W, TOOL_W = 17, 18, 14  # "supervisor_agent" whole
FIXED_W = 13 + 9 + TYPE_W + AGENT_W
NARROW_W = 13 + TYPE_W
WIDE = 110  # below this the tool name moves into the summary column
ROOMY = 76  # below this the offset and agent columns give way to the summary
DRAWN_KEPT = 2000  # drawn rows kept: many screens' worth; a burst's rows are drawn once and dropped


def wall_clock() -> Callable[[float], str]:
    """monotonic seconds → local wall-clock time HH:MM:SS.mmm."""
    offset = time.time() - time.monotonic()

    def label(t: float) -> str:
        wall = t + offset
        return time.strftime("%H:%M:%S", time.localtime(wall)) + f".{int((wall % 1) * 1000):03d}"

    return label


class EventStream(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "event-stream--cursor", "event-stream--time", "event-stream--golden", "event-stream--other",
        "event-stream--error", "event-stream--unknown", "event-stream--malformed", "event-stream--dim",
        "event-stream--header",
    }
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-20)", "Page up", show=False),
        Binding("pagedown", "cursor(20)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "follow", "Follow", tooltip="Jump to the newest event and follow (tail mode)"),
        Binding("enter", "inspect", "Inspect", tooltip="Open the selected event's raw and normalised frame"),
    ]

    class Inspect(Message):
        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    # repaint=False: moving the cursor redraws its old and new line (watch_cursor), not the whole
    # view — every visible row drawn again made an arrow key cost 25–40 ms at idle (bench/ui.py).
    cursor: reactive[int] = reactive(-1, always_update=True, repaint=False)

    def __init__(self, store: EventStore, *, clock: Callable[[float], str] | None = None,
                 on_follow: Callable[[EventStream], None] | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        # Called as the view stops or starts following the newest event, so the header says so in
        # the frame that moves the cursor: a message would be handled after that frame was drawn,
        # and its header painted one frame (~25 ms) later (bench/ui.py, `↑` and `end`).
        self._on_follow = on_follow
        self.tail = True
        self.new_since_pause = 0
        self._paused_at_received = 0
        self._version = -1
        self._clock = clock or wall_clock()
        self._styles: dict[str, Style] = {}
        self._anchor: tuple[int, int | None] | None = None  # (top row seq, cursor seq) while paused
        self._tail_y: int | None = None  # where following left the view at the last sync
        self._base = Style()  # set by render_lines for the lines it draws
        self._width = 0
        # Drawn rows by (seq, width, cursor, focus): a paused view is drawn again on every tick
        # that brings new events (its rows unchanged), and again as the inspector gives it its place back.
        self._drawn: dict[tuple[int, int, bool, bool], Strip] = {}
        self._secrets = secrets_known()

    # ---- data -------------------------------------------------------------------------------
    def sync(self) -> None:
        """Take in whatever the store gained since the last call (called on the screen's timer)."""
        store = self.store
        if store.version == self._version:
            if secrets_known() != self._secrets:
                self.refresh()  # rows kept from before a new secret was known: drawn again, masked
            return
        self._version = store.version
        # Moved away from the end since the last sync (the scrollbar dragged): stop following.
        # Judged against where that sync left the view, not by geometry: a resize moves the end
        # without the reader doing anything.
        y = self.scroll_offset.y
        if self.tail and self._tail_y is not None and y != self._tail_y and y < self.max_scroll_y - 1:
            self._pause()
        self.virtual_size = Size(self.size.width, len(store))
        if self.tail:
            self._to_end()
        else:
            self.new_since_pause = store.received - self._paused_at_received
            # Hold on to what is on screen by sequence number: once the ring buffer is full every
            # new event drops the oldest row and would shift the view under the reader.
            if self._anchor is not None:
                top_seq, cursor_seq = self._anchor
                top = store.index_of_seq(top_seq)
                self.set_scroll(None, top if top is not None else 0)
                at = store.index_of_seq(cursor_seq) if cursor_seq is not None else None
                self.cursor = at if at is not None else 0
        self._remember()
        self.refresh()

    def _remember(self) -> None:
        """Note which rows are on screen (by sequence number) for the next sync to keep them."""
        n = len(self.store)
        if self.tail or not n:
            self._anchor = None
            return
        top = self.store.row(min(self.scroll_offset.y, n - 1)).seq
        cursor = self.store.row(self.cursor).seq if 0 <= self.cursor < n else None
        self._anchor = (top, cursor)

    def _to_end(self) -> None:
        self.cursor = len(self.store) - 1
        # force: the scrollbar that allows scrolling appears only at the next layout, and a burst
        # that overflows the view in one tick would otherwise leave it at the top.
        self.scroll_end(animate=False, immediate=True, force=True)
        self._tail_y = self.scroll_offset.y

    def _pause(self) -> None:
        if self.tail:
            self.tail = False
            self._paused_at_received = self.store.received
            self.new_since_pause = 0
            self._follow_changed()

    def reset(self) -> None:
        self._version = -1
        self._tail_y = None
        self.tail = True
        self.new_since_pause = 0
        self.sync()

    def watch_cursor(self, old: int, new: int) -> None:
        for y in {old, new}:
            if y >= 0:
                self.refresh_line(y)

    # ---- keys -------------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        n = len(self.store)
        if not n:
            return
        new = max(0, min(n - 1, (self.cursor if self.cursor >= 0 else n - 1) + delta))
        if delta < 0:
            self._pause()
        self.cursor = new
        if new == n - 1 and delta > 0:
            self.action_follow()
            return
        self.scroll_to_region_cursor()

    def scroll_to_region_cursor(self) -> None:
        y = self.cursor
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        if y < top:
            self.scroll_to(y=y, animate=False, force=True)
        elif y >= top + height:
            self.scroll_to(y=y - height + 1, animate=False, force=True)
        self.call_after_refresh(self._remember)

    def action_first(self) -> None:
        self._pause()
        self.cursor = 0
        self.scroll_home(animate=False, force=True)
        self.call_after_refresh(self._remember)

    def action_follow(self) -> None:
        was_following = self.tail
        self.tail = True
        self.new_since_pause = 0
        self._to_end()
        if not was_following:
            self._follow_changed()

    def _follow_changed(self) -> None:
        if self._on_follow is not None:
            self._on_follow(self)

    def action_inspect(self) -> None:
        if 0 <= self.cursor < len(self.store):
            self.post_message(self.Inspect(self.store.row(self.cursor)))

    def _on_mouse_scroll_up(self, event: object) -> None:
        self._pause()

    def on_resize(self) -> None:
        # The view shrank (a hint line above it, a smaller terminal) with nothing new to sync:
        # following means the newest rows stay in sight.
        if self.tail:
            self.call_after_refresh(self._to_end)

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if y is not None:
            index = self.scroll_offset.y + int(y)
            if 0 <= index < len(self.store):
                if index != len(self.store) - 1:
                    self._pause()
                self.cursor = index
                self._remember()

    # ---- drawing ----------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        # Looked up once per theme, not per drawn line: render_line runs for every visible row.
        style = self._styles.get(name)
        if style is None:
            s = self.get_component_rich_style(f"event-stream--{name}")
            # Foreground and attributes only: the background stays the widget's (or the cursor's).
            style = Style(bgcolor=s.bgcolor, color=s.color) if name == "cursor" else Style(color=s.color, bold=s.bold, italic=s.italic)
            self._styles[name] = style
        return style

    def watch_has_focus(self, _has_focus: bool) -> None:
        # Textual restyles a widget as it gains or loses focus. No `:focus` rule styles this one
        # (tests/ui/test_keys_paint.py holds app.tcss to that), and the cursor's look is drawn
        # from `has_focus`: the restyle (nine component classes) was ~8 ms of every `enter` and
        # `esc`. Its lines are drawn again as Textual's `_on_focus`/`_on_blur` refresh it.
        pass

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # a theme change or a CSS reload
        self._drawn.clear()

    def _kind_style(self, row: Row) -> Style:
        e = row.event
        if e.kind == MALFORMED:
            return self._style("malformed")
        if e.is_error:
            return self._style("error")
        if e.kind == UNKNOWN:
            return self._style("unknown")
        return self._style("golden" if e.kind == GOLDEN else "other")

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's style, once per drawing rather than per line: `rich_style` walks the
        # ancestors' styles, and was 40 % of a line's cost in a burst, when every visible line is new.
        base = self.rich_style
        secrets = secrets_known()
        if base != self._base or secrets != self._secrets:
            self._drawn.clear()  # a new style, or a row drawn before its secret was known
        self._base, self._secrets = base, secrets
        self._width = self.scrollable_content_region.width
        if len(self._drawn) > DRAWN_KEPT:
            self._drawn.clear()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._width
        index = self.scroll_offset.y + y
        if index >= len(self.store):
            return Strip.blank(width, self._base)
        row = self.store.row(index)
        cursor = index == self.cursor
        key = (row.seq, width, cursor, cursor and self.has_focus)
        strip = self._drawn.get(key)
        if strip is None:
            strip = self._drawn[key] = self._draw(row, width, cursor)
        return strip

    def _draw(self, row: Row, width: int, cursor: bool) -> Strip:
        e = row.event
        wide = width >= WIDE
        roomy = width >= ROOMY
        clock = self._clock(e.received)
        offset = f"+{row.offset * 1000:.0f}ms" if row.offset is not None else ""
        tool = e.tool_name or ""
        rest = max(10, width - (FIXED_W if roomy else NARROW_W) - (TOOL_W if wide else 0))
        dim = self._style("dim")
        segments = [Segment(f"{clock} ", self._style("time"))]
        if roomy:
            segments.append(Segment(f"{offset:>8} ", dim))
        segments.append(Segment(column(e.type, TYPE_W), self._kind_style(row)))
        if roomy:
            # A sub-agent's events sit under its parent's: "└ triage_agent", one step in per level.
            agent = e.agent_name or ""
            if row.depth and agent:
                agent = "  " * (row.depth - 1) + "└ " + agent
            segments.append(Segment(column(agent, AGENT_W)))
        if wide:
            segments.append(Segment(column(tool, TOOL_W), dim))
        elif tool:
            prefix = column(tool, min(len(tool), rest - 8) + 1).rstrip() + ": "  # the tool first, then what it did
            segments.append(Segment(prefix, dim))
            rest -= len(prefix)
        # Server text is drawn only for visible lines, so scrubbing it here costs nothing at any rate.
        segments.append(Segment(scrub(e.summary(max(2, rest)))))
        if cursor:
            marked = self._style("cursor") if self.has_focus else Style(underline=True)
            segments = [Segment(text, (style or Style()) + marked) for text, style, _ in segments]
        return Strip(segments).adjust_cell_length(width).apply_style(self._base)


def column(text: str, width: int) -> str:
    """`text` in a column of `width` cells with one space after it: cut with "…" when longer."""
    if len(text) < width:
        return f"{text:<{width}}"
    return text[: width - 2] + "… " if width >= 2 else " " * max(0, width)


def header_line(width: int) -> str:
    """The column titles above the stream, matching render_line's layout at `width`."""
    if width < ROOMY:
        return f"{'time':<13}{'type':<{TYPE_W}}summary"
    head = f"{'time':<13}{'offset':>8} {'type':<{TYPE_W}}{'agent':<{AGENT_W}}"
    return head + (f"{'tool':<{TOOL_W}}summary" if width >= WIDE else "summary")
