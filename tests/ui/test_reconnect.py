"""Reconnecting: a server that accepts and then fails is retried ever more slowly, and the golden
path pane says when the next attempt comes. Real servers on 127.0.0.1, no fakes."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import AsyncIterator

import pytest
import websockets

from tests.ui.test_flows import until
from wsdash.services.session.handshake import SessionOptions
from wsdash.services.session.live import BACKOFF, BACKOFF_S, JITTER, LiveSession, backoff_delay
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings


@asynccontextmanager
async def accepts_then_fails(stay_s: float = 0.0) -> AsyncIterator[dict]:
    """A server that accepts the socket, completes the §3 handshake, then closes with 1011 after
    `stay_s` — as a backend does whose agent crashes on start. Counts the connections."""
    seen = {"connections": 0, "url": ""}

    async def handler(ws) -> None:
        seen["connections"] += 1
        n = seen["connections"]
        await ws.send(json.dumps({"type": "connection_established", "data": {"connection_id": f"c{n}"}}))
        await ws.send(json.dumps({"type": "handshake_response", "thread_id": f"t{n}"}))
        await ws.recv()  # handshake_acknowledged
        await ws.send(json.dumps({"type": "handshake_complete", "thread_id": f"t{n}"}))
        await asyncio.sleep(stay_s)
        await ws.close(1011, "agent crashed")

    async with websockets.serve(handler, "127.0.0.1", 0) as srv:
        port = srv.sockets[0].getsockname()[1]
        seen["url"] = f"ws://127.0.0.1:{port}/ws"
        yield seen


async def backoffs(session: LiveSession, count: int, timeout: float = 60.0) -> list[tuple[int, float]]:
    """(failures, delay) each time the session starts to wait, until `count` waits were seen."""
    seen: list[tuple[int, float]] = []
    last_retry = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(seen) < count:
        st = session.status
        if st.state == BACKOFF and st.retry_at is not None and st.retry_at != last_retry:
            last_retry = st.retry_at
            seen.append((st.failures, st.delay))
        assert loop.time() < deadline, f"only {seen} in {timeout} s"
        await asyncio.sleep(0.01)
    return seen


def test_the_delay_follows_the_schedule_with_bounded_jitter() -> None:
    for failures, base in enumerate(BACKOFF_S, start=1):
        assert backoff_delay(failures, rand=lambda: 0.0) == pytest.approx(base * (1 - JITTER))
        assert backoff_delay(failures, rand=lambda: 1.0) == pytest.approx(base * (1 + JITTER))
    assert backoff_delay(99, rand=lambda: 0.5) == pytest.approx(BACKOFF_S[-1])  # it stops growing at the last step
    delays = {backoff_delay(3) for _ in range(50)}
    assert len(delays) > 1  # jittered: two dashboards do not retry in step


async def test_a_server_that_accepts_then_fails_is_retried_ever_more_slowly() -> None:
    # Each connection completes the handshake and then dies: the old session reset its count at
    # every handshake and retried every ~0.5 s forever.
    async with accepts_then_fails() as srv:
        session = LiveSession(SessionOptions(url=srv["url"]), lambda: None)
        task = asyncio.create_task(session.run_forever())
        try:
            seen = await backoffs(session, 4)
        finally:
            session.stop()
            await asyncio.wait_for(task, 5)
    assert [f for f, _ in seen] == [1, 2, 3, 4]
    for failures, delay in seen:
        base = BACKOFF_S[failures - 1]
        assert base * (1 - JITTER) - 1e-9 <= delay <= base * (1 + JITTER) + 1e-9
    assert seen[-1][1] > 2 * seen[0][1]  # 4 s vs 0.5 s, whatever the jitter
    assert srv["connections"] == 4
    assert session.status.error is not None and "1011" in session.status.error.message


async def test_a_connection_that_stayed_healthy_starts_the_count_again() -> None:
    # Short schedule and health threshold, so the test is quick: the rule is the same.
    async with accepts_then_fails(0.6) as srv:
        session = LiveSession(SessionOptions(url=srv["url"]), lambda: None, backoff_s=(0.05, 0.1, 0.2, 0.4), healthy_after_s=0.4)
        task = asyncio.create_task(session.run_forever())
        try:
            # each stays up 0.6 s, longer than the 0.4 s that counts as healthy: each is a fresh start
            seen = await backoffs(session, 3)
        finally:
            session.stop()
            await asyncio.wait_for(task, 5)
    assert [f for f, _ in seen] == [1, 1, 1]


async def test_a_connection_that_served_a_run_starts_the_count_again(server) -> None:
    # The embedded server closes with 1011 in the middle of every run: the connection served no
    # whole run, so failures add up; after a golden run on the same server they start again.
    session = LiveSession(SessionOptions(url=f"{server.url}?scenario=golden"), lambda: _token(), backoff_s=(0.05,), healthy_after_s=60)
    task = asyncio.create_task(session.run_forever())
    try:
        await until_state(session, "connected")
        session.status.failures = 5  # as if five connections had failed before this one
        session.request_run()
        for _ in range(500):
            if session.results:
                break
            await asyncio.sleep(0.02)
        assert session.results and session.results[-1].ok
        await server.stop()  # the healthy connection ends: the next wait is the first step again
        seen = await backoffs(session, 1)
    finally:
        session.stop()
        await asyncio.wait_for(task, 5)
    assert seen[0][0] == 1


def _token() -> str:
    from tests.conftest import SECRET
    from wsdash.core.auth import mint_token

    return mint_token(SECRET)


async def until_state(session: LiveSession, state: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while session.status.state != state:
        assert loop.time() < deadline, f"still {session.status.state}"
        await asyncio.sleep(0.01)


async def test_the_golden_path_pane_says_when_the_next_attempt_comes() -> None:
    async with accepts_then_fails() as srv:
        app = make_app(AppSettings(mode="live", url=srv["url"]))
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.source.status.failures >= 3 and app.source.status.state == BACKOFF, timeout=30)
            text = str(app.screen.query_one("#connection").render())
            assert "reconnecting in " in text and " s · attempt 4 (r: now)" in text, text
            assert "closed" in text and "1011" in text  # and why the last one ended
