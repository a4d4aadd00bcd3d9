"""Keys show their effect at once, not at the screen's next tick (bench/ui.py times them in a
real terminal): the stream header when the view stops or starts following, the filter box and
the inspector made ready while the dashboard is idle."""

from __future__ import annotations

from typing import Any

import wsdash.ui.screens.dashboard as dashboard
from tests.ui.test_flows import SIZE, live_settings, until
from wsdash.services.agent_server import AgentServer
from wsdash.ui.app import make_app


async def test_the_header_says_paused_and_following_without_waiting_for_a_tick(server: AgentServer, monkeypatch) -> None:
    monkeypatch.setattr(dashboard, "FLUSH_S", 3600.0)  # no tick: only the key itself can update the header
    app = make_app(live_settings(server, "burst:300"))
    async with app.run_test(size=(80, 24)) as pilot:  # the stream as narrow as a small terminal makes it
        await until(pilot, lambda: app.source.results)
        header = app.screen.query_one("#stream-header")
        app.screen.flush()  # the run's rows on screen, the header as it was
        await pilot.pause()
        assert "end to follow" not in str(header.render())
        await pilot.press("up")
        await pilot.pause()
        assert "paused — end to follow" in str(header.render())
        # Whole on the line: the key that resumes is not cut off at the pane's edge.
        assert len(str(header.render())) <= app.screen.query_one("#stream").scrollable_content_region.width
        await pilot.press("end")
        await pilot.pause()
        assert "end to follow" not in str(header.render())


async def test_the_filter_box_and_the_inspector_are_ready_before_the_first_key(server: AgentServer, monkeypatch) -> None:
    import sys

    monkeypatch.setattr(dashboard, "WARM_UP_S", 0.05)
    for name in [m for m in sys.modules if m.startswith("wsdash.ui.widgets.event_inspector")]:
        monkeypatch.delitem(sys.modules, name)
    app = make_app(live_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        dash = app.screen
        await until(pilot, lambda: dash.query("#filter") and dash.query("#inspector"), timeout=20)
        assert "wsdash.ui.widgets.event_inspector" in sys.modules
        inspector = dash.query_one("#inspector")
        assert not inspector.display  # mounted, hidden: `enter` only shows it
        box = dash.query_one("#filter")
        assert not box.display  # mounted, hidden: `/` only shows it
        await pilot.press("slash")
        assert box.display and box.has_focus
        await pilot.press("escape")
        await until(pilot, lambda: len(app.source.store) > 0)
        await pilot.press("enter")
        await until(pilot, lambda: inspector.display)
        assert dash.query("#inspector").only_one() is inspector  # the warm-up's, not a second one


# ---- the inspector: in the list's place, painted there alone ---------------------------------

async def test_enter_and_esc_paint_the_lists_place_alone(tmp_path, monkeypatch) -> None:
    """Opening and closing the inspector repaints the list's place (and the line above it), and
    the footer's keys; nothing else on screen. Three things made it repaint far more (bench/ui.py,
    `enter` and `esc`): Textual's focus change repainting the whole screen, a swap that changed
    how many widgets are laid out (which renumbers every widget's paint order, so the tracker and
    its checkpoints counted as changed), and awaiting a mount that was done (its parent repainted)."""
    from textual._compositor import Compositor
    from textual.geometry import Region

    from tests.ui.test_snapshots import app_for, settled

    app = app_for(tmp_path)  # a replay, environment cards and tiers
    monkeypatch.setattr(dashboard, "FLUSH_S", 3600.0)  # no tick ("checked 3 s ago"): what changes, the keys changed
    painted: list[Region | str] = []
    partial, full = Compositor.render_partial_update, Compositor.render_full_update

    def render_partial_update(self):
        painted.extend(self._dirty_regions)
        return partial(self)

    def render_full_update(self, simplify: bool = False):
        painted.append("the whole screen")
        return full(self, simplify)

    monkeypatch.setattr(Compositor, "render_partial_update", render_partial_update)
    monkeypatch.setattr(Compositor, "render_full_update", render_full_update)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        dash = app.screen
        await until(pilot, lambda: dash.query("#inspector"))
        await pilot.press("up")
        await pilot.pause(0.3)
        header, stream = dash.query_one("#stream-header"), dash.query_one("#stream")
        place = header.region.union(stream.region)
        footer = dash.query_one("KeyFooter").region
        for key in ("enter", "escape", "enter", "escape"):
            painted.clear()
            await pilot.press(key)
            await pilot.pause(0.3)
            assert dash.query_one("#inspector").display == (key == "enter")
            outside = [r for r in painted if isinstance(r, str) or not (place.contains_region(r) or footer.contains_region(r))]
            assert not outside, f"{key} repainted {outside} (the list's place is {place})"


def test_no_focus_rule_styles_the_list_or_the_inspector() -> None:
    """EventStream and EventInspector skip Textual's restyle on focus (`watch_has_focus`): a
    `:focus` rule for either would silently not apply. Their focused look is drawn in code."""
    import re
    from pathlib import Path

    import wsdash.ui.app as app_module

    css = (Path(app_module.__file__).parent / "app.tcss").read_text()
    for selectors in re.findall(r"([^{}]+)\{", css):
        for selector in selectors.split(","):
            if ":focus" in selector:
                assert not re.search(r"EventStream|EventInspector|#stream\b|#inspector\b", selector), selector


async def test_a_short_terminal_gives_the_inspector_the_trackers_rows_too(tmp_path) -> None:
    from tests.ui.test_snapshots import app_for, settled

    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        dash = app.screen
        tracker, stream = dash.query_one("#tracker"), dash.query_one("#stream")
        await pilot.press("up", "enter")
        await pilot.pause(0.3)
        inspector = dash.query_one("#inspector")
        assert inspector.display and not tracker.display
        assert inspector.size.height >= dashboard.INSPECTOR_MIN_ROWS
        # Narrow: the raw frame above the normalised form, not two columns of 20.
        lines = [inspector.render_line(y).text for y in range(inspector.size.height)]
        assert lines[0].startswith("raw frame") and "normalised" not in lines[0]
        await pilot.press("end")  # scrolled down to the normalised form: the fixed title says so
        await pilot.pause(0.2)
        assert inspector.render_line(0).text.startswith("normalised")
        await pilot.press("home")
        await pilot.pause(0.2)
        assert inspector.render_line(0).text.startswith("raw frame")
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert tracker.display and stream.display and not inspector.display
        # Resized while an event is open: the tracker gives way, and comes back, as it would on opening.
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert inspector.display and tracker.display
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        assert inspector.display and not tracker.display and inspector.size.height >= dashboard.INSPECTOR_MIN_ROWS
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.3)
        assert inspector.display and tracker.display and inspector.size.height >= dashboard.INSPECTOR_MIN_ROWS


