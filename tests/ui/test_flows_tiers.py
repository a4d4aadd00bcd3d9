"""The tiers on the dashboard as a user drives them (Pilot, real pytest runs): a run updates its
card and its detail, the footer offers the keys that work now and fits the width, a tier whose
target is down is blocked."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.ui.helpers import DOCKER_DOWN, LOCAL_DOWN, FixedChecker
from tests.ui.pilot import SIZE, footer_keys, live_settings, until
from wsdash.services.agent_server import AgentServer
from wsdash.services.tiers.spec import TierSpec
from wsdash.ui.app import make_app


def make_suite(tmp_path: Path) -> TierSpec:
    (tmp_path / "test_mix.py").write_text(
        "import pytest\n"
        "def test_ok(): pass\n"
        "def test_broken(): assert 1 + 1 == 3, 'arithmetic is off'\n"
        "@pytest.mark.skip(reason='not today')\n"
        "def test_skipped(): pass\n"
        "@pytest.mark.parametrize('n', [1, 2, 3])\n"
        "def test_param(n): assert n\n", encoding="utf-8")
    return TierSpec.from_table({"name": "unit", "title": "Unit & configuration", "pytest": [str(tmp_path), "-q", "-p", "no:cacheprovider"],
                                "python": sys.executable, "target": 1.0, "cwd": str(tmp_path)})


async def test_a_tier_run_updates_its_card_and_detail(server: AgentServer, tmp_path: Path) -> None:
    app = make_app(live_settings(server, tiers=[make_suite(tmp_path)]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("t")
        await until(pilot, lambda: app.tier_pane.board.states["unit"].result is not None, timeout=60)
        card = app.screen.query_one("#tier-unit")
        text = str(card.render())
        assert "-failed" in card.classes
        assert "4 passed" in text and "1 failed" in text and "1 skip" in text and "target missed" in text
        card.focus()
        await pilot.press("enter")
        await pilot.pause(0.3)
        from wsdash.ui.screens.tier_detail import TierDetailScreen

        assert isinstance(app.screen, TierDetailScreen)
        table = app.screen.query_one("#tests")
        assert "test_broken" in str(table.get_row_at(0)[1])  # failures first
        ids = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert any(i.endswith("test_param[2]") for i in ids)  # parametrized ids are text, not markup
        assert "arithmetic is off" in str(app.screen.query_one("#traceback").render())
        await pilot.press("ctrl+p", *"Filter events")  # the palette's filter works here too (the tier's own)
        await until(pilot, lambda: any(c.option_count for c in app.screen.query("CommandList")))
        await pilot.press("enter")
        await until(pilot, lambda: app.focused is not None and app.focused.id == "tier-filter")
        await pilot.press("enter")  # an empty filter: back to the table
        assert isinstance(app.screen, TierDetailScreen)
        await pilot.press("f")  # rerun failed, from the open tier: only test_broken runs
        await until(pilot, lambda: not app.tier_pane.running and app.tier_pane.board.states["unit"].result.only_nodeids, timeout=60)
        assert app.tier_pane.board.states["unit"].result.counts["failed"] == 1
        assert sum(app.tier_pane.board.states["unit"].result.counts.values()) == 1


async def test_the_footer_offers_the_keys_that_work_now(server: AgentServer, tmp_path: Path) -> None:
    (tmp_path / "test_slow.py").write_text("import time\ndef test_slow(): time.sleep(1.5)\n", encoding="utf-8")
    spec = TierSpec.from_table({"name": "unit", "title": "Unit", "pytest": [str(tmp_path), "-q", "-p", "no:cacheprovider"],
                                "python": sys.executable, "cwd": str(tmp_path)})
    app = make_app(live_settings(server, tiers=[spec]))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "t" in footer_keys(app))
        assert {"q", "question_mark", "g", "slash"} <= footer_keys(app) and "x" not in footer_keys(app)
        await pilot.press("t")
        await until(pilot, lambda: "x" in footer_keys(app), timeout=30)  # cancel replaces run while it runs
        assert "t" not in footer_keys(app)
        await until(pilot, lambda: not app.tier_pane.running, timeout=60)
        await until(pilot, lambda: "t" in footer_keys(app) and "x" not in footer_keys(app))


@pytest.mark.parametrize("width, expected", [
    (120, {"end", "enter", "slash", "q", "question_mark", "g", "r", "t", "p", "d", "ctrl+p"}),  # f2 gives way first
    (80, {"end", "enter", "slash", "q", "question_mark", "g", "r", "t"}),  # d, p and the palette give way
    (50, {"end", "enter", "q", "question_mark", "g"}),  # ... then the filter
    (35, {"end", "q", "question_mark"}),  # then from the right, but `?` always stays
])
async def test_the_footer_fits_the_terminal_width(server: AgentServer, tmp_path: Path, width: int, expected: set[str]) -> None:
    app = make_app(live_settings(server, tiers=[make_suite(tmp_path)]))
    async with app.run_test(size=(width, 30)) as pilot:
        await until(pilot, lambda: "question_mark" in footer_keys(app))
        assert footer_keys(app) == expected
        from textual.widgets._footer import FooterKey

        keys = list(app.screen.query(FooterKey))
        assert max(k.region.right for k in keys) <= width  # nothing cut at the edge
        await pilot.press("d")  # a key left out of the footer still works
        from wsdash.ui.screens.debug_info import DebugInfoScreen

        await until(pilot, lambda: isinstance(app.screen, DebugInfoScreen))


async def test_a_tier_that_requires_a_down_target_is_blocked(server: AgentServer, tmp_path: Path) -> None:
    make_suite(tmp_path)
    spec = TierSpec.from_table({"name": "staging", "title": "Staging E2E", "pytest": [str(tmp_path), "-q"],
                                "python": sys.executable, "target": 0.95, "requires": ["local"]})
    settings = live_settings(server, tiers=[spec], health_names=[("docker", "Docker"), ("local", "local")],
                             checker=FixedChecker([DOCKER_DOWN, LOCAL_DOWN]))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.health_board.result("local") is not None)
        await pilot.press("t")
        await until(pilot, lambda: app.tier_pane.board.states["staging"].result is not None)
        card_text = str(app.screen.query_one("#tier-staging").render())
        assert "BLOCKED" in card_text and "local" in card_text
