"""--timeout bounds every phase of a run, and a connect cut short names its phase and the limit.
Real peers on 127.0.0.1: a port that accepts TCP and never speaks, a listener whose accept queue is
full (SYNs go unanswered), a WebSocket server that never greets, the embedded agent server."""

from __future__ import annotations

import json
import socket
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import SECRET
from wsdash.core.auth import mint_token
from wsdash.core.connection import ConnectError, open_ws
from wsdash.services.session.handshake import SessionOptions
from wsdash.services.session.once import run_golden_path

SLACK = 0.5  # the allowance over --timeout


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts every TCP connection and never sends a byte (a hung process holding the port)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        lsock.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(lsock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield lsock.getsockname()[1]
    stop.set()
    thread.join(2)
    for s in held:
        s.close()
    lsock.close()


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A listener that never accepts, its queue filled: further SYNs go unanswered (Linux, macOS;
    Windows answers a full queue with a reset instead)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    probe = socket.socket()
    probe.settimeout(0.3)
    try:
        probe.connect(("127.0.0.1", port))
        answered = True
    except OSError:
        answered = False
    finally:
        probe.close()
    if answered:
        pytest.skip("this kernel accepts connections beyond a full backlog: no unanswered SYN to test")
    yield port
    for s in fillers:
        s.close()
    lsock.close()


async def _connect_error(url: str, timeout: float) -> tuple[ConnectError, float]:
    t0 = time.perf_counter()
    with pytest.raises(ConnectError) as info:
        await open_ws(url, timeout=timeout)
    return info.value, time.perf_counter() - t0


def test_cli_upgrade_never_answered_ends_within_the_timeout_and_names_the_phase(silent_port, cli) -> None:
    # The reproduction: 10.5 s and "TimeoutError" before.
    t0 = time.perf_counter()
    out = cli("golden-path", "--url", f"ws://127.0.0.1:{silent_port}/ws", "--timeout", "3", "--connect-budget", "1", "--json")
    wall = time.perf_counter() - t0
    data = json.loads(out.stdout)
    assert out.returncode == 3
    assert data["error"]["kind"] == "timeout"
    assert "accepted TCP but never answered the WebSocket upgrade within 3.0 s" in data["error"]["message"]
    assert f"127.0.0.1:{silent_port}" in data["error"]["message"]
    assert data["timings"]["phases"]["total_ms"] <= (3 + SLACK) * 1000
    assert data["timings"]["address"] == f"127.0.0.1:{silent_port}"
    assert wall < 3 + SLACK + 4  # + the interpreter's start on a loaded machine; was 10.5 s


async def test_upgrade_phase(silent_port) -> None:
    err, took = await _connect_error(f"ws://127.0.0.1:{silent_port}/ws", 0.8)
    assert took < 0.8 + SLACK
    assert err.phase == "upgrade" and err.error.kind == "timeout"
    assert "never answered the WebSocket upgrade within 0.8 s" in err.error.message
    assert set(err.phases) >= {"dns_ms", "tcp_ms"}


async def test_tls_phase_is_named_apart_from_the_upgrade(silent_port) -> None:
    err, took = await _connect_error(f"wss://127.0.0.1:{silent_port}/ws", 0.8)
    assert took < 0.8 + SLACK
    assert err.phase == "tls"
    assert "accepted TCP but never completed the TLS handshake within 0.8 s" in err.error.message


@pytest.mark.skipif(sys.platform == "win32", reason="Windows refuses (RST) when the accept queue is full")
async def test_tcp_phase_with_an_unanswered_syn(full_backlog_port) -> None:
    err, took = await _connect_error(f"ws://127.0.0.1:{full_backlog_port}/ws", 1.0)
    assert took < 1.0 + SLACK
    assert err.phase == "tcp" and err.error.kind == "timeout"
    assert f"no TCP connection to 127.0.0.1:{full_backlog_port} within 1.0 s" in err.error.message
    assert f"127.0.0.1:{full_backlog_port} no answer" in err.error.message  # what each address did


def test_dns_phase_a_hung_resolver_does_not_hold_the_process(tmp_path: Path, cli) -> None:
    # A resolver that never answers (patched in the child: no DNS server to hang here). The run must
    # end at the timeout — asyncio's executor would have kept the process waiting for the lookup.
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent("""
        import socket, time
        _real = socket.getaddrinfo
        def _hung(host, *args, **kwargs):
            if isinstance(host, str) and host.endswith(".hung.test"):
                if kwargs.get("flags", 0) & socket.AI_NUMERICHOST:
                    raise socket.gaierror(socket.EAI_NONAME, "not numeric")
                time.sleep(60)
            return _real(host, *args, **kwargs)
        socket.getaddrinfo = _hung
    """), encoding="utf-8")
    t0 = time.perf_counter()
    out = cli("golden-path", "--url", "ws://api.hung.test:8002/ws", "--timeout", "1", "--json", env={"PYTHONPATH": str(tmp_path)})
    wall = time.perf_counter() - t0
    data = json.loads(out.stdout)
    assert out.returncode == 3 and data["error"]["kind"] == "timeout"
    assert data["error"]["message"] == "the host name api.hung.test did not resolve within 1.0 s"
    assert wall < 1 + SLACK + 4  # not 60 s


async def _ungreeting_server() -> tuple[object, int]:
    """An older server: no greeting at all (§3.2), but it answers the chat message at once."""
    from websockets.asyncio.server import serve

    from wsdash.services.agent_server.envelopes import FORMATTERS
    from wsdash.services.agent_server.scenarios import golden_steps

    async def handler(ws) -> None:
        async for _ in ws:
            for _op, kind, fields in golden_steps("hi", "u1"):
                await ws.send(json.dumps(FORMATTERS["flat"](kind, fields)))

    server = await serve(handler, "127.0.0.1", 0)
    return server, next(iter(server.sockets)).getsockname()[1]


async def test_handshake_waits_leave_room_for_the_run() -> None:
    # No first frame: the §3 wait for one (2 s) must neither outlast a 1.2 s --timeout nor eat it
    # whole — the message still goes out in time and the run is judged, and passes.
    server, port = await _ungreeting_server()
    try:
        t0 = time.perf_counter()
        result = await run_golden_path(SessionOptions(url=f"ws://127.0.0.1:{port}/ws", timeout_s=1.2, grace_s=0.1))
        took = time.perf_counter() - t0
    finally:
        server.close()
        await server.wait_closed()
    assert took < 1.2 + SLACK
    assert result.ok, result.to_json()


async def test_run_phase_ends_at_the_overall_deadline(server) -> None:
    # stall: four events, then silence. The deadline counts from the start, connect included.
    t0 = time.perf_counter()
    result = await run_golden_path(SessionOptions(url=f"{server.url}?scenario=stall", token=mint_token(SECRET), timeout_s=1.2, grace_s=0.1))
    took = time.perf_counter() - t0
    assert took < 1.2 + SLACK
    assert [(v.code, v.event) for v in result.verdict.violations] == [("missing", "agent_completed")]
    assert "nothing more arrived before the timeout" in result.verdict.violations[0].detail


def test_nan_and_negative_timeouts_stay_usage_errors(cli) -> None:
    for value in ("nan", "-1", "0", "inf"):
        out = cli("golden-path", "--url", "ws://127.0.0.1:9/ws", "--timeout", value)
        assert out.returncode == 2 and "--timeout" in out.stderr, value
