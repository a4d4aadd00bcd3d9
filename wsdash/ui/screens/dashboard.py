"""The one screen: environment health and tiers on the left, the golden path and its events on
the right. Everything live is read on one ~10 Hz timer (no per-event refresh)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Input, Static

from wsdash.ui.widgets.event_stream import EventStream, header_line
from wsdash.ui.widgets.golden_path_tracker import GoldenPathTracker
from wsdash.ui.widgets.health_card import HealthCard
from wsdash.ui.widgets.key_footer import KeyFooter
from wsdash.ui.widgets.prose import prose
from wsdash.ui.widgets.refresh import flush_on_news, update_if_changed

if TYPE_CHECKING:  # imported when first needed (the warm-up): not in the first frame's start-up
    from wsdash.ui.widgets.event_inspector import EventInspector
    from wsdash.ui.widgets.history_strip import HistoryStrip

FLUSH_S = 0.1
INSPECTOR_MIN_ROWS = 12  # fewer rows where the list is, and the inspector takes the tracker's too
WARM_UP_S = 1.0  # after mounting: what the first `/` and `enter` would otherwise do while a person waits


class DashboardScreen(Screen[None]):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#stream"  # focused as the screen mounts: no second footer compose after it
    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Filter the event stream by type or text"),
        Binding("escape", "back", "Back", show=False),
    ]
    # Textual's Screen repaints the whole terminal whenever focus moves (its `focused` reactive
    # repaints by default), on top of restyling the two widgets whose focus changed, which is all
    # that looks different: 15-40 ms per `/`, `enter` and `esc` here, for nothing.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self, source: Any, health_names: list[tuple[str, str]], tier_pane: Any | None = None, *, lead: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.health_names = health_names
        self.tier_pane = tier_pane
        self.lead = lead if any(n == lead for n, _ in health_names) else None
        # Held, not queried: a DOM query walks the tree and matches selectors, ~0.3 ms each, and
        # the tick and the keys asked for these a dozen times.
        self._tracker = GoldenPathTracker(source, id="tracker")
        self._header_line = Static(id="stream-header", markup=False)  # the inspector's title there is the server's text
        self._stream = EventStream(source.store, clock=getattr(source, "clock", None), on_follow=self._stream_header, id="stream")
        self._still_works = Static(id="still-works")
        self._cards: list[HealthCard] = []
        self._health_pane: VerticalScroll | None = None
        self._history_strip: HistoryStrip | None = None
        self._filter: Input | None = None
        self._inspector_widget: EventInspector | None = None
        # Rows the tracker (and history strip) gave the inspector on a short terminal, by screen
        # width: their lines wrap, so at another width they take another number of rows back.
        self._given_rows: dict[int, int] = {}

    def compose(self) -> ComposeResult:
        # The breakpoint class the first resize would add, added before the widgets take their
        # styles: a class change on the screen restyles every widget on it (33 of them).
        width = self.app.size.width
        names = [name for _, name in self.HORIZONTAL_BREAKPOINTS]
        wanted = next((name for edge, name in reversed(self.HORIZONTAL_BREAKPOINTS) if width >= edge), names[0])
        self.update_classes({name: name == wanted for name in names}, update=False)
        yield Header()
        with Horizontal(id="main"):
            if self.health_names or self.tier_pane is not None:  # a replay alone: the events get the width
                with Vertical(id="left"):
                    if self.health_names:
                        # Focusable: tab reaches it and the arrows scroll it, so a card below the
                        # fold (long hints at 80×24) is never out of reach.
                        with VerticalScroll(id="health-pane") as health:
                            health.border_title = "Environment"
                            # The target streamed here first: it explains the golden-path pane. Then
                            # what to do (it matters more than the details), then Docker and the rest.
                            self._health_pane = health
                            self._cards = [HealthCard(name, f"{label} · golden path") for name, label in self.health_names if name == self.lead]
                            self._cards += [HealthCard(name, label) for name, label in self.health_names if name != self.lead]
                            yield from self._cards[:1 if self.lead else 0]
                            yield self._still_works
                            yield from self._cards[1 if self.lead else 0:]
                    if self.tier_pane is not None:
                        yield self.tier_pane
            with Vertical(id="right") as right:
                right.border_title = "Golden path"
                yield self._tracker
                if getattr(self.app, "history_feed", None) is not None:
                    from wsdash.ui.widgets.history_strip import HistoryStrip

                    self._history_strip = HistoryStrip(self.app.history_feed, id="history-strip")
                    yield self._history_strip
                yield self._header_line
                yield self._stream
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_interval(FLUSH_S, self.flush)
        self._quiet = flush_on_news(self.source, self.flush)
        self.flush()
        self.set_timer(WARM_UP_S, self.warm_up)

    def on_unmount(self) -> None:
        self._quiet()

    async def warm_up(self) -> None:
        """Once the dashboard is up: mount the filter box and the inspector (both hidden), so
        that the first `/` and the first `enter` only show them. Mounting an Input restyles every
        widget here (its CSS is new to the app), and the JSON highlighter's import (pygments,
        in a thread) took ~100 ms, mid-burst more (bench/ui.py: the first `enter` of a burst)."""
        import asyncio

        await self.prepare_filter()
        await asyncio.to_thread(warm_up_inspector)
        if self.is_attached:  # not when wsdash is quitting meanwhile
            await self._inspector()

    def on_screen_resume(self) -> None:
        self.flush()  # back from a modal: current at once, not at the next tick

    # ---- the one batched update -------------------------------------------------------------
    def flush(self) -> None:
        if self.app.screen is not self:
            # Under a modal, every change here still repaints the modal on top (Textual keeps the
            # screen below as its background): tens of ms a tick in a burst. It catches up on return.
            return
        shape = self._tracker.lines
        self._tracker.sync()
        if self._tracker.lines != shape and self._given_rows:
            self._tracker_reshaped()
        stream = self._stream
        stream.sync()
        inspector = self._inspecting()
        if inspector is not None:
            inspector.mask_new_secrets()
        self._stream_header(stream)
        board = getattr(self.app, "health_board", None)
        if board is not None:
            results = []
            failing = False
            for card in self._cards:
                result = board.result(card.target)
                failure = board.failure(card.target)
                failing = failing or failure is not None
                card.show(result, failure=failure)
                if result is not None:
                    results.append(result)
            self._below_the_fold()
            still = self._still_works
            lines: list[str] = []
            # Not from stale results: "everything checked is up" while the checks fail would be a lie.
            if len(results) == len(self.health_names) and len(results) > 1 and not failing:
                from wsdash.services.health.check import what_still_works

                lines = what_still_works(results, self.tier_pane.board.facts() if self.tier_pane is not None else None)
            still.display = bool(lines)
            update_if_changed(still, Text("\n").join(prose(line) for line in lines))
        if self.tier_pane is not None:
            self.tier_pane.sync()

    def _stream_header(self, stream: EventStream, width: int | None = None) -> None:
        """The line above the list: its column titles and whether it follows; the inspected
        event's title while the inspector is in the list's place. `width`: the list's, when it is
        not laid out yet (it reads 0 while hidden)."""
        line = self._header_line
        inspector = self._inspecting()
        if inspector is not None:
            # In the theme's primary colour, not by a class: a class change restyles the line.
            update_if_changed(line, Text(inspector.title_text, style=self.app.theme_variables["primary"]))
            return
        width = width or stream.scrollable_content_region.width
        header = header_line(width)
        if not stream.tail:
            # Over the summary column's title: after it, "end to follow" (the key that resumes)
            # was cut off at 120 columns.
            status = f"▼ {stream.new_since_pause:,} new — end to follow" if stream.new_since_pause else "‖ paused — end to follow"
            head = header.removesuffix("summary")
            header = head + status if len(head) + len(status) <= width else status
        update_if_changed(line, header)

    def _below_the_fold(self) -> None:
        """'↓ 2 more' under the environment pane while cards are out of sight below it: a down
        target nobody scrolls to is hidden state."""
        pane = self._health_pane
        if pane is None:
            return
        view_bottom = pane.scroll_offset.y + pane.scrollable_content_region.height
        hidden = sum(1 for card in self._cards if card.virtual_region.bottom > view_bottom)
        subtitle = f"↓ {hidden} more · tab, ↓" if hidden else ""
        if pane.border_subtitle != subtitle:
            pane.border_subtitle = subtitle

    # ---- filter and inspect -----------------------------------------------------------------
    async def action_filter(self) -> None:
        self._close_inspector()  # the filter acts on the list: show it
        box = await self.prepare_filter()
        box.display = True
        box.value = self.source.store.filter.text
        box.focus()

    async def prepare_filter(self) -> Input:
        """The filter box, mounted hidden when it is not there yet: not at start-up (an Input costs
        the first frame its styles, ~10 widgets' worth) but by `warm_up`, or by `/` if sooner."""
        if self._filter is None:
            self._filter = Input(placeholder="filter: text, or type:agent_thinking,tool_executing — enter to apply, esc to clear", id="filter")
            self._filter.display = False
            await self.query_one("#right").mount(self._filter, before=self._header_line)
        return self._filter

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self._close_inspector()  # tab reaches the box while an event is open: show the list it filters
            self.source.store.set_filter(event.value)
            self._stream.reset()
            if not event.value:
                event.input.display = False
            self._stream.focus()

    def action_back(self) -> None:
        if self._inspecting() is not None:  # focus moved on (tab): esc still closes it first
            self._close_inspector()
            return
        box = self._filter
        if (box is not None and box.has_focus) or self.source.store.filter:
            if box is not None:
                box.value = ""
                box.display = False
            if self.source.store.filter:  # nothing was filtered (`/` then esc): the view stays as it is
                self.source.store.set_filter("")
                self._stream.reset()
            self._stream.focus()

    def on_tier_card_open(self, message: Any) -> None:
        from wsdash.ui.screens.tier_detail import TierDetailScreen

        self.app.push_screen(TierDetailScreen(self.tier_pane.board.states[message.name], self.tier_pane))

    async def on_event_stream_inspect(self, message: EventStream.Inspect) -> None:
        inspector = await self._inspector()
        inspector.show(message.row, place_width=self._stream.outer_size.width)
        # In the list's place, under the tracker (which stays live), with the list's header line
        # for its title. One widget for one: Textual numbers every widget's paint order by its
        # place among all the widgets laid out, so a swap that changed their count would repaint
        # every widget above too (the tracker and its five checkpoints: ~half the cost of `enter`).
        stream = self._stream
        if stream.size.height < INSPECTOR_MIN_ROWS:
            # A short terminal (80×24 leaves the list 7 rows): the tracker gives way too, and
            # comes back with the list. Everything is laid out and painted again; small, though.
            self._give_way()
        stream.display = False
        inspector.display = True
        inspector.focus()
        self._stream_header(stream)

    def on_event_inspector_closed(self, message: Any) -> None:
        self._close_inspector()

    def on_event_inspector_resized(self, message: Any) -> None:
        """What sits above grew with no resize (a line wrapped, the history strip's first run) and
        left the inspector too few rows: it gives way, as opening would. Judged on its laid-out
        size: a tick's look just after `enter` saw the size from before it was shown."""
        inspector = self._inspecting()
        if inspector is not None and self._tracker.display and inspector.size.height < INSPECTOR_MIN_ROWS:
            self._give_way()

    def _inspecting(self) -> EventInspector | None:
        inspector = self._inspector_widget
        return inspector if inspector is not None and inspector.display else None

    def _close_inspector(self) -> None:
        inspector = self._inspecting()
        if inspector is None:
            return
        inspector.display = False
        self._above_the_list(hidden=False)
        self._stream.display = True
        self._stream.focus()
        # The list's width is the inspector's (same place, same scrollbar gutter).
        self._stream_header(self._stream, inspector.scrollable_content_region.width)

    def on_resize(self, _event: Any) -> None:
        if self._inspecting() is not None:
            self.call_after_refresh(self._fit_inspector)

    def _fit_inspector(self) -> None:
        """The terminal resized while an event is open: the tracker gives way, or comes back, as
        opening the event at this size would have had it."""
        inspector = self._inspecting()
        if inspector is None:
            return
        if self._tracker.display:
            if inspector.size.height < INSPECTOR_MIN_ROWS:
                self._give_way()
            return
        given = self._given_rows.get(self.size.width)
        if given is None or inspector.size.height - given >= INSPECTOR_MIN_ROWS:
            # Back, and checked once laid out: not measured at this width, or measured with other
            # content (lines come and go), it may not fit after all. Then it gives way again: one
            # frame of a resize, which repaints everything anyway.
            self._above_the_list(hidden=False)
            self.call_after_refresh(self._fit_inspector)

    def _tracker_reshaped(self) -> None:
        """The tracker gained or lost lines (a failed run's violations, a connection error): the
        rows it gave at each width were measured with other content. Forget them; if it is away
        for an open event, see whether it fits now (a FAILED gave way, a PASSED has room)."""
        self._given_rows.clear()
        if self._inspecting() is not None and not self._tracker.display:
            self._fit_inspector()

    def _give_way(self) -> None:
        """Hide what sits above the list, noting the rows that gives (margins and all) at this
        width: what a resize must leave for them to come back."""
        below = self._filter if self._filter is not None and self._filter.display else self._header_line
        self._given_rows[self.size.width] = below.region.y - self._tracker.region.y
        self._above_the_list(hidden=True)

    def _above_the_list(self, *, hidden: bool) -> None:
        if self._tracker.display == hidden:  # set alike, `display` still repaints the tracker
            self._tracker.display = not hidden
        if self._history_strip is not None:
            self._history_strip.give_way(hidden)

    async def _inspector(self) -> EventInspector:
        """The one inspector, mounted hidden after the event list (by the warm-up, or by the first
        `enter` if sooner) and shown each event in turn."""
        if self._inspector_widget is None:
            from wsdash.ui.widgets.event_inspector import EventInspector

            self._inspector_widget = EventInspector(id="inspector")
            self._inspector_widget.display = False
            self._inspector_mounted = self.query_one("#right").mount(self._inspector_widget)
        if not self._inspector_widget.is_mounted:
            # An `enter` during the warm-up's mount waits for it. Not once mounted: awaiting a
            # mount repaints the whole parent pane (tracker and all) again.
            await self._inspector_mounted
        return self._inspector_widget


def warm_up_inspector() -> None:
    """Import the event inspector and its JSON highlighter (pygments' lexer) ahead of the first `enter`."""
    from rich.syntax import Syntax

    import wsdash.ui.widgets.event_inspector  # noqa: F401

    Syntax("{}", "json").lexer  # noqa: B018 - looked up (and imported) on first use
