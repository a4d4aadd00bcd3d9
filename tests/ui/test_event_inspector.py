"""The event inspector as a user meets it: a frame too big to lay out whole, and `esc` closing it
wherever focus went."""

from __future__ import annotations

from pathlib import Path

from textual.color import Color

from tests.ui.helpers import GOLDEN_FRAMES, IDS
from tests.ui.test_snapshots import app_for, settled
from wsdash.ui.widgets.event_inspector import SHOWN_LINES, shown_part


def test_a_long_text_is_shown_in_part_and_says_how_much_is_left() -> None:
    lines = [f"line {i}" for i in range(SHOWN_LINES + 1234)]
    shown = shown_part("\n".join(lines)).split("\n")
    assert shown[:SHOWN_LINES] == lines[:SHOWN_LINES]
    assert shown[SHOWN_LINES:] == ["… 1,234 more lines: c / n copies the whole frame"]
    assert shown_part("\n".join(lines[: SHOWN_LINES + 1])).endswith("… 1 more line: c / n copies the whole frame")
    whole = "\n".join(lines[:SHOWN_LINES])
    assert shown_part(whole) == whole


async def test_a_huge_frame_opens_at_once_in_part_and_copies_whole(tmp_path: Path) -> None:
    """A 40,000-row tool result: the inspector lays out its first lines, says how many it left
    out, and keeps the whole text for `c`."""
    rows = [{"id": i, "cost_usd": i * 0.01} for i in range(40_000)]
    huge = {"type": "tool_completed", **IDS, "data": {"tool_name": "cost_analyzer", "execution_id": "e1", "status": "success", "results": {"rows": rows}}}
    frames = [f if f[1]["type"] != "tool_completed" else (f[0], huge) for f in GOLDEN_FRAMES]
    app = app_for(tmp_path, frames, health=False, tiers=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        stream = app.screen.query_one("#stream")
        stream.cursor = next(i for i in range(len(app.store)) if app.store.row(i).event.type == "tool_completed")
        await pilot.press("enter")
        await pilot.pause(0.3)
        inspector = app.screen.query_one("#inspector")
        assert inspector.display
        top, body = inspector._lay_out()
        assert len(body) < 2 * SHOWN_LINES + 10  # two columns of the first lines, wrapped: not 240,000
        assert "more lines: c / n copies the whole frame" in "\n".join(strip.text for strip in body)
        assert inspector.raw_text.count('"cost_usd"') == 40_000  # what `c` copies


async def test_esc_closes_the_inspector_wherever_focus_went(tmp_path: Path) -> None:
    app = app_for(tmp_path)  # with the environment pane: tab has somewhere to go
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        dash = app.screen
        await pilot.press("up", "enter")
        await pilot.pause(0.2)
        inspector = dash.query_one("#inspector")
        assert inspector.has_focus
        await pilot.press("tab")
        await pilot.pause(0.1)
        assert not inspector.has_focus and inspector.display
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not inspector.display and dash.query_one("#stream").display and dash.query_one("#stream").has_focus


async def test_a_filter_applied_while_inspecting_shows_the_list_it_filtered(tmp_path: Path) -> None:
    """The filter box stays on screen once a filter is set, and tab reaches it from the inspector:
    enter there applies the filter to the list, so the list comes back, with focus."""
    app = app_for(tmp_path, health=False, tiers=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        dash = app.screen
        await pilot.press("slash", *"tool", "enter")  # a filter: the box stays
        await pilot.pause(0.2)
        await pilot.press("enter")  # the event under the cursor
        await pilot.pause(0.3)
        inspector, stream, box = dash.query_one("#inspector"), dash.query_one("#stream"), dash.query_one("#filter")
        assert inspector.display and box.display
        box.focus()  # where tab or a click takes a user
        await pilot.pause(0.1)
        box.value = "type:agent_completed"
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert not inspector.display and stream.display and stream.has_focus
        assert len(app.store) == 1
        assert "event #" not in str(dash.query_one("#stream-header").render())


async def test_the_inspectors_title_takes_the_new_themes_colour(tmp_path: Path) -> None:
    app = app_for(tmp_path, health=False, tiers=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        await pilot.press("up", "enter")
        await pilot.pause(0.3)
        header = app.screen.query_one("#stream-header")

        def colour() -> str:
            first = next(seg for seg in header.render_line(0) if seg.text.strip())
            return first.style.color.triplet.hex

        before = colour()
        app.theme = "textual-light"
        await pilot.pause(0.3)
        assert colour() != before and colour() == Color.parse(app.theme_variables["primary"]).hex.lower()