async def test_the_filter_key_while_inspecting_brings_the_list_back(tmp_path) -> None:
    from tests.ui.test_snapshots import app_for, settled

    app = app_for(tmp_path, health=False, tiers=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        dash = app.screen
        await pilot.press("up", "enter")
        await pilot.pause(0.3)
        assert dash.query_one("#inspector").display
        await pilot.press("slash")
        await pilot.pause(0.2)
        box = dash.query_one("#filter")
        assert box.has_focus and dash.query_one("#stream").display and not dash.query_one("#inspector").display
        header = str(dash.query_one("#stream-header").render())
        assert "event #" not in header and "type" in header  # the list's column titles again, at its width


async def test_the_list_draws_its_cursor_where_it_is_and_as_focus_has_it(tmp_path) -> None:
    """The list keeps the rows it drew (a paused view is drawn again on every tick that brings
    news): a row is drawn anew when the cursor comes or goes, when focus leaves the list (the
    cursor is underlined then) and when the theme changes."""
    from tests.ui.test_snapshots import app_for, settled

    app = app_for(tmp_path, health=False, tiers=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        stream = app.screen.query_one("#stream")
        n = len(app.store)

        def marked(how: str) -> list[int]:
            cursor = stream._style("cursor")
            strips = [stream.render_line(y) for y in range(n)]
            return [y for y, strip in enumerate(strips) for seg in list(strip)[:1]
                    if seg.style and (seg.style.bgcolor == cursor.bgcolor if how == "focused" else seg.style.underline)]

        await pilot.press("up")
        await pilot.pause(0.2)
        assert marked("focused") == [n - 2]
        await pilot.press("up")
        await pilot.pause(0.2)
        assert marked("focused") == [n - 3]
        await pilot.press("slash")  # focus goes to the filter box
        await pilot.pause(0.2)
        assert marked("focused") == [] and marked("underlined") == [n - 3]
        await pilot.press("escape")
        await pilot.pause(0.2)
        before = stream._style("cursor").bgcolor
        app.theme = "textual-light"
        await pilot.pause(0.3)
        assert stream._style("cursor").bgcolor != before and marked("focused") == [n - 3]


async def test_a_secret_known_after_its_row_was_drawn_is_masked_there_too(tmp_path, monkeypatch) -> None:
    """The list keeps the rows it drew; a secret registered later (a token fetched on the next
    connect) must not stay on screen in a row drawn before it was known."""
    from tests.ui.test_snapshots import app_for, settled
    from wsdash.core import redact

    monkeypatch.setattr(redact, "_secrets", list(redact._secrets))  # this test's secret stays here
    app = app_for(tmp_path, health=False, tiers=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        stream = app.screen.query_one("#stream")

        def on_screen() -> str:
            return "\n".join(stream.render_line(y).text for y in range(stream.size.height))

        assert "Planning which data" in on_screen()
        redact.register_secret("Planning which data")  # the run is over: nothing new arrives
        await pilot.pause(0.4)
        assert "Planning which data" not in on_screen() and "(redacted)" in on_screen()
        # So with an event open: its text was masked when it was shown.
        await pilot.press("end", "up", "enter")  # the thinking step before the answer
        await pilot.pause(0.3)
        inspector = app.screen.query_one("#inspector")

        def inspected() -> str:
            return "\n".join(inspector.render_line(y).text for y in range(inspector.size.height))

        assert inspector.display and "Spend is up" in inspected()
        redact.register_secret("Spend is up")
        await pilot.pause(0.4)
        assert "Spend is up" not in inspected() and "(redacted)" in inspected()


async def event_opened(pilot) -> tuple[Any, Any]:
    """The replay settled and its next-to-last event opened: (tracker, inspector)."""
    from tests.ui.test_snapshots import settled

    await settled(pilot)
    dash = pilot.app.screen
    await pilot.press("up", "enter")
    await pilot.pause(0.3)
    return dash.query_one("#tracker"), dash.query_one("#inspector")


async def test_a_resize_to_another_width_measures_the_tracker_there(tmp_path) -> None:
    """The tracker is taller at 100 columns and more than at 80 (its lines wrap differently), so
    the rows it gave at one width are not what it takes back at another."""
    from tests.ui.test_snapshots import app_for

    app = app_for(tmp_path)
    async with app.run_test(size=(80, 22)) as pilot:
        tracker, inspector = await event_opened(pilot)
        assert inspector.display and not tracker.display
        for size in [(100, 25), (80, 26), (100, 29), (80, 22), (130, 40)]:
            await pilot.resize_terminal(*size)
            await pilot.pause(0.4)
            assert inspector.display, size
            assert inspector.size.height >= dashboard.INSPECTOR_MIN_ROWS, (size, tracker.display, inspector.size.height)
        assert tracker.display  # 130×40 has room for both
        # What is above grows with no resize (here by hand; live, a line that wraps, or the history
        # strip's first run): the inspector left too short gives way as on opening.
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.4)
        assert tracker.display and inspector.size.height >= dashboard.INSPECTOR_MIN_ROWS
        tracker.styles.min_height = tracker.size.height + 4
        await pilot.pause(0.4)
        assert not tracker.display and inspector.size.height >= dashboard.INSPECTOR_MIN_ROWS


async def test_a_tick_just_after_enter_leaves_the_tracker_where_opening_put_it(tmp_path) -> None:
    """The dashboard's tick can come between `enter` and the inspector's first layout, when its
    size is still the one from before it was shown (none): the tracker must not give way then."""
    from tests.ui.test_snapshots import app_for, settled
    from wsdash.ui.widgets.event_stream import EventStream

    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        dash = app.screen
        tracker = dash.query_one("#tracker")
        for _ in range(2):  # the first showing, and a later one (its size then is the last one's)
            await dash.on_event_stream_inspect(EventStream.Inspect(app.store.row(len(app.store) - 2)))
            dash.flush()
            await pilot.pause(0.3)
            inspector = dash.query_one("#inspector")
            assert inspector.display and tracker.display and inspector.size.height >= dashboard.INSPECTOR_MIN_ROWS
            await pilot.press("escape")
            await pilot.pause(0.3)
            assert tracker.display and not inspector.display


async def test_the_tracker_comes_back_when_the_run_that_pushed_it_away_is_followed_by_a_shorter_one(tmp_path) -> None:
    """A FAILED verdict's lines made the tracker give way to an open event; the next run PASSED, a
    tracker short enough to fit, but the rows noted for the FAILED one kept it away at this width
    until the event was closed."""
    from dataclasses import replace

    from tests.ui.test_snapshots import app_for
    from wsdash.core.contract import Violation

    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        tracker, inspector = await event_opened(pilot)
        assert inspector.display and tracker.display
        passed = app.source.results[-1]
        failed = replace(passed, verdict=replace(passed.verdict, ok=False, violations=[
            Violation("late", "agent_completed", f"arrived after the budget ({n})") for n in range(6)]))
        app.source.results.append(failed)
        for rows in range(40, 20, -1):  # the tallest terminal where the FAILED tracker gives way
            await pilot.resize_terminal(120, rows)
            await pilot.pause(0.3)
            if not tracker.display:
                break
        assert not tracker.display and inspector.size.height >= dashboard.INSPECTOR_MIN_ROWS, rows
        app.source.results.remove(failed)  # the next run: PASSED, seven lines shorter
        await pilot.pause(0.5)
        assert inspector.display and tracker.display, rows
        assert inspector.size.height >= dashboard.INSPECTOR_MIN_ROWS
