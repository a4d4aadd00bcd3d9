"""The dashboard as a user drives it (Pilot): real server, real recordings. The tiers on it:
test_flows_tiers.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.ui.helpers import DOCKER_DOWN, LOCAL_DOWN, STAGING_UP, FixedChecker, probe, write_recording
from tests.ui.pilot import SIZE, footer_keys, live_settings, until
from wsdash.services.agent_server import AgentServer
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings
from wsdash.core.auth import mint_token
from wsdash.core.protocol import GOLDEN_EVENTS

def checkpoint_classes(app) -> dict[str, set[str]]:
    return {name: set(app.screen.query_one(f"#cp-{name}").classes) for name in GOLDEN_EVENTS}


async def test_a_demo_run_lights_all_five(server: AgentServer) -> None:
    app = make_app(live_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        assert all("-lit" in c for c in checkpoint_classes(app).values())
        verdict = app.screen.query_one("#verdict")
        assert "-passed" in verdict.classes and "PASSED" in str(verdict.render())
        assert "+" in str(app.screen.query_one("#cp-agent_completed").render())  # its offset


async def test_a_missing_event_shows_that_violation(server: AgentServer) -> None:
    app = make_app(live_settings(server, "missing:agent_thinking"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        verdict = str(app.screen.query_one("#verdict").render())
        assert "FAILED" in verdict and "missing [agent_thinking]" in verdict
        assert "-missed" in checkpoint_classes(app)["agent_thinking"]
        assert "-lit" in checkpoint_classes(app)["agent_completed"]


async def test_g_runs_another_golden_path(server: AgentServer) -> None:
    app = make_app(live_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.source.results) == 1)
        await pilot.press("g")
        await until(pilot, lambda: len(app.source.results) == 2)
        assert app.source.status.runs == 2


async def test_filter_and_inspector(server: AgentServer) -> None:
    app = make_app(live_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        await pilot.press("slash")
        box = app.screen.query_one("#filter")
        assert box.has_focus
        box.value = "type:tool_executing"
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.store.shown == 1 and app.store.received >= 7
        assert "filter: type:tool_executing" in str(app.screen.query_one("#connection").render())
        await pilot.press("enter")  # inspect the one event left
        await pilot.pause(0.1)
        inspector, stream = app.screen.query_one("#inspector"), app.screen.query_one("#stream")
        # In the list's place, its title in the list's header line; the tracker stays.
        assert inspector.display and inspector.has_focus and not stream.display
        assert app.screen.query_one("#tracker").display
        assert "tool_executing" in str(app.screen.query_one("#stream-header").render())
        assert "cost_analyzer" in inspector.raw_text and '"execution_id"' in inspector.norm_text
        await pilot.press("escape")  # closes the inspector: the list is back, the filter still on
        await pilot.pause(0.1)
        assert stream.display and stream.has_focus and not inspector.display and app.store.shown == 1
        await pilot.press("escape")  # clears the filter
        await pilot.pause(0.2)
        assert app.store.shown == app.store.received
        # One inspector shown each event in turn: the next `enter` shows the next event, not the last one.
        await pilot.press("enter")  # the newest: agent_completed
        await pilot.pause(0.2)
        assert inspector.display
        assert "agent_completed" in str(app.screen.query_one("#stream-header").render())
        assert "agent_completed" in inspector.raw_text and "cost_analyzer" not in inspector.raw_text
        shown = "\n".join(strip.text for strip in (inspector.render_line(y) for y in range(inspector.size.height)))
        assert "raw frame" in shown and "agent_completed" in shown and "tool_executing" not in shown
        await pilot.press("q")  # q closes it too (and does not quit)
        await pilot.pause(0.1)
        assert stream.display and app.is_running


async def test_tail_pauses_when_scrolling_up_and_counts_new(server: AgentServer) -> None:
    app = make_app(live_settings(server, "burst:300"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        stream = app.screen.query_one("#stream")
        await pilot.press("up", "up")
        assert not stream.tail
        await pilot.press("g")
        await until(pilot, lambda: len(app.source.results) == 2)
        assert stream.new_since_pause > 300
        assert "new — end to follow" in str(app.screen.query_one("#stream-header").render())
        await pilot.press("end")
        assert stream.tail and stream.new_since_pause == 0


async def test_the_stream_keeps_following_when_a_burst_overflows_it_at_once(server: AgentServer) -> None:
    app = make_app(live_settings(server, "burst:3000"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results, timeout=60)
        stream = app.screen.query_one("#stream")
        assert stream.tail, "the stream paused by itself"
        await pilot.resize_terminal(120, 24)  # the end moves, the reader did nothing
        await pilot.pause(0.3)
        assert stream.scroll_offset.y == stream.max_scroll_y  # the newest row still in sight, nothing new needed
        await pilot.press("d", "escape", "g")  # and a modal comes and goes while a burst arrives
        await until(pilot, lambda: len(app.source.results) == 2, timeout=60)
        stream = app.screen.query_one("#stream")
        assert stream.tail, "the stream paused by itself"
        assert stream.scroll_offset.y == stream.max_scroll_y > 0
        assert stream.cursor == len(app.store) - 1
        assert "paused" not in str(app.screen.query_one("#stream-header").render())


async def test_burst_keeps_keys_answered_and_memory_bounded(server: AgentServer) -> None:
    app = make_app(live_settings(server, "burst:30000", capacity=2000))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.store.received > 1000)
        await pilot.press("question_mark")  # answered while the burst is still arriving
        from wsdash.ui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await until(pilot, lambda: app.source.results, timeout=60)
        assert app.store.received == 30005 and app.store.shown == 2000 and app.store.dropped == 30005 - 2000
        assert app.source.results[-1].ok


async def test_health_cards_show_error_and_hint(server: AgentServer) -> None:
    settings = live_settings(server, health_names=[("docker", "Docker"), ("local", "local"), ("staging", "staging")],
                             checker=FixedChecker([DOCKER_DOWN, LOCAL_DOWN, STAGING_UP]))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.health_board.result("staging") is not None)
        docker = app.screen.query_one("#health-docker")
        assert "-down" in docker.classes and "Docker Desktop is not running" in str(docker.render())
        assert "-up" in app.screen.query_one("#health-staging").classes


async def test_replay_plays_pauses_and_changes_speed(tmp_path: Path) -> None:
    rec = write_recording(tmp_path / "run.jsonl")
    app = make_app(AppSettings(mode="replay", replay_path=rec, replay_speed=1.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        assert app.source.status.state == "paused"
        await pilot.pause(0.3)
        assert not app.source.results
        await pilot.press("s", "s")  # ×10, then as fast as possible
        assert app.source.speed == float("inf")
        await pilot.press("space")
        await until(pilot, lambda: app.source.results)
        assert app.source.results[-1].ok and "-passed" in app.screen.query_one("#verdict").classes
        await pilot.press("g")  # play again
        await until(pilot, lambda: len(app.source.results) == 2)
        assert not app.screen.query("#left")  # no health, no tiers: the events get the whole width
        assert {"r", "t"}.isdisjoint(footer_keys(app))  # nothing to recheck, no tiers to run


async def test_a_failing_worker_is_a_modal_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not a recording\n", encoding="utf-8")
    app = make_app(AppSettings(mode="replay", replay_path=bad))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        from wsdash.ui.screens.error_screen import ErrorScreen

        assert isinstance(app.screen, ErrorScreen)
        assert "not a wsdash recording" in str(app.screen.query("Static")[1].render())
        await pilot.press("escape")
        assert app.is_running


async def test_refused_target_shows_backoff_and_hint() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(AppSettings(mode="live", url=f"ws://127.0.0.1:{port}/ws"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.status.state == "backoff")
        text = str(app.screen.query_one("#connection").render())
        assert "reconnecting in " in text and "· attempt 2 (r: now)" in text and f"no service is listening on 127.0.0.1:{port}" in text
        await pilot.press("g")  # not queued to fire whenever the server comes back: said, and dropped
        await until(pilot, lambda: any("not connected" in n.message for n in app._notifications))
        assert not app.source.run_requested


async def test_help_debug_and_palette_commands(server: AgentServer) -> None:
    app = make_app(live_settings(server))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        from wsdash.ui.screens.debug_info import DebugInfoScreen

        assert isinstance(app.screen, DebugInfoScreen)
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Run a golden path" in titles and "Recheck health" in titles and "Debug info" in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"Filter events")
        await until(pilot, lambda: any(c.option_count for c in app.screen.query("CommandList")))  # the search has answered
        await pilot.press("enter")
        await until(pilot, lambda: app.focused is not None and app.focused.id == "filter")  # the palette opens the filter box


async def test_runs_are_recorded_and_replay_the_same(server: AgentServer, tmp_path: Path) -> None:
    from wsdash.core.recording import replay

    app = make_app(live_settings(server, record_dir=tmp_path / "runs"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        assert "recorded to" in str(app.screen.query_one("#connection").render())
    files = list((tmp_path / "runs").glob("run-*.jsonl"))
    assert len(files) == 1
    live, replayed = app.source.results[-1].to_json(), replay(files[0]).to_json()
    assert replayed["violations"] == live["violations"] == [] and replayed["frames"] == live["frames"]
    assert SECRET not in files[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("scenario, code", [("drop", 1006), ("close:1011", 1011)])
async def test_a_connection_lost_mid_run_is_judged_like_the_headless_run(server: AgentServer, scenario: str, code: int) -> None:
    from wsdash.services.session.handshake import SessionOptions
    from wsdash.services.session.once import run_golden_path

    app = make_app(live_settings(server, scenario))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        live = app.source.results[0].to_json()
        assert "closed" in str(app.screen.query_one("#verdict").render())
    headless = (await run_golden_path(SessionOptions(url=f"{server.url}?scenario={scenario}", token=mint_token(SECRET)))).to_json()
    assert live["close"]["code"] == headless["close"]["code"] == code
    assert live["error"]["kind"] == headless["error"]["kind"] == "closed"
    assert live["violations"] == headless["violations"]


async def test_a_paused_stream_holds_still_when_the_ring_buffer_is_full(server: AgentServer) -> None:
    app = make_app(live_settings(server, "burst:400", capacity=600))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        stream = app.screen.query_one("#stream")
        await pilot.press("home", *["pagedown"] * 15)  # paused, reading around row 300
        await pilot.pause(0.2)
        top, cursor = app.store.row(stream.scroll_offset.y).seq, app.store.row(stream.cursor).seq
        await pilot.press("g")  # 405 more while paused: the ring (600) drops the oldest ~210 rows
        await until(pilot, lambda: len(app.source.results) == 2)
        assert not stream.tail and app.store.dropped > 0
        assert app.store.row(stream.scroll_offset.y).seq == top  # the same rows stay on screen
        assert app.store.row(stream.cursor).seq == cursor


async def test_an_unwritable_record_dir_is_told_and_the_run_goes_on(server: AgentServer, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    app = make_app(live_settings(server, record_dir=blocker / "runs"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        assert app.source.results[-1].ok and app.source.status.runs == 1
        assert any("cannot record to" in str(n.message) for n in app._notifications)


async def test_a_disk_that_fills_up_mid_run_is_told_once_and_the_run_goes_on(server: AgentServer, tmp_path: Path, monkeypatch) -> None:
    import errno
    import os

    from wsdash.core import recording

    class FullDisk:  # the header fits, then no space: the recorder's timer thread meets the error
        closed = False

        def __init__(self) -> None:
            self.size = 0

        def write(self, b) -> int:
            if self.size:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.size = len(b)
            return len(b)

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(recording, "open_private", lambda path, mode, **kw: FullDisk())
    # In this process: the patch cannot reach a stream worker. The worker's way of telling the
    # screen is the same `tell` (test_an_unwritable_record_dir_is_told_and_the_run_goes_on).
    app = make_app(live_settings(server, "burst:2000", record_dir=tmp_path / "runs", stream_worker=False))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        assert app.source.results[-1].ok and app.source.results[-1].frames.received == 2004  # established came before the run
        await until(pilot, lambda: any("stopped" in str(n.message) for n in app._notifications))
        told = [str(n.message) for n in app._notifications if "stopped" in str(n.message)]
        assert len(told) == 1 and os.strerror(errno.ENOSPC) in told[0] and "goes on" in told[0]
        assert "recorded to" not in str(app.screen.query_one("#connection").render())


async def test_f2_saves_a_plainly_named_screenshot_without_the_token(server: AgentServer, tmp_path: Path, monkeypatch) -> None:
    token = mint_token(SECRET)
    monkeypatch.chdir(tmp_path)
    app = make_app(AppSettings(mode="demo", url=f"{server.url}?scenario=golden", token_source=lambda: token, autorun=True))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        await pilot.press("f2")
        await until(pilot, lambda: list(tmp_path.glob("*.svg")))
    [shot] = list(tmp_path.glob("*.svg"))
    assert shot.name.startswith("wsdash-demo-") and shot.name.isascii() and " " not in shot.name
    assert sys.platform == "win32" or shot.stat().st_mode & 0o077 == 0  # the screen can show what a user would not share
    text = shot.read_text(encoding="utf-8")
    assert "PASSED" in text.replace("&#160;", " ") and token not in text and token[-20:] not in text


async def test_the_history_strip_shows_earlier_runs_at_once_and_w_runs_on_a_schedule(server: AgentServer, tmp_path: Path) -> None:
    """Runs from the history are on the strip as the dashboard opens; the dashboard's own runs go
    to the history; w starts a golden path every interval and stops."""
    import time as _time

    from wsdash.core.config import HistoryConfig
    from wsdash.core.history import History
    from wsdash.core.run_record import RunRecord

    path = tmp_path / "h.sqlite3"
    now = _time.time()
    with History(path) as db:
        for i, verdict in enumerate(["passed", "passed", "failed", "passed"]):
            db.add_run(RunRecord(started_at=now - 3600 + i, target="local", url="ws://x/ws", source="watch", verdict=verdict,
                                 completed=verdict == "passed", first_event_ms=50.0 + i, total_ms=300.0 + i))
        db.add_run(RunRecord(started_at=now, target="staging", url="ws://y/ws", source="watch", verdict="failed"))
    settings = live_settings(server)
    settings.autorun = False
    settings.history, settings.history_target, settings.auto_run_every_s = HistoryConfig(path=str(path)), "local", 0.5
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        strip = app.screen.query_one("#history-strip")
        await until(pilot, lambda: "✓✓✗✓" in str(strip.render()))
        text = str(strip.render())
        assert "3/4 passed" in text and "p50 52 ms" in text  # staging's run is not local's
        await until(pilot, lambda: app.source.status.state == "connected")
        await pilot.press("w")
        await until(pilot, lambda: len(app.source.results) >= 2, timeout=20)
        assert "auto-run every 0.5 s" in str(strip.render())
        await pilot.press("w")
        await until(pilot, lambda: app.source.run is None)
        done = len(app.source.results)
        await pilot.pause(1.5)
        assert len(app.source.results) == done  # off means off
        await until(pilot, lambda: len(app.history_feed.records) == 4 + done)
    with History(path) as db:
        mine = [r for r in db.runs("local") if r.source == "demo"]
    assert len(mine) == done and all(r.ok for r in mine)


async def test_refused_hint_names_the_target_that_is_up() -> None:
    """The golden path's connection hint knows only its own target; the board knows staging is up
    and the hint says so (never "use staging" when staging is down or unknown)."""
    import socket

    with socket.socket() as s:  # a port nothing listens on: the dashboard's connects are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    names = [("local", "local"), ("staging", "staging")]

    async def hint_with(results: list) -> str:
        app = make_app(AppSettings(mode="live", url=f"ws://127.0.0.1:{port}/ws", target="local", health_names=names,
                                   checker=FixedChecker(results), stream_worker=False))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.health_board.result("local") is not None and app.source.status.error is not None)
            await pilot.pause(0.3)
            return str(app.screen.query_one("#connection").render())

    assert "the staging target is up (--target staging)" in await hint_with([LOCAL_DOWN, STAGING_UP])
    staging_down = probe("staging", "down", hint="staging is down")
    assert "no other configured target is up" in await hint_with([LOCAL_DOWN, staging_down])
