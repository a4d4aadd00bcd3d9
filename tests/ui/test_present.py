"""The presentation view as a presenter drives it: a real server, real runs, a real recording."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.helpers import write_recording
from tests.ui.test_flows import live_settings, until
from wsdash.core.protocol import GOLDEN_EVENTS
from wsdash.services.agent_server import AgentServer
from wsdash.services.tiers.spec import TierSpec
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings
from wsdash.ui.screens.present import PresentScreen


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def three_tiers(tmp_path: Path) -> list[TierSpec]:
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n")
    return [TierSpec.from_table({"name": n, "title": t, "pytest": [str(tmp_path / "test_ok.py"), "-q", "-p", "no:cacheprovider"],
                                 "target": target}) for n, t, target in
            [("unit", "Unit & configuration", 1.0), ("staging", "Staging E2E", 0.95), ("mission", "Mission-critical", 1.0)]]


def in_view(app, selector: str) -> bool:
    region = app.screen.query_one(selector).region
    return region.height > 0 and region.bottom <= app.size.height and region.right <= app.size.width


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_p_shows_the_run_in_plain_words_and_g_runs_it_again(server: AgentServer, tmp_path: Path, size) -> None:
    app = make_app(live_settings(server, tiers=three_tiers(tmp_path)))
    async with app.run_test(size=size) as pilot:
        await pilot.press("p")
        assert isinstance(app.screen, PresentScreen)
        await until(pilot, lambda: app.source.results)
        assert text(app, "#present-verdict").startswith("✔  Chat works end to end — all five steps in ")
        lines = [text(app, f"#pc-{name}") for name in GOLDEN_EVENTS]
        assert lines[0].startswith("✔  The agent started on your request (supervisor agent) · +")
        assert "It is using a tool: cost analyzer" in lines[2]
        assert lines[4].startswith("✔  The answer is ready · ") and "+" not in lines[4]  # the total, not an offset
        assert "{" not in "".join(lines) and "agent_started" not in "".join(lines)  # no JSON, no wire names
        # Everything a room needs is on the screen, also at 80×24.
        for selector in ("#present-verdict", *(f"#pc-{n}" for n in GOLDEN_EVENTS), "#tile-unit", "#tile-staging", "#tile-mission"):
            assert in_view(app, selector), selector
        assert "not run yet" in text(app, "#tile-unit")
        await pilot.press("t")
        await until(pilot, lambda: all("-passed" in app.screen.query_one(f"#tile-{n}").classes for n in ("unit", "staging", "mission")), timeout=60)
        assert "100 %" in text(app, "#tile-staging") and "target 95 %" in text(app, "#tile-staging")
        await pilot.press("g")
        await until(pilot, lambda: len(app.source.results) == 2)
        assert isinstance(app.screen, PresentScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, PresentScreen)
        await pilot.press("p")
        assert isinstance(app.screen, PresentScreen)
        await pilot.press("p")
        assert not isinstance(app.screen, PresentScreen)


async def test_what_broke_is_one_sentence(server: AgentServer) -> None:
    app = make_app(live_settings(server, "missing:tool_completed", present=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.source.results)
        verdict = text(app, "#present-verdict")
        assert verdict.startswith("✗  Chat is broken — “The tool answers” never happened")
        assert "-missed" in app.screen.query_one("#pc-tool_completed").classes
        assert "never happened" in text(app, "#pc-tool_completed")


async def test_nested_agents_are_steps_of_their_parent(server: AgentServer) -> None:
    app = make_app(live_settings(server, "nested", present=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.source.results)
        steps = text(app, "#present-steps-text").splitlines()
        handover = next(i for i, s in enumerate(steps) if "hands the task to triage agent" in s)
        assert not steps[handover].startswith(" ")  # the parent's own step
        inner = steps[handover + 1:]
        assert inner and inner[0].startswith("   └ ")  # the sub-agent's steps, one level in
        assert any("Triage agent is done" in s and s.startswith("   └ ") for s in inner)
        assert steps[-1].startswith("The answer is ready")
        await pilot.press("p")  # and the event stream shows the same nesting
        await pilot.pause(0.3)
        rows = [app.source.store.row(i) for i in range(len(app.source.store))]
        triage = [r for r in rows if r.event.agent_name == "triage_agent"]
        assert len(triage) >= 3 and all(r.depth == 1 for r in triage)
        assert all(r.depth == 0 for r in rows if r.event.agent_name == "supervisor_agent")


async def test_a_replay_presents_the_recordings_own_timings(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "run.jsonl")
    app = make_app(AppSettings(mode="replay", replay_path=path, replay_speed=float("inf"), present=True))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.source.results)
        assert isinstance(app.screen, PresentScreen)
        assert text(app, "#present-verdict") == "✔  Chat works end to end — all five steps in 1.66 s"
        assert text(app, "#pc-agent_started") == "✔  The agent started on your request (supervisor agent) · +0.05 s"
        assert text(app, "#pc-tool_completed").startswith("✔  The tool answered: cost analyzer after 0.42 s · +1.02 s")
        assert not app.screen.query("#present-tiles")  # a replay has no tiers to show


@pytest.mark.parametrize("present", [False, True])
async def test_the_grace_before_the_verdict_says_what_it_waits_for(server: AgentServer, present: bool) -> None:
    # All five lit and "RUNNING" (or "working on the request") for half a second reads as a hang.
    app = make_app(live_settings(server, present=present))
    selector = "#present-verdict" if present else "#verdict"
    seen: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        async def verdict() -> str:
            await pilot.pause(0.02)
            return text(app, selector)

        while not (app.source.run is not None and app.source.run.contract.done):
            assert not app.source.results, "the run ended before its grace was seen"
            await pilot.pause(0.01)
        seen.append(await verdict())
        await until(pilot, lambda: app.source.results)
        seen.append(await verdict())
    if present:
        assert seen[0] == "The agent has answered — checking for late events …"
        assert seen[1].startswith("✔  Chat works end to end")
    else:
        assert seen[0].startswith("COMPLETED  listening 0.5 s for late frames, then the verdict · run 1 · ")
        assert seen[1].startswith("PASSED")
