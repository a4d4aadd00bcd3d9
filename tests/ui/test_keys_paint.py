"""Keys show their effect at once, not at the screen's next tick (bench/ui.py times them in a
real terminal): the stream header when the view stops or starts following, the filter box and
the inspector made ready while the dashboard is idle."""

from __future__ import annotations

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
    for name in [m for m in sys.modules if m.startswith("wsdash.ui.screens.event_inspector")]:
        monkeypatch.delitem(sys.modules, name)
    app = make_app(live_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        dash = app.screen

        def inspector_composed() -> bool:
            return app.is_screen_installed("inspector") and bool(app.get_screen("inspector").query("#inspector-raw"))

        await until(pilot, lambda: dash.query("#filter") and inspector_composed(), timeout=20)
        assert "wsdash.ui.screens.event_inspector" in sys.modules
        assert app.screen is dash  # composed off screen: nothing was shown
        inspector = app.get_screen("inspector")
        raw = inspector.query_one("#inspector-raw")
        box = dash.query_one("#filter")
        assert not box.display  # mounted, hidden: `/` only shows it
        await pilot.press("slash")
        assert box.display and box.has_focus
        await pilot.press("escape")
        await until(pilot, lambda: len(app.source.store) > 0)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is inspector)
        assert inspector.query_one("#inspector-raw") is raw  # the warm-up's widgets, not a new compose
