"""The one screen: environment health and tiers on the left, the golden path and its events on
the right. Everything live is read on one ~10 Hz timer (no per-event refresh)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from wsdash.ui.widgets.event_stream import EventStream, header_line
from wsdash.ui.widgets.golden_path_tracker import GoldenPathTracker
from wsdash.ui.widgets.health_card import HealthCard
from wsdash.ui.widgets.key_footer import KeyFooter
from wsdash.ui.widgets.prose import prose
from wsdash.ui.widgets.refresh import flush_on_news, update_if_changed

if TYPE_CHECKING:  # imported when first needed (the warm-up): not in the first frame's start-up
    from wsdash.ui.screens.event_inspector import EventInspector

FLUSH_S = 0.1
WARM_UP_S = 1.0  # after mounting: what the first `/` and `enter` would otherwise do while a person waits


class DashboardScreen(Screen[None]):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#stream"  # focused as the screen mounts: no second footer compose after it
    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Filter the event stream by type or text"),
        Binding("escape", "back", "Back", show=False),
    ]

    def __init__(self, source: Any, health_names: list[tuple[str, str]], tier_pane: Any | None = None, *, lead: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.health_names = health_names
        self.tier_pane = tier_pane
        self.lead = lead if any(n == lead for n, _ in health_names) else None

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
                            for name, label in self.health_names:
                                if name == self.lead:
                                    yield HealthCard(name, f"{label} · golden path")
                            yield Static(id="still-works")
                            for name, label in self.health_names:
                                if name != self.lead:
                                    yield HealthCard(name, label)
                    if self.tier_pane is not None:
                        yield self.tier_pane
            with Vertical(id="right") as right:
                right.border_title = "Golden path"
                yield GoldenPathTracker(self.source, id="tracker")
                if getattr(self.app, "history_feed", None) is not None:
                    from wsdash.ui.widgets.history_strip import HistoryStrip

                    yield HistoryStrip(self.app.history_feed, id="history-strip")
                yield Static(id="stream-header")
                yield EventStream(self.source.store, clock=getattr(self.source, "clock", None), on_follow=self._stream_header, id="stream")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_interval(FLUSH_S, self.flush)
        self._quiet = flush_on_news(self.source, self.flush)
        self.flush()
        self.set_timer(WARM_UP_S, self.warm_up)

    def on_unmount(self) -> None:
        self._quiet()

    async def warm_up(self) -> None:
        """Once the dashboard is up: mount the filter box (hidden) and compose the inspector (not
        shown), so that the first `/` only shows a box and the first `enter` only lays out a
        screen. Mounting an Input restyles every widget here (its CSS is new to the app), and
        the inspector's compose and its JSON highlighter's import (pygments, in a thread) take
        ~100 ms each, mid-burst more (bench/ui.py: the first `enter` of a burst)."""
        import asyncio

        await self.prepare_filter()
        await asyncio.to_thread(warm_up_inspector)
        if self.is_attached:  # not when wsdash is quitting meanwhile
            self._inspector(compose=True)

    def on_screen_resume(self) -> None:
        self.flush()  # back from a modal: current at once, not at the next tick

    # ---- the one batched update -------------------------------------------------------------
    def flush(self) -> None:
        if self.app.screen is not self:
            # Under a modal, every change here still repaints the modal on top (Textual keeps the
            # screen below as its background): tens of ms a tick in a burst. It catches up on return.
            return
        self.query_one(GoldenPathTracker).sync()
        stream = self.query_one(EventStream)
        stream.sync()
        self._stream_header(stream)
        board = getattr(self.app, "health_board", None)
        if board is not None:
            results = []
            failing = False
            for card in self.query(HealthCard):
                result = board.result(card.target)
                failure = board.failure(card.target)
                failing = failing or failure is not None
                card.show(result, failure=failure)
                if result is not None:
                    results.append(result)
            self._below_the_fold()
            still = self.query_one("#still-works", Static)
            lines: list[str] = []
            # Not from stale results: "everything checked is up" while the checks fail would be a lie.
            if len(results) == len(self.health_names) and len(results) > 1 and not failing:
                from wsdash.services.health.check import what_still_works

                lines = what_still_works(results, self.tier_pane.board.facts() if self.tier_pane is not None else None)
            still.display = bool(lines)
            update_if_changed(still, Text("\n").join(prose(line) for line in lines))
        if self.tier_pane is not None:
            self.tier_pane.sync()

    def _stream_header(self, stream: EventStream) -> None:
        width = stream.scrollable_content_region.width
        header = header_line(width)
        if not stream.tail:
            # Over the summary column's title: after it, "end to follow" (the key that resumes)
            # was cut off at 120 columns.
            status = f"▼ {stream.new_since_pause:,} new — end to follow" if stream.new_since_pause else "‖ paused — end to follow"
            head = header.removesuffix("summary")
            header = head + status if len(head) + len(status) <= width else status
        update_if_changed(self.query_one("#stream-header", Static), header)

    def _below_the_fold(self) -> None:
        """'↓ 2 more' under the environment pane while cards are out of sight below it: a down
        target nobody scrolls to is hidden state."""
        pane = self.query_one("#health-pane", VerticalScroll)
        view_bottom = pane.scroll_offset.y + pane.scrollable_content_region.height
        hidden = sum(1 for card in pane.query(HealthCard) if card.virtual_region.bottom > view_bottom)
        subtitle = f"↓ {hidden} more · tab, ↓" if hidden else ""
        if pane.border_subtitle != subtitle:
            pane.border_subtitle = subtitle

    # ---- filter and inspect -----------------------------------------------------------------
    async def action_filter(self) -> None:
        box = await self.prepare_filter()
        box.display = True
        box.value = self.source.store.filter.text
        box.focus()

    async def prepare_filter(self) -> Input:
        """The filter box, mounted hidden when it is not there yet: not at start-up (an Input costs
        the first frame its styles, ~10 widgets' worth) but by `warm_up`, or by `/` if sooner."""
        box = self._filter_box()
        if box is None:
            box = Input(placeholder="filter: text, or type:agent_thinking,tool_executing — enter to apply, esc to clear", id="filter")
            box.display = False
            await self.query_one("#right").mount(box, before="#stream-header")
        return box

    def _filter_box(self) -> Input | None:
        boxes = self.query("#filter")
        return boxes.first(Input) if boxes else None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.source.store.set_filter(event.value)
            stream = self.query_one(EventStream)
            stream.reset()
            if not event.value:
                event.input.display = False
            stream.focus()

    def action_back(self) -> None:
        box = self._filter_box()
        if (box is not None and box.has_focus) or self.source.store.filter:
            if box is not None:
                box.value = ""
                box.display = False
            stream = self.query_one(EventStream)
            if self.source.store.filter:  # nothing was filtered (`/` then esc): the view stays as it is
                self.source.store.set_filter("")
                stream.reset()
            stream.focus()

    def on_tier_card_open(self, message: Any) -> None:
        from wsdash.ui.screens.tier_detail import TierDetailScreen

        self.app.push_screen(TierDetailScreen(self.tier_pane.board.states[message.name], self.tier_pane))

    def on_event_stream_inspect(self, message: EventStream.Inspect) -> None:
        inspector = self._inspector()
        inspector.show(message.row)
        self.app.push_screen(inspector)

    def _inspector(self, *, compose: bool = False) -> EventInspector:
        """The one inspector, installed once and shown each event in turn: a new screen per `enter`
        cost its compose, a stylesheet pass over its widgets and their removal on `esc` (~100 ms).
        `compose`: compose it now, off screen (Textual starts an installed screen's widgets only
        when it is first pushed; `_get_screen` is that step alone — Textual is pinned, and
        tests/ui/test_keys_paint.py checks the inspector is composed after the warm-up)."""
        from wsdash.ui.screens.event_inspector import EventInspector

        app = self.app
        if not app.is_screen_installed("inspector"):
            app.install_screen(EventInspector(), "inspector")
        inspector = app.get_screen("inspector")
        assert isinstance(inspector, EventInspector)
        if compose and not inspector.is_running:
            app._get_screen(inspector)
        return inspector


def warm_up_inspector() -> None:
    """Import the event inspector and its JSON highlighter (pygments' lexer) ahead of the first `enter`."""
    from rich.syntax import Syntax

    import wsdash.ui.screens.event_inspector  # noqa: F401

    Syntax("{}", "json").lexer  # noqa: B018 - looked up (and imported) on first use
