"""Open a WebSocket with timed phases (DNS, TCP, TLS+upgrade) and auth in the configured place.

Used by the golden-path session and by the health probe, so "connected" means the same thing in
both. Failures raise `ConnectError` carrying a `ClassifiedError` and the phases timed so far.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wsdash.core.errors import CONFIG, TLS, ClassifiedError, classify
from wsdash.core.redact import redact_url

MAX_FRAME = 64 * 1024 * 1024  # a tool result can be large; websockets' 1 MiB default is too small


class ConnectError(Exception):
    def __init__(self, error: ClassifiedError, phases: dict[str, float]) -> None:
        super().__init__(str(error))
        self.error = error
        self.phases = phases


@dataclass
class Connected:
    ws: Any  # websockets.asyncio.client.ClientConnection
    phases: dict[str, float] = field(default_factory=dict)  # ms per phase, and total_ms
    subprotocol: str | None = None


def auth_parts(token: str | None, auth: str) -> tuple[list[str] | None, dict[str, str], dict[str, str]]:
    """(subprotocols, headers, query) that carry `token` as `auth` says (docs/protocol.md §2)."""
    if not token:
        return None, {}, {}
    subprotocols = [f"jwt-auth.{token}"] if "subprotocol" in auth else None
    headers = {"Authorization": f"Bearer {token}"} if "header" in auth else {}
    query = {"token": token} if auth == "query" else {}
    return subprotocols, headers, query


def with_query(url: str, extra: dict[str, str]) -> str:
    if not extra:
        return url
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True) + list(extra.items())
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def proxy_configured(scheme: str) -> bool:
    names = ("https_proxy", "all_proxy") if scheme == "wss" else ("http_proxy", "all_proxy")
    return any(os.environ.get(n) or os.environ.get(n.upper()) for n in names)


_CONTEXTS: dict[bool, ssl.SSLContext] = {}


def ssl_context(url: str, tls_verify: bool) -> ssl.SSLContext | None:
    """THE TLS context of every HTTPS and WSS call wsdash makes (WebSocket, health endpoints,
    certificate check, the E2E token fetch): None for plain ws:// and http://.

    Verified against the operating system's trust store (truststore: Windows CryptoAPI, macOS
    Security, OpenSSL's store on Linux), so a corporate TLS-inspection CA that the OS trusts is
    trusted for every call alike; httpx's default (certifi) and websockets' default differ.
    """
    if not url.startswith(("wss://", "https://")):
        return None
    # Built once per mode and shared (contexts are safe to share): building one loads the CA store,
    # ~30 ms of blocking work that would stall the UI and inflate every concurrent probe's timings.
    ctx = _CONTEXTS.get(tls_verify)
    if ctx is None:
        if tls_verify:
            import truststore

            ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        else:  # only when the user turned it off by name (tls_verify = false): shown wherever it applies
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        _CONTEXTS[tls_verify] = ctx
    return ctx


async def _tcp(host: str, port: int, phases: dict[str, float]) -> socket.socket:
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    t1 = time.perf_counter()
    phases["dns_ms"] = (t1 - t0) * 1000
    # IPv4 first: on Windows, ::1 refusals are retried for ~2 s each (docs/protocol.md §1).
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    if not infos:
        raise socket.gaierror(socket.EAI_NONAME, f"no address for {host}")
    last: BaseException | None = None
    for family, type_, proto, _, addr in infos:
        sock = socket.socket(family, type_, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, addr)
        except BaseException as exc:  # a timeout's CancelledError too: never leak the socket
            sock.close()
            if not isinstance(exc, OSError):
                raise
            last = exc
            if is_loopback(host) and isinstance(exc, ConnectionRefusedError):
                break  # one refusal says it: Windows would retry ::1 for ~2 s
            continue
        phases["tcp_ms"] = (time.perf_counter() - t1) * 1000
        return sock
    assert last is not None
    raise last


async def open_ws(
    url: str,
    *,
    token: str | None = None,
    auth: str = "subprotocol+header",
    tls_verify: bool = True,
    timeout: float = 5.0,
    headers: dict[str, str] | None = None,
) -> Connected:
    """Connect, timing each phase. Raises ConnectError with a classified error."""
    from websockets.asyncio.client import connect

    subprotocols, auth_headers, query = auth_parts(token, auth)
    phases: dict[str, float] = {}
    try:
        target = with_query(url, query)
        parts = urlsplit(target)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        if parts.scheme not in ("ws", "wss") or not host:
            raise ValueError("expected ws://host[:port]/path or wss://…")
    except ValueError as exc:
        raise ConnectError(ClassifiedError(CONFIG, f"bad WebSocket URL {redact_url(url)!r}: {exc}",
                                           "check the URL: ws://127.0.0.1:8002/ws or wss://host/ws"), phases) from None
    start = time.perf_counter()
    kwargs: dict[str, Any] = dict(
        subprotocols=subprotocols,
        additional_headers={**auth_headers, **(headers or {})},
        ssl=ssl_context(target, tls_verify),
        open_timeout=None,
        # No permessage-deflate: agent events are small, and under a burst one compressed socket
        # read can hold ~29,000 frames that websockets inflates and parses in one go — a
        # 300 ms stall of the dashboard's loop (bench/ui.py --what-if no-compression).
        compression=None,
        max_size=MAX_FRAME,
        user_agent_header="wsdash",
    )
    try:
        async with asyncio.timeout(timeout):
            if is_loopback(host) or not proxy_configured(parts.scheme):
                # Our own socket: DNS and TCP timed apart, and never a proxy for loopback.
                sock = await _tcp(host, port, phases)
                if kwargs["ssl"] is not None:
                    kwargs["server_hostname"] = host
                t_up = time.perf_counter()
                ws = await connect(target, sock=sock, proxy=None, **kwargs)
                phases["upgrade_ms"] = (time.perf_counter() - t_up) * 1000
            else:
                ws = await connect(target, proxy=True, **kwargs)
                phases["upgrade_ms"] = (time.perf_counter() - start) * 1000
    except (Exception, TimeoutError) as exc:  # noqa: BLE001 - every failure becomes a value
        phases["total_ms"] = (time.perf_counter() - start) * 1000
        if parts.scheme == "wss" and "tcp_ms" in phases and isinstance(exc, (ConnectionResetError, ConnectionAbortedError)):
            # A bare reset after our TCP connect comes from the TLS handshake (a reset during the
            # HTTP upgrade reaches us wrapped by websockets). A plain server answers a TLS hello by
            # hanging up, which read as "network drop" (1006) when the URL's scheme was the mistake.
            where = parts.netloc.rsplit("@", 1)[-1]
            raise ConnectError(ClassifiedError(
                TLS, f"{where} hung up during the TLS handshake",
                f"does {where} speak TLS? For a plain server use {redact_url('ws://' + url.split('://', 1)[1])}; "
                "otherwise check the server's (or its proxy's) logs"), phases) from exc
        raise ConnectError(classify(exc, url), phases) from exc
    phases["total_ms"] = (time.perf_counter() - start) * 1000
    return Connected(ws=ws, phases=phases, subprotocol=ws.subprotocol)
