"""The target probe against real peers: the embedded agent server (up, bad/missing token, 403 at
the upgrade, slow health), custom WebSocket servers, a refused port, a blackholed port, a plain
HTTP server on the WebSocket path and a self-signed TLS server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from health_fakes import (
    REFUSE_S, SECRET, Blackhole, free_port, make_self_signed, plain_http_server, server_port, target_for, tls_ws_server,
)

from wsdash.services.agent_server import AgentServer
from wsdash.core.auth import mint_token
from wsdash.core.config import TargetConfig
from wsdash.services.health.model import DEGRADED, DOWN, SKIPPED, UP, ProbeResult
from wsdash.services.health.endpoints import days_left
from wsdash.services.health.service import probe_target

GOOD = {"TEST_SECRET": SECRET}


def by_name(res: ProbeResult) -> dict[str, Any]:
    return {c.name: c for c in res.checks}


async def test_up_with_a_valid_token(agent: AgentServer) -> None:
    target = target_for(agent, auth_health_url=agent.http_url + "/ws/health")
    res = await probe_target(target, env=GOOD, timeout=3)
    assert res.status == UP, res.to_json()
    assert [c.name for c in res.checks] == ["dns", "tcp", "websocket", "auth", "health", "auth_health"]
    checks = by_name(res)
    assert all(c.latency_ms is not None and c.latency_ms >= 0 for c in res.checks)
    assert checks["auth"].detail.startswith("token accepted (connection_established), token for wsdash-user")
    assert checks["health"].detail == "HTTP 200 ok" and checks["auth_health"].detail == "HTTP 200 healthy"
    assert res.detail.startswith("ws ") and "token accepted" in res.detail and res.hint == ""


async def test_wrong_secret_is_a_rejected_token(agent: AgentServer) -> None:
    res = await probe_target(target_for(agent), env={"TEST_SECRET": "not-the-secret"}, timeout=3)
    checks = by_name(res)
    assert res.status == DOWN and checks["websocket"].status == UP  # it connected, and still failed
    assert checks["auth"].status == DOWN and checks["auth"].error.kind == "auth"
    assert "AUTH_FAILED" in checks["auth"].error.message and "signature" in checks["auth"].error.message
    assert res.error is checks["auth"].error and "JWT secret" in res.hint


async def test_missing_token_on_a_strict_server_says_where_a_token_would_come_from(agent: AgentServer) -> None:
    res = await probe_target(target_for(agent), env={}, timeout=3)
    auth = by_name(res)["auth"]
    assert res.status == DOWN and auth.error.kind == "auth"
    assert "no token was sent" in auth.error.message and "$TEST_SECRET" in res.hint


async def test_no_token_on_a_permissive_server_is_up_with_a_note() -> None:
    async with AgentServer(host="127.0.0.1", port=0, secret=None) as srv:
        res = await probe_target(target_for(srv), env={}, timeout=3)
    auth = by_name(res)["auth"]
    assert res.status == UP and auth.status == SKIPPED
    assert "proves nothing about auth" in auth.detail and "no token (auth not proven)" in res.detail


async def test_expired_token_accepted_by_a_permissive_server_degrades() -> None:
    expired = mint_token(SECRET, ttl_s=-120)
    async with AgentServer(host="127.0.0.1", port=0, secret=None) as srv:
        target = target_for(srv, secret_env=None, token_env="TEST_TOKEN")
        res = await probe_target(target, env={"TEST_TOKEN": expired}, timeout=3)
    assert res.status == DEGRADED and by_name(res)["auth"].status == DEGRADED
    assert "permissive" in res.hint


async def test_http_403_at_the_upgrade_is_auth() -> None:
    async with AgentServer(host="127.0.0.1", port=0, secret=SECRET, scenario="auth-reject") as srv:
        res = await probe_target(target_for(srv), env=GOOD, timeout=3)
    checks = by_name(res)
    assert res.status == DOWN
    assert checks["websocket"].error.kind == "auth" and checks["websocket"].error.code == 403
    assert checks["auth"].status == DOWN and checks["auth"].detail == "rejected at the upgrade"


@pytest.mark.parametrize("code", [4401, 1008])
async def test_auth_close_code_right_after_accept_is_a_rejection(code: int) -> None:
    async with AgentServer(host="127.0.0.1", port=0, secret=None, scenario=f"close:{code}") as srv:
        res = await probe_target(target_for(srv), env=GOOD, timeout=3)
    auth = by_name(res)["auth"]
    assert res.status == DOWN and auth.error.kind == "auth" and auth.error.code == code


async def ws_server(handler: Callable[[Any], Awaitable[None]]) -> Any:
    from websockets.asyncio.server import serve

    return await serve(handler, "127.0.0.1", 0)


@pytest.fixture
async def custom_ws() -> AsyncIterator[Callable[[Callable[[Any], Awaitable[None]]], Awaitable[str]]]:
    servers: list[Any] = []

    async def start(handler: Callable[[Any], Awaitable[None]]) -> str:
        srv = await ws_server(handler)
        servers.append(srv)
        return f"ws://127.0.0.1:{server_port(srv)}/ws"

    yield start
    for srv in servers:
        srv.close()
        await srv.wait_closed()


async def test_older_envelope_confirms_the_connection(custom_ws: Any) -> None:
    async def handler(ws: Any) -> None:
        await ws.send(json.dumps({"type": "system_message", "data": {"event": "connection_established"}}))
        await ws.wait_closed()

    target = TargetConfig(name="old", ws_url=await custom_ws(handler), token_env="T")
    res = await probe_target(target, env={"T": mint_token(SECRET)}, timeout=3)
    assert res.status == UP and "accepted (connection_established)" in by_name(res)["auth"].detail


async def test_auth_failed_inside_a_data_envelope(custom_ws: Any) -> None:
    async def handler(ws: Any) -> None:
        await ws.send(json.dumps({"type": "error", "data": {"error_code": "AUTH_FAILED", "message": "bad token"}}))
        await ws.wait_closed()

    target = TargetConfig(name="x", ws_url=await custom_ws(handler), token_env="T")
    res = await probe_target(target, env={"T": mint_token(SECRET)}, timeout=3)
    assert res.status == DOWN and by_name(res)["auth"].error.kind == "auth"


async def test_server_closing_1011_at_once_is_a_websocket_failure(custom_ws: Any) -> None:
    async def handler(ws: Any) -> None:
        await ws.close(1011, "service not ready")

    res = await probe_target(TargetConfig(name="x", ws_url=await custom_ws(handler)), env={}, timeout=3)
    checks = by_name(res)
    assert res.status == DOWN and checks["websocket"].error.kind == "closed" and checks["websocket"].error.code == 1011
    assert checks["auth"].status == SKIPPED


async def test_slow_health_endpoint_times_out_and_only_degrades() -> None:
    async with AgentServer(host="127.0.0.1", port=0, secret=SECRET, http_delay=0.8) as srv:
        res = await probe_target(target_for(srv), env=GOOD, timeout=0.4)
    checks = by_name(res)
    assert checks["websocket"].status == UP and checks["auth"].status == UP
    assert checks["health"].status == DOWN and checks["health"].error.kind == "timeout"
    assert res.status == DEGRADED and "did not answer in time" in res.hint


async def test_refused_port() -> None:
    port = free_port()
    target = TargetConfig(name="local", ws_url=f"ws://127.0.0.1:{port}/ws", health_url=f"http://127.0.0.1:{port}/health")
    res = await probe_target(target, env={}, timeout=REFUSE_S)
    checks = by_name(res)
    assert res.status == DOWN and checks["dns"].status == UP
    assert checks["tcp"].error.kind == "refused" and checks["health"].error.kind == "refused"
    assert checks["websocket"].status == SKIPPED and f"127.0.0.1:{port}" in res.hint


async def test_blackholed_port_times_out_at_the_tcp_step() -> None:
    hole = Blackhole()
    try:
        res = await probe_target(TargetConfig(name="x", ws_url=f"ws://127.0.0.1:{hole.port}/ws"), env={}, timeout=0.3)
    finally:
        hole.close()
    checks = by_name(res)
    assert res.status == DOWN and checks["tcp"].status == DOWN and checks["tcp"].error.kind == "timeout"


async def test_unresolvable_host() -> None:
    res = await probe_target(TargetConfig(name="x", ws_url="ws://wsdash-test.invalid:8002/ws"), env={}, timeout=2)
    checks = by_name(res)
    assert res.status == DOWN and checks["dns"].error.kind == "dns" and checks["tcp"].status == SKIPPED


async def test_plain_http_on_the_websocket_path() -> None:
    server = await plain_http_server({"status": "ok"})
    try:
        port = server_port(server)
        target = TargetConfig(name="x", ws_url=f"ws://127.0.0.1:{port}/ws", health_url=f"http://127.0.0.1:{port}/health")
        res = await probe_target(target, env={}, timeout=2)
    finally:
        server.close()
    checks = by_name(res)
    assert checks["health"].status == UP  # the server is alive…
    assert res.status == DOWN and checks["websocket"].error.kind == "not_websocket"  # …but not a WebSocket
    assert "not a WebSocket endpoint" in res.hint


@pytest.mark.parametrize(("status", "body", "expected"), [
    (503, {"status": "unhealthy"}, DOWN), (200, {"status": "degraded"}, DEGRADED), (404, {"detail": "nope"}, DOWN),
])
async def test_health_endpoint_verdicts(agent: AgentServer, status: int, body: dict[str, str], expected: str) -> None:
    server = await plain_http_server(body, status=status)
    try:
        target = target_for(agent, health_url=f"http://127.0.0.1:{server_port(server)}/health")
        res = await probe_target(target, env=GOOD, timeout=2)
    finally:
        server.close()
    health = by_name(res)["health"]
    assert health.status == expected and res.status == DEGRADED  # the socket still works
    assert health.error.code == status


async def test_unreadable_secret_file_is_a_config_error_and_the_socket_is_still_probed(agent: AgentServer, tmp_path: Path) -> None:
    target = target_for(agent, secret_env=None, secret_file=str(tmp_path / "missing-secret"))
    res = await probe_target(target, env={}, timeout=3)
    checks = by_name(res)
    assert checks["websocket"].status == UP
    assert checks["auth"].status == DOWN and checks["auth"].error.kind in ("config", "auth")


# -- TLS ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl CLI to make a self-signed certificate")
    return {days: make_self_signed(tmp_path_factory.mktemp(f"cert{days}"), days) for days in (30, 5)}


async def tls_target(certs: dict[int, tuple[Path, Path]], days: int, verify: bool) -> tuple[Any, TargetConfig]:
    server = await tls_ws_server(*certs[days])
    port = server_port(server)
    return server, TargetConfig(name="tls", ws_url=f"wss://127.0.0.1:{port}/ws", tls_verify=verify)


async def test_self_signed_certificate_is_a_tls_error_that_still_reports_expiry(certs: Any) -> None:
    server, target = await tls_target(certs, 30, verify=True)
    try:
        res = await probe_target(target, env={}, timeout=3)
    finally:
        server.close()
    checks = by_name(res)
    assert res.status == DOWN and checks["websocket"].error.kind == "tls"
    assert checks["tls"].error.kind == "tls" and checks["tls"].detail in ("expires in 30 days", "expires in 29 days")


async def test_unverified_tls_reports_days_to_expiry(certs: Any) -> None:
    server, target = await tls_target(certs, 30, verify=False)
    try:
        res = await probe_target(target, env={}, timeout=3)
    finally:
        server.close()
    tls = by_name(res)["tls"]
    assert res.status == UP and tls.status == UP and "not verified" in tls.detail
    assert res.facts["cert_days_left"] in (29, 30)


async def test_certificate_expiring_soon_degrades(certs: Any) -> None:
    server, target = await tls_target(certs, 5, verify=False)
    try:
        res = await probe_target(target, env={}, timeout=3)
    finally:
        server.close()
    assert res.status == DEGRADED and by_name(res)["tls"].status == DEGRADED and "renew" in res.hint


async def test_https_health_endpoint_certificate_when_the_socket_is_plain(certs: Any, agent: AgentServer) -> None:
    server, tls_target_ = await tls_target(certs, 30, verify=False)
    try:
        https = tls_target_.ws_url.replace("wss://", "https://").replace("/ws", "/health")
        res = await probe_target(target_for(agent, health_url=https, tls_verify=False), env=GOOD, timeout=3)
    finally:
        server.close()
    assert by_name(res)["tls"].status == UP and res.facts["cert_days_left"] in (29, 30)


def test_days_left_matches_openssl(certs: Any) -> None:
    import ssl
    from datetime import datetime, timezone

    cert, _ = certs[30]
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    out = subprocess.run(["openssl", "x509", "-enddate", "-noout", "-in", str(cert)], capture_output=True, text=True, check=True)
    text = out.stdout.strip().split("=", 1)[1].removesuffix(" GMT")  # e.g. "Dec 25 16:30:00 2026 GMT"
    end = datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y").replace(tzinfo=timezone.utc).timestamp()
    assert abs(days_left(der, now=end - 86400 * 10) - 10) < 1e-6


async def test_a_port_out_of_range_is_a_config_error_not_a_crash() -> None:
    res = await probe_target(TargetConfig(name="x", ws_url="ws://127.0.0.1:99999/ws"), env={}, timeout=1)
    assert res.status == DOWN and res.error.kind == "config" and "ws_url" in res.hint
