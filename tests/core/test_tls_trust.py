"""One TLS context for every HTTPS and WSS call, verified against the OS trust store (issue 10
point 5): the E2E token fetch (httpx) and the WebSocket (websockets) trust exactly the same CAs.

Real servers on 127.0.0.1 with a certificate from a CA made here: (a) untrusted, both calls fail
with a classified TLS error; (b) the CA added to *the shared context* — and to nothing else — both
succeed, which they can only do if both really use that context; (c) `tls_verify = false` is the
one, named, exception.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.core.auth_service import auth_service
from wsdash.core import connection
from wsdash.core.auth import TokenError, fetch_e2e_token
from wsdash.core.connection import ConnectError, open_ws, ssl_context

KEY = "bypass-key-for-tls-tests-0123456789"


@pytest.fixture
def fresh_contexts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The contexts are built once per process: each test starts from none (and leaves none)."""
    monkeypatch.setattr(connection, "_CONTEXTS", {})


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 that is its own CA (openssl CLI)."""
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "ca.pem", d / "key.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", str(key), "-out", str(crt), "-days", "30", "-subj", "/CN=wsdash test CA",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE"],
                       check=True, capture_output=True, timeout=30)
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl CLI unavailable: {exc}")
    return crt, key


def server_context(cert: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    return ctx


@pytest.fixture
def auth_https(cert: tuple[Path, Path]) -> Iterator[str]:
    """The auth service's E2E route over HTTPS."""
    with auth_service(KEY, {"access_token": "tls-test-token-abcdefghijklmnop"}, tls=server_context(cert)) as url:
        yield url


async def wss_server(cert: tuple[Path, Path]) -> Any:
    from websockets.asyncio.server import serve

    async def handler(ws: Any) -> None:
        await ws.send(json.dumps({"type": "connection_established"}))
        await ws.wait_closed()

    return await serve(handler, "127.0.0.1", 0, ssl=server_context(cert))


def port_of(server: Any) -> int:
    return next(iter(server.sockets)).getsockname()[1]


async def both(auth_url: str, ws_url: str, verify: bool = True) -> tuple[str | BaseException, str | BaseException]:
    """(token or error, "connected" or error) for the two paths."""
    try:
        token: str | BaseException = await asyncio.to_thread(fetch_e2e_token, auth_url, KEY, timeout=10, tls_verify=verify)
    except TokenError as exc:
        token = exc
    try:
        conn = await open_ws(ws_url, timeout=10, tls_verify=verify)
        await conn.ws.close()
        ws: str | BaseException = "connected"
    except ConnectError as exc:
        ws = exc
    return token, ws


def test_the_shared_context_is_the_os_trust_store(fresh_contexts: None) -> None:
    import truststore

    assert isinstance(ssl_context("wss://h/ws", True), truststore.SSLContext)
    assert ssl_context("https://h/", True) is ssl_context("wss://h/ws", True)  # one context, both schemes
    assert ssl_context("ws://h/ws", True) is None and ssl_context("http://h/", True) is None
    insecure = ssl_context("wss://h/ws", False)
    assert insecure is not None and insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname


async def test_untrusted_ca_is_a_tls_error_on_both_paths(fresh_contexts: None, cert: tuple[Path, Path], auth_https: str) -> None:
    server = await wss_server(cert)
    try:
        token, ws = await both(auth_https, f"wss://127.0.0.1:{port_of(server)}/ws")
    finally:
        server.close()
    assert isinstance(token, TokenError) and ": tls: " in str(token), token
    assert isinstance(ws, ConnectError) and ws.error.kind == "tls", ws


async def test_a_ca_the_shared_context_trusts_is_trusted_by_both_paths(fresh_contexts: None, cert: tuple[Path, Path],
                                                                       auth_https: str) -> None:
    """What the OS store holds on a machine behind TLS inspection, put into the one context here:
    httpx's own default (certifi) would not know this CA, websockets' default neither."""
    ctx = ssl_context("https://", True)
    assert ctx is not None
    ctx.load_verify_locations(cafile=str(cert[0]))
    server = await wss_server(cert)
    try:
        token, ws = await both(auth_https, f"wss://127.0.0.1:{port_of(server)}/ws")
    finally:
        server.close()
    assert token == "tls-test-token-abcdefghijklmnop", token
    assert ws == "connected", ws


async def test_the_health_endpoint_check_uses_the_same_context(fresh_contexts: None, cert: tuple[Path, Path],
                                                               auth_https: str) -> None:
    from wsdash.services.health.endpoints import http_check

    deadline = asyncio.get_running_loop().time() + 10
    untrusted = await http_check("health", auth_https + "/health", True, deadline)
    assert untrusted.error is not None and untrusted.error.kind == "tls"
    ctx = ssl_context("https://", True)
    assert ctx is not None
    ctx.load_verify_locations(cafile=str(cert[0]))
    trusted = await http_check("health", auth_https + "/health", True, deadline)
    assert trusted.error is None or trusted.error.kind != "tls", trusted


async def test_tls_verify_false_is_the_named_exception(fresh_contexts: None, cert: tuple[Path, Path], auth_https: str) -> None:
    server = await wss_server(cert)
    try:
        token, ws = await both(auth_https, f"wss://127.0.0.1:{port_of(server)}/ws", verify=False)
    finally:
        server.close()
    assert token == "tls-test-token-abcdefghijklmnop" and ws == "connected"
