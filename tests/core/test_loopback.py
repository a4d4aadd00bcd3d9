"""Loopback as Windows (and Node) behave: 127.0.0.1 and ::1 are both tried, happy-eyeballs style,
so a dev server bound to ::1 only is found, not reported refused; the address used is reported."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import SECRET
from wsdash.core.connection import ConnectError, open_ws
from wsdash.core.dial import candidates, show
from wsdash.services.agent_server import ServerThread


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_v6 = pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")


@pytest.fixture
def v6_only_server():
    """The embedded server bound to ::1 only, like Vite or Node ≥ 17 on `localhost`."""
    with ServerThread(host="::1", secret=SECRET) as srv:
        with socket.socket() as probe:  # nothing of ours on 127.0.0.1 at that port
            probe.settimeout(1)
            if probe.connect_ex(("127.0.0.1", srv.port)) == 0:
                pytest.skip("another service holds 127.0.0.1 on the port ::1 got")
        yield srv


@needs_v6
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_server_on_ipv6_loopback_only_is_found(v6_only_server, cli, host: str) -> None:
    port = v6_only_server.port
    out = cli("golden-path", "--url", f"ws://{host}:{port}/ws", "--secret", SECRET, "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 0, data["error"]
    assert data["timings"]["address"] == f"[::1]:{port}"  # the address actually used


@needs_v6
def test_the_address_used_is_in_the_human_report(v6_only_server, cli) -> None:
    out = cli("golden-path", "--url", f"ws://localhost:{v6_only_server.port}/ws", "--secret", SECRET)
    assert out.returncode == 0 and f"to [::1]:{v6_only_server.port}" in out.stdout


def test_an_ipv4_server_is_used_over_ipv4(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url.replace("127.0.0.1", "localhost"), "--secret", SECRET, "--json")
    assert json.loads(out.stdout)["timings"]["address"] == f"127.0.0.1:{server_thread.port}"


async def test_nothing_on_either_loopback_names_both() -> None:
    with socket.socket() as s:  # a port just freed: nothing listens on it (on either family, almost surely)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectError) as info:
        await open_ws(f"ws://localhost:{port}/ws", timeout=5)
    err = info.value.error
    assert err.kind == "refused"
    if _ipv6_loopback():
        assert err.message == f"nothing listens on 127.0.0.1:{port} nor [::1]:{port}: each refused the connection"


def _row(family: socket.AddressFamily, host: str, port: int = 80) -> tuple:
    addr = (host, port) if family == socket.AF_INET else (host, port, 0, 0)
    return (family, socket.SOCK_STREAM, 6, "", addr)


@pytest.mark.parametrize(("host", "resolved", "expected"), [
    # a literal loopback address first, the other family's loopback after it
    ("127.0.0.1", [_row(socket.AF_INET, "127.0.0.1")], ["127.0.0.1:80", "[::1]:80"]),
    ("::1", [_row(socket.AF_INET6, "::1")], ["[::1]:80", "127.0.0.1:80"]),
    # `localhost` as Windows resolves it (::1 first): IPv4 tried first, ::1 alongside
    ("localhost", [_row(socket.AF_INET6, "::1"), _row(socket.AF_INET, "127.0.0.1")], ["127.0.0.1:80", "[::1]:80"]),
    # `localhost` mapped to 127.0.0.1 only (this machine's /etc/hosts): ::1 is still tried
    ("localhost", [_row(socket.AF_INET, "127.0.0.1")], ["127.0.0.1:80", "[::1]:80"]),
    # not loopback: what DNS said, IPv4 first, nothing added
    ("api.example", [_row(socket.AF_INET6, "2001:db8::1"), _row(socket.AF_INET, "192.0.2.1")], ["192.0.2.1:80", "[2001:db8::1]:80"]),
    ("127.0.0.2", [_row(socket.AF_INET, "127.0.0.2")], ["127.0.0.2:80"]),
])
def test_candidates(host: str, resolved: list, expected: list[str]) -> None:
    if not socket.has_ipv6:
        expected = [e for e in expected if not e.startswith("[::1]")]
    assert [show(r[4]) for r in candidates(host, resolved)] == expected


def _windows_refused() -> OSError:
    """What asyncio's proactor raises on Windows for a refused connect (winerror set by hand:
    CPython honours the constructor's winerror only on Windows)."""
    exc = ConnectionRefusedError(22, "[WinError 1225] The remote computer refused the network connection")
    exc.winerror = 1225  # type: ignore[attr-defined]
    return exc


def _windows_loopback(monkeypatch: pytest.MonkeyPatch, listening: set[str]) -> None:
    """Connect attempts as Windows answers them: an address nobody listens on is refused after
    about 2 s (the SYN is retried, docs/windows.md); a listening one at once (a dummy socket)."""
    import asyncio

    from wsdash.core import dial

    async def attempt(loop, info):  # noqa: ANN001 - dial's own signature
        if info[4][0] in listening:
            return socket.socket(info[0], socket.SOCK_STREAM)
        await asyncio.sleep(2.0)
        raise _windows_refused()

    monkeypatch.setattr(dial, "_attempt", attempt)


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 support in this Python")
async def test_windows_slow_refusal_of_127_does_not_hide_a_server_on_ipv6(monkeypatch) -> None:
    import time

    from wsdash.core.dial import Dial, connect_tcp

    _windows_loopback(monkeypatch, {"::1"})
    d = Dial("127.0.0.1", 5173)
    t0 = time.perf_counter()
    sock = await connect_tcp(d)
    sock.close()
    took = time.perf_counter() - t0
    assert d.address == "[::1]:5173" and took < 1.0  # ::1 started 0.1 s in, did not wait out the 2 s
    assert d.tried["[::1]:5173"] == "connected"


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 support in this Python")
async def test_windows_both_refused_is_one_refusal_after_about_2_s(monkeypatch) -> None:
    import time

    _windows_loopback(monkeypatch, set())
    t0 = time.perf_counter()
    with pytest.raises(ConnectError) as info:
        await open_ws("ws://127.0.0.1:8002/ws", timeout=10)
    took = time.perf_counter() - t0
    err = info.value.error
    assert err.kind == "refused" and "is the Docker test stack up?" in err.hint
    assert err.message == "nothing listens on 127.0.0.1:8002 nor [::1]:8002: each refused the connection"
    assert 1.9 < took < 3.0  # both attempts overlap: ~2.1 s, not 4
