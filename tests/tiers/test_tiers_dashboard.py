"""The dashboard tells the same truth: a tier run from it whose tests skip because Docker is down.

The card shows what ran next to the pass rate, the top skip reasons and what they trace to (the
health board says Docker is down); "what still works" counts the skipped tests as not validated;
the detail lists the skip groups, no_skip failures first, and enter on one shows its tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.tiers.tiers_support import CHILD_ENV, write_suite
from tests.ui.helpers import DOCKER_DOWN, LOCAL_DOWN, STAGING_UP, FixedChecker, write_recording
from tests.ui.pilot import SIZE, until
from wsdash.core.config import load_config
from wsdash.services.tiers.spec import TierSpec
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings

SUITE = {
    "conftest.py": "import pytest\n\n@pytest.fixture\ndef docker():\n    pytest.skip('Docker not available')\n",
    "test_config.py": "def test_settings():\n    pass\n",
    "test_ws.py": "import pytest\n\n@pytest.mark.parametrize('i', range(5))\ndef test_event(docker, i):\n    pass\n",
    "test_must.py": "import pytest\n\n@pytest.mark.no_skip\ndef test_golden(docker):\n    pass\n",
}


async def test_a_skipping_tier_on_the_dashboard(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", SUITE)
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    no_skip: must run\n", encoding="utf-8")
    spec = TierSpec.from_table({"name": "mission-critical", "title": "Business-value protection", "pytest": ["-p", "no:cacheprovider"],
                                "python": sys.executable, "cwd": str(root), "env": CHILD_ENV, "max_skipped": 0})
    settings = AppSettings(
        mode="replay", replay_path=write_recording(tmp_path / "run.jsonl"), replay_speed=float("inf"),
        health_names=[("docker", "Docker"), ("local", "local"), ("staging", "staging")],
        checker=FixedChecker([DOCKER_DOWN, LOCAL_DOWN, STAGING_UP]), tiers=[spec],
        config=load_config(env={}, cwd=tmp_path),
    )
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.health_board.result("docker") is not None)
        await pilot.press("t")
        await until(pilot, lambda: app.tier_pane.board.states["mission-critical"].result is not None, timeout=60)
        await pilot.pause(0.3)
        card = str(app.screen.query_one("#tier-mission-critical").render())
        assert "FAILED" in card and "1 of 7 ran · 6 skipped" in card and "target met" not in card
        assert "6 × Docker not available" in card
        assert "6 tests skipped because Docker is down (Environment: Docker ✗)" in card
        assert "1 no_skip test did not run (skipped)" in card
        still = str(app.screen.query_one("#still-works").render())
        assert "Not validated: Business-value protection — 6 of 7 tests skipped (6 × Docker not available)" in still

        app.screen.query_one("#tier-mission-critical").focus()
        await pilot.press("enter")
        from wsdash.ui.screens.tier_detail import TierDetailScreen

        await until(pilot, lambda: isinstance(app.screen, TierDetailScreen))
        await pilot.pause(0.2)
        groups = app.screen.query_one("#skip-groups")
        rows = [(str(groups.get_row_at(i)[0]), str(groups.get_row_at(i)[1]), str(groups.get_row_at(i)[2])) for i in range(groups.row_count)]
        assert rows == [("1", "no_skip tests that did not run (failures)", ""), ("6", "Docker not available", "docker")]
        tests = app.screen.query_one("#tests")
        assert tests.row_count == 7
        assert str(tests.get_row_at(0)[0]) == "skipped (no_skip)"  # sorted with the failures
        await pilot.press("g", "down", "enter")  # open the Docker group
        await until(pilot, lambda: tests.row_count == 6)
        assert {str(tests.get_row_at(i)[1]) for i in range(6)} == {f"test_ws.py::test_event[{i}]" for i in range(5)} | {"test_must.py::test_golden"}
        assert "showing one group: 6 × Docker not available" in str(app.screen.query_one("#tier-detail-summary").render())
        await pilot.press("escape")  # closes the group, not the screen
        await until(pilot, lambda: tests.row_count == 7)
        assert isinstance(app.screen, TierDetailScreen)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TierDetailScreen))
