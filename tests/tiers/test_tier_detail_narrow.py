"""The tier detail at 80 columns: long node ids that share a prefix stay told apart (the shared
part said once, in the header; a still-long name loses its middle, never the part that differs),
and so do similar skip reasons. A real pytest run from the dashboard."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.tiers.test_tiers_dashboard import until
from tests.tiers.tiers_support import CHILD_ENV, write_suite
from tests.ui.helpers import DOCKER_DOWN, LOCAL_DOWN, STAGING_UP, FixedChecker, write_recording
from wsdash.core.config import load_config
from wsdash.services.tiers.spec import TierSpec
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings
from wsdash.ui.widgets.distinct import cut, fit_distinct, shared_prefix

LONG = "test_connection_established_arrives_before_any_agent_event_and_carries_the_"
SUITE = {"tests/e2e/test_golden_path.py": (
    "import pytest\n\nclass TestGoldenPath:\n"
    + "".join(f"    def {LONG}{what}(self):\n        assert False, 'no {what}'\n" for what in ("user_id", "run_id"))
    + f"    def {LONG}thread_id(self):\n        pass\n"
    + "".join(f"    @pytest.mark.skip(reason='requires the staging backend with a valid token and the e2e bypass key configured for {w} run')\n"
              f"    def {LONG}{w}_skip(self):\n        pass\n" for w in ("this", "that"))
)}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_long_node_ids_stay_distinguishable(tmp_path: Path, size: tuple[int, int]) -> None:
    root = write_suite(tmp_path / "s", SUITE)
    spec = TierSpec.from_table({"name": "e2e", "title": "E2E", "pytest": ["-p", "no:cacheprovider", "tests/e2e"],
                                "python": sys.executable, "cwd": str(root), "env": CHILD_ENV, "target": 0.5})
    app = make_app(AppSettings(
        mode="replay", replay_path=write_recording(tmp_path / "run.jsonl"), replay_speed=float("inf"),
        health_names=[("docker", "Docker"), ("local", "local"), ("staging", "staging")],
        checker=FixedChecker([DOCKER_DOWN, LOCAL_DOWN, STAGING_UP]), tiers=[spec], config=load_config(env={}, cwd=tmp_path)))
    async with app.run_test(size=size) as pilot:
        await pilot.press("t")
        await until(pilot, lambda: app.tier_pane.board.states["e2e"].result is not None)
        app.screen.query_one("#tier-e2e").focus()
        await pilot.press("enter")
        from wsdash.ui.screens.tier_detail import TierDetailScreen

        await until(pilot, lambda: isinstance(app.screen, TierDetailScreen))
        await pilot.pause(0.5)
        tests = app.screen.query_one("#tests")
        names = [str(tests.get_row_at(i)[1]) for i in range(tests.row_count)]
        assert len(names) == 5 and len(set(names)) == 5, names
        # The failures (listed first) end with what tells them apart, and the row fits: no sideways scroll.
        assert sorted(n[-7:] for n in names[:2]) == ["_run_id", "user_id"], names
        assert tests.virtual_size.width <= tests.scrollable_content_region.width, (tests.virtual_size, tests.scrollable_content_region)
        header = str(tests.ordered_columns[1].label)
        assert "TestGoldenPath::" in header and header.startswith("test · in ")  # the shared part, once
        groups = app.screen.query_one("#skip-groups")
        reasons = [str(groups.get_row_at(i)[1]) for i in range(groups.row_count)]
        assert len(set(reasons)) == 2 and {r[-8:] for r in reasons} == {"this run", "that run"}, reasons
        assert groups.virtual_size.width <= groups.scrollable_content_region.width
        assert str(groups.ordered_columns[2].label) == "traced to"


def test_the_cut_keeps_where_texts_differ() -> None:
    ids = [f"tests/e2e/test_golden_path.py::TestGoldenPath::{LONG}{w}" for w in ("user_id", "run_id")]
    assert shared_prefix(ids) == "tests/e2e/test_golden_path.py::TestGoldenPath::"
    assert shared_prefix(ids[:1]) == ""  # one test: nothing to factor out
    short = fit_distinct([i[len(shared_prefix(ids)):] for i in ids], 40)
    assert all(len(s) == 40 for s in short) and short[0].endswith("user_id") and short[1].endswith("run_id")
    mid = fit_distinct(["test_x[a-long-parameter-1-then-more-and-more-and-more]", "test_x[a-long-parameter-2-then-more-and-more-and-more]"], 24)
    assert mid[0] != mid[1] and all(len(m) == 24 for m in mid), mid  # a difference in the middle stays in sight
    assert cut("short", 40) == "short"


def test_prose_keeps_its_start_unless_the_difference_is_further_on() -> None:
    one = "requires the staging backend with a valid token and the e2e bypass key configured for this run"
    assert fit_distinct([one], 30, start_first=True) == [one[:29] + "…"]  # alone: it reads from its start
    two = fit_distinct([one, one.replace("this run", "that run")], 40, start_first=True)
    assert two[0].startswith("requires") and two[0].endswith("this run") and two[1].endswith("that run")
    assert fit_distinct(["Docker not available", "Docker not running"], 60, start_first=True) == ["Docker not available", "Docker not running"]


async def test_the_cards_skip_reasons_stay_told_apart(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", SUITE)
    spec = TierSpec.from_table({"name": "e2e", "title": "E2E", "pytest": ["-p", "no:cacheprovider", "tests/e2e"],
                                "python": sys.executable, "cwd": str(root), "env": CHILD_ENV, "target": 0.5})
    app = make_app(AppSettings(
        mode="replay", replay_path=write_recording(tmp_path / "run.jsonl"), replay_speed=float("inf"),
        health_names=[("docker", "Docker")], checker=FixedChecker([DOCKER_DOWN]), tiers=[spec],
        config=load_config(env={}, cwd=tmp_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await until(pilot, lambda: app.tier_pane.board.states["e2e"].result is not None)
        await pilot.pause(0.3)
        card = " ".join(app.screen.query_one("#tier-e2e").render().plain.split())
        assert "configured for this run" in card and "configured for that run" in card, card
