"""The dashboard's stream worker (services/session/worker.py, remote.py): the live session in a
process of its own. What a user must never notice: a run is judged and recorded exactly as before,
the worker ends with the dashboard however it ends, and a worker that dies is said and replaced.
Real worker processes against the embedded server; the dashboard's endings on a real terminal are
in tests/core/test_recording_signals.py."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.ui.test_flows import SIZE, live_settings, until
from wsdash.core.auth import TokenError, mint_token
from wsdash.services.agent_server import AgentServer
from wsdash.core.judged_run import Run
from wsdash.services.session import wire
from wsdash.services.session.handshake import SessionOptions
from wsdash.services.session.live import LiveSession
from wsdash.services.session.remote import RemoteSession, detached
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings
from wsdash.ui.widgets.event_stream import EventStream


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_the_session_runs_in_a_worker_and_is_judged_as_before(server: AgentServer) -> None:
    app = make_app(live_settings(server, "nested"))
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.source, RemoteSession)
        await until(pilot, lambda: app.source.results)
        pid = app.source.pid
        assert pid is not None and pid != os.getpid()
        result = app.source.results[-1]
        assert result.ok and app.store.received == result.frames.received + 1  # connection_established came before the run
        # The rows came over the pipe as text and are parsed when read: nesting kept.
        rows = [app.store.row(i) for i in range(len(app.store))]
        assert [r.event.type for r in rows][-1] == "agent_completed" and max(r.depth for r in rows) >= 1
        assert "PASSED" in str(app.screen.query_one("#verdict").render())
    assert await _reaped(pid)


async def _reaped(pid: int) -> bool:
    import asyncio

    for _ in range(100):
        if gone(pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_quitting_mid_run_judges_the_run_closes_its_recording_and_ends_the_worker(server: AgentServer, tmp_path: Path) -> None:
    app = make_app(live_settings(server, "stall", record_dir=tmp_path / "runs"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.run is not None and app.source.run.frames.received >= 3)
        pid = app.source.pid
        assert not app.source.results
    # `q`: the run in progress is finished (judged: it stalled before completing) and reaches the history's last look
    [result] = app.source.results
    assert not result.ok and result.verdict.checkpoints.get("agent_started") is not None
    assert await _reaped(pid)
    [rec] = list((tmp_path / "runs").glob("run-*.jsonl"))
    records = [json.loads(line) for line in rec.read_text(encoding="utf-8").splitlines()]
    assert records[-1]["k"] == "end" and sum(r["k"] == "recv" for r in records) >= result.frames.received


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("name", "said"), [("SIGKILL", "ended unexpectedly (exit code -9)"), ("SIGTERM", "was stopped from outside")])
async def test_a_worker_that_dies_is_said_and_started_again(server: AgentServer, name: str, said: str, tmp_path: Path) -> None:
    app = make_app(live_settings(server, record_dir=tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.results)
        first = app.source.pid
        os.kill(first, getattr(signal, name))
        await until(pilot, lambda: any(said in str(n.message) for n in app._notifications))
        await until(pilot, lambda: app.source.pid != first and app.source.status.state == "connected", timeout=20)
        await pilot.press("g")
        await until(pilot, lambda: len(app.source.results) == 2, timeout=20)
        assert app.source.results[-1].ok
        # The new worker numbers on from the first one's rows: the list keys what it has drawn, and
        # where a paused reader is, by row number, and a number seen twice drew the first run's rows
        # (their times, their types) in the second run's place.
        store = app.store
        seqs = [store.row(i).seq for i in range(len(store))]
        assert seqs == sorted(set(seqs)) and store.received == seqs[-1]
        await pilot.pause()
        stream = app.screen.query_one(EventStream)
        top = stream.scroll_offset.y
        for y in range(min(stream.size.height, len(store) - top)):
            row = store.row(top + y)
            assert stream.render_line(y).text.startswith(stream._clock(row.event.received)), (y, row.event.type)
        # And its runs: the second run is run 2 (the tracker's "RUNNING run N"), in its rows and in its recording's
        # name (not a second "run 1" beside the first's).
        assert app.source.status.runs == 2 and store.row(len(store) - 1).run == 2
        assert sorted(p.name.rsplit("-", 1)[1] for p in tmp_path.glob("run-*.jsonl")) == ["1.jsonl", "2.jsonl"]


async def test_the_token_comes_from_the_dashboard_and_a_failing_source_is_retried(server: AgentServer) -> None:
    calls: list[int] = []

    def token() -> str:
        calls.append(os.getpid())
        if len(calls) == 1:
            raise TokenError("the secret file /x/secret was removed")
        return mint_token(SECRET)

    app = make_app(AppSettings(mode="demo", url=f"{server.url}?scenario=golden", token_source=token, autorun=True))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source.status.error is not None and "secret file" in app.source.status.error.message)
        await until(pilot, lambda: app.source.results, timeout=20)  # the next attempt got a token and ran
        assert app.source.results[-1].ok and set(calls) == {os.getpid()}  # called here, never in the worker


def test_the_worker_is_detached_from_the_terminals_signals(monkeypatch) -> None:
    assert detached() == ({"start_new_session": True} if os.name == "posix" else {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP})
    monkeypatch.setattr(os, "name", "nt")  # Windows: a process group of its own, so Ctrl+C/Ctrl+Break reach the dashboard only
    assert detached() == {"creationflags": 0x200}


async def test_a_checkpoint_and_the_verdict_are_shown_when_they_come_not_at_the_next_tick(server: AgentServer, monkeypatch) -> None:
    # No tick at all: only the worker's news (a checkpoint reached, a run finished) can update the
    # screen. A person sees the verdict the moment it is decided (bench/ui.py: up to 0.1 s sooner).
    import wsdash.ui.screens.dashboard as dashboard

    monkeypatch.setattr(dashboard, "FLUSH_S", 3600.0)
    app = make_app(live_settings(server, "nested"))
    async with app.run_test(size=SIZE) as pilot:
        verdict = app.screen.query_one("#verdict")
        await until(pilot, lambda: "PASSED" in str(verdict.render()), timeout=20)
        assert "● completed" in str(app.screen.query_one("#cp-agent_completed").render())


def test_a_remote_session_offers_everything_a_live_session_does() -> None:
    # RemoteSession stands in for LiveSession by hand (the screens read either, and the tests of
    # the screens mostly run the worker): a member added to one only breaks the dashboard in the
    # other mode. The same for what a screen reads of the running run: RunView stands in for Run.
    def public(thing: object) -> set[str]:
        return {name for name in dir(thing) if not name.startswith("_")}

    opts = SessionOptions(url="ws://127.0.0.1:9/ws")
    missing = public(LiveSession(opts, lambda: None)) - public(RemoteSession(opts, lambda: None))
    assert not missing, f"RemoteSession lacks {sorted(missing)}"
    run = Run(opts.url)
    view = {f.name for f in dataclasses.fields(wire.RunView)}
    assert view <= public(run)
    assert {f.name for f in dataclasses.fields(wire.ContractView)} <= public(run.contract)
    assert callable(run.rows.rows) and callable(wire.RowsView([]).rows)


async def test_the_workers_recordings_mask_the_dashboards_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream worker records, in its own process: it must know what the dashboard knows is secret.
    An opaque token the server echoes back ("rejected credentials: Bearer …") was written in full,
    as was a secret the dashboard had registered before the worker started (found by a review)."""
    import asyncio
    import websockets

    from wsdash.core import redact
    from wsdash.core.auth import resolve_token

    monkeypatch.setattr(redact, "_secrets", list(redact._secrets))  # this test's secrets stay in this test
    token, known = "OpaqueApiKey-5f3a9c", "e2e-bypass-7d1e44"
    redact.register_secret(known)

    async def handler(ws):  # type: ignore[no-untyped-def]
        auth = ws.request.headers.get("Authorization", "")
        await ws.send(json.dumps({"type": "connection_established"}))
        async for _ in ws:
            await ws.send(json.dumps({"type": "error", "message": f"rejected credentials: {auth}; key {known}"}))
            await ws.send(json.dumps({"type": "agent_completed"}))

    folder = tmp_path / "runs"
    folder.mkdir()
    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        # The token is resolved (and registered, here) only when the worker asks for it, after it started:
        # it reaches the worker with the answer; `known` was registered before, and goes with the start.
        session = RemoteSession(SessionOptions(url=f"ws://127.0.0.1:{port}/ws", auth="header", timeout_s=5, grace_s=0.1),
                                lambda: resolve_token(token=token), record_dir=folder, autorun=True)
        task = asyncio.create_task(session.run_forever())
        try:
            for _ in range(200):
                await asyncio.sleep(0.05)
                if session.results:
                    break
        finally:
            session.stop()
            await session.closed()
            task.cancel()
    [rec] = list(folder.glob("*.jsonl"))
    text = rec.read_text(encoding="utf-8")
    assert "rejected credentials" in text, text[-1500:]  # the frame was recorded...
    assert token not in text and known not in text, text[-1500:]  # ...masked
