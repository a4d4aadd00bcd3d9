"""Nothing out of reach at 80×24: the streamed target's card leads, every card can be scrolled to
by keyboard, the tier detail's filtered list keeps rows, and narrow windows get short labels."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.ui.helpers import DOCKER_DOWN, LOCAL_DOWN, STAGING_UP, FixedChecker, probe
from tests.ui.test_flows import until
from tests.ui.test_snapshots import app_for, failing_unit_result, settled, tier_specs
from wsdash.core.errors import ClassifiedError
from wsdash.core.protocol import GOLDEN_EVENTS
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings
from wsdash.ui.widgets.health_card import HealthCard

SMALL = (80, 24)
FAR_DOWN = probe("far", "down", latency=1.0,
                 error=ClassifiedError("refused", "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 9)", ""),
                 hint="no service is listening on 127.0.0.1:9: start it, or check the host and port")
# as `wsdash` lists them with default_target = "far": Docker, then the targets in config order
HEALTH = [("docker", "Docker"), ("local", "local"), ("staging", "staging"), ("far", "far")]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def far_app(**kw) -> object:
    settings = AppSettings(mode="live", url=f"ws://127.0.0.1:{closed_port()}/ws", health_names=HEALTH, target="far",
                           checker=FixedChecker([DOCKER_DOWN, LOCAL_DOWN, STAGING_UP, FAR_DOWN]), tiers=tier_specs(), **kw)
    return make_app(settings)


def in_view(pane, card) -> bool:
    """The whole card is inside the pane's visible rows."""
    top = pane.scroll_offset.y
    region = card.virtual_region
    return region.height > 0 and top <= region.y and region.bottom <= top + pane.scrollable_content_region.height


async def test_the_streamed_target_leads_the_environment_pane() -> None:
    app = far_app()
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: app.health_board.result("far") is not None)
        pane = app.screen.query_one("#health-pane")
        cards = list(app.screen.query(HealthCard))
        assert [c.target for c in cards] == ["far", "docker", "local", "staging"]
        assert in_view(pane, cards[0]), "the target in use is below the fold"
        text = str(cards[0].render())
        assert "far · golden path" in text and "DOWN" in text and "127.0.0.1:9" in text


async def test_every_environment_card_is_reachable_by_keyboard_at_80x24() -> None:
    app = far_app()
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: app.health_board.result("far") is not None)
        pane = app.screen.query_one("#health-pane")
        assert pane.max_scroll_y > 0  # the point of the test: the cards do not fit
        assert "more" in str(pane.border_subtitle)  # and the pane says so
        for _ in range(8):
            if app.focused is pane:
                break
            await pilot.press("tab")
        assert app.focused is pane, f"tab never reaches the environment pane (focus: {app.focused})"
        seen = set()
        for _ in range(60):
            seen |= {c.target for c in app.screen.query(HealthCard) if in_view(pane, c)}
            if pane.scroll_offset.y >= pane.max_scroll_y:
                break
            await pilot.press("down")
            await pilot.pause(0.02)
        await pilot.pause(0.2)
        seen |= {c.target for c in app.screen.query(HealthCard) if in_view(pane, c)}
        assert seen == {"far", "docker", "local", "staging"}
        assert pane.scroll_offset.y == pane.max_scroll_y and not pane.border_subtitle  # at the end: nothing more below
        await pilot.press("home")
        await pilot.pause(0.2)
        assert pane.scroll_offset.y == 0
        for _ in range(8):  # and every tier card, by tab
            await pilot.press("tab")
            if app.focused is not None and app.focused.id == "tier-staging":
                break
        assert app.focused.id == "tier-staging" and app.focused.region.height > 0


async def open_unit_detail(pilot) -> object:
    board = pilot.app.tier_pane.board
    result = failing_unit_result()
    state = board.states["unit"]
    state.result, state.status, state.tests = result, "failed", result.tests
    state.version += 1
    pilot.app.screen.query_one("#tier-unit").focus()
    await pilot.press("enter")
    await pilot.pause(0.3)
    from wsdash.ui.screens.tier_detail import TierDetailScreen

    assert isinstance(pilot.app.screen, TierDetailScreen)
    return pilot.app.screen


async def test_the_tier_detail_keeps_rows_when_filtered_at_80x24(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await settled(pilot)
        screen = await open_unit_detail(pilot)
        table = screen.query_one("#tests")
        assert table.scrollable_content_region.height - 1 >= 4  # as it opens, before any resize
        await pilot.press("slash", *"test_event_1")
        await pilot.pause(0.3)
        assert table.row_count == 11  # test_event_1, _10 … _19
        shown = table.scrollable_content_region.height - 1  # minus the header row
        assert shown >= 4, f"the filtered list shows {shown} rows"
        await pilot.press("enter")  # back to the list: the traceback of its first row
        assert "test_event_1" in str(screen.query_one("#traceback").render())
        await pilot.press("slash", *"nothing-like-this")
        await pilot.pause(0.3)
        assert table.row_count == 0
        assert "no test matches 'nothing-like-this'" in str(screen.query_one("#traceback").render())


def lines_fit(widget) -> bool:
    width = widget.size.width
    return width > 0 and all(len(line) <= width for line in widget.render().plain.split("\n"))


async def test_a_narrow_window_gets_short_labels_not_garbled_ones(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(60, 20)) as pilot:
        await settled(pilot)
        checkpoints = [app.screen.query_one(f"#cp-{name}") for name in GOLDEN_EVENTS]
        for cp in checkpoints:
            assert lines_fit(cp), (cp.id, cp.size.width, cp.render().plain)
        labels = [cp.render().plain.split("\n")[0] for cp in checkpoints]
        assert labels == ["start", "think", "tool", "result", "done"]
        assert all(cp.render().plain.split("\n")[1].startswith("●") for cp in checkpoints)
        for card in app.screen.query(HealthCard):  # the status line never wraps half a word away
            status_line = card.render().plain.split("\n")[1]
            assert len(status_line) <= card.size.width, (card.target, status_line)
    app = app_for(tmp_path)
    async with app.run_test(size=SMALL) as pilot:  # at 80 columns: a mark and a word, the offset in ms
        await settled(pilot)
        labels = [app.screen.query_one(f"#cp-{name}").render().plain for name in GOLDEN_EVENTS]
        assert labels[0].startswith("● start\n+") and labels[3].startswith("● result\n+")


async def test_texts_name_what_is_configured_not_fixed_names(tmp_path: Path) -> None:
    from wsdash.services.tiers.spec import TierSpec

    tiers = [TierSpec.from_table({"name": "smoke", "title": "Smoke", "pytest": ["tests/smoke"]})]
    app = make_app(AppSettings(mode="demo", url=f"ws://127.0.0.1:{closed_port()}/ws", tiers=tiers,
                               health_names=[("local", "demo agent server")], checker=FixedChecker([probe("local", "up")])))
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause(0.2)
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["Run all tiers"] == "Smoke (t)"
        assert commands["Recheck health"] == "Probe demo agent server now and reconnect (r)"
        words = " ".join(commands.values()).lower()
        for fixed in ("docker", "staging", "unit", "mission"):  # none is configured here
            assert fixed not in words, fixed
