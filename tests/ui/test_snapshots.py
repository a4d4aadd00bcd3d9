"""SVG snapshots of each pane and state, from deterministic inputs (recordings with fixed times,
fixed health results, fixed tier results)."""

from __future__ import annotations

from pathlib import Path


from tests.ui.helpers import DOCKER_DOWN, GOLDEN_FRAMES, LOCAL_DOWN, STAGING_UP, FixedChecker, write_recording
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings
from wsdash.services.tiers.model import TestResult, TierResult
from wsdash.services.tiers.spec import TierSpec

HEALTH = [("docker", "Docker"), ("local", "local"), ("staging", "staging")]


def tier_specs() -> list[TierSpec]:
    return [
        TierSpec.from_table({"name": "unit", "title": "Unit & configuration", "pytest": ["tests/unit/websocket/"], "target": 1.0}),
        TierSpec.from_table({"name": "staging", "title": "Staging E2E", "pytest": ["tests/e2e/staging/", "-m", "websocket"], "target": 0.95, "requires": ["staging"]}),
        TierSpec.from_table({"name": "mission-critical", "title": "Business-value protection", "pytest": ["tests/mission_critical/"], "target": 1.0}),
    ]


def failing_unit_result() -> TierResult:
    tests = [TestResult(f"tests/unit/websocket/test_events.py::test_event_{i}", "passed", duration_s=0.01) for i in range(46)]
    tests.append(TestResult("tests/unit/websocket/test_auth.py::test_subprotocol_token", "failed", duration_s=0.12,
                            message="AssertionError: expected jwt-auth.<token> to be echoed",
                            longrepr="    def test_subprotocol_token(ws):\n>       assert ws.subprotocol == 'jwt-auth.x'\nE       AssertionError: expected jwt-auth.<token> to be echoed"))
    tests.append(TestResult("tests/unit/websocket/test_auth.py::test_expired", "skipped", message="needs staging"))
    counts = {"passed": 46, "failed": 1, "skipped": 1, "xfailed": 0, "xpassed": 0, "error": 0}
    return TierResult("unit", "Unit & configuration", "pytest", "failed", 1.0, counts, 46 / 47, False, 12.4, 1, 1, 48, tests=tests, started=True)


def app_for(tmp_path: Path, frames=None, *, health=True, tiers=True, timed_out=False):
    rec = write_recording(tmp_path / "run.jsonl", frames, end_timed_out=timed_out)
    settings = AppSettings(mode="replay", replay_path=rec, replay_speed=float("inf"), title="wsdash · replay run.jsonl",
                           health_names=HEALTH if health else [], checker=FixedChecker([DOCKER_DOWN, LOCAL_DOWN, STAGING_UP]),
                           tiers=tier_specs() if tiers else None)
    return make_app(settings)


async def settled(pilot) -> None:
    app = pilot.app
    for _ in range(100):
        if app.source.results and (app.health_board is None or app.health_board.result("staging") is not None):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.3)


def test_golden_path_passed(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(app_for(tmp_path), terminal_size=(120, 40), run_before=settled)


def test_contract_violation(snap_compare, tmp_path: Path) -> None:
    frames = [f for f in GOLDEN_FRAMES if f[1]["type"] != "agent_thinking"]
    frames.insert(2, (0.9, '{"type": "agent_thinking", '))  # and a malformed frame, while the tool runs
    offsets = [at for at, _ in frames]
    assert offsets == sorted(offsets), "a recording's clock never runs backwards"
    app = app_for(tmp_path, frames)

    async def run_before(pilot) -> None:
        await settled(pilot)
        # what the screen must show, whatever the pixels: the verdict of exactly this input
        result = pilot.app.source.results[-1]
        assert [(v.code, v.event) for v in result.verdict.violations] == [("missing", "agent_thinking")]
        assert (result.frames.received, result.frames.malformed) == (6, 1)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_failing_tier_and_docker_down(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot) -> None:
        await settled(pilot)
        board = pilot.app.tier_pane.board
        result = failing_unit_result()
        board.states["unit"].result = result
        board.states["unit"].status = "failed"
        board.states["unit"].tests = result.tests
        await pilot.pause(0.3)

    assert snap_compare(app_for(tmp_path), terminal_size=(120, 40), run_before=run_before)


def test_tier_detail_failures_first(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot) -> None:
        await settled(pilot)
        board = pilot.app.tier_pane.board
        result = failing_unit_result()
        board.states["unit"].result, board.states["unit"].status, board.states["unit"].tests = result, "failed", result.tests
        board.states["unit"].version += 1
        pilot.app.screen.query_one("#tier-unit").focus()
        await pilot.press("enter")
        await pilot.pause(0.4)
        # Its rows are cut for the table's width at its 10 Hz sync; under load the last layout can
        # land after the last sync of the pause (CI once drew the names cut for a narrower table).
        pilot.app.screen.sync()
        await pilot.pause()

    assert snap_compare(app_for(tmp_path), terminal_size=(120, 40), run_before=run_before)


def test_event_inspector(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot) -> None:
        await settled(pilot)
        await pilot.press("up", "up", "enter")
        await pilot.pause(0.3)

    assert snap_compare(app_for(tmp_path, health=False, tiers=False), terminal_size=(120, 40), run_before=run_before)


def test_help_screen(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot) -> None:
        await settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)

    assert snap_compare(app_for(tmp_path, health=False, tiers=False), terminal_size=(120, 40), run_before=run_before)


def test_small_terminal_80x24(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(app_for(tmp_path), terminal_size=(80, 24), run_before=settled)
