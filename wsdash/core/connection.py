"""Open a WebSocket with timed phases (DNS, TCP, TLS, upgrade) and auth in the configured place.

Used by the golden-path session and by the health probe, so "connected" means the same thing in
both. Failures raise `ConnectError` carrying a `ClassifiedError` and the phases timed so far.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wsdash.core.dial import Dial, connect_tcp
from wsdash.core.errors import CONFIG, TIMEOUT, TLS, ClassifiedError, classify
from wsdash.core.plain_frames import speed_up
from wsdash.core.redact import redact_url
from wsdash.core.ws_url import ws_url_problem

MAX_FRAME = 64 * 1024 * 1024  # a tool result can be large; websockets' 1 MiB default is too small


class ConnectError(Exception):
    def __init__(self, error: ClassifiedError, phases: dict[str, float], address: str | None = None,
                 phase: str | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.phases = phases
        self.address = address  # the address TCP connected to, when it did
        self.phase = phase  # dns · tcp · tls · upgrade · proxy: where it failed


@dataclass
class Connected:
    ws: Any  # websockets.asyncio.client.ClientConnection
    phases: dict[str, float] = field(default_factory=dict)  # ms per phase, and total_ms
    subprotocol: str | None = None
    address: str | None = None  # the address TCP connected to ('[::1]:5173'); None through a proxy


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


async def open_ws(
    url: str,
    *,
    token: str | None = None,
    auth: str = "subprotocol+header",
    tls_verify: bool = True,
    timeout: float = 5.0,
    headers: dict[str, str] | None = None,
    dial: Dial | None = None,
) -> Connected:
    """Connect within `timeout` seconds, timing each phase. Raises ConnectError with a classified
    error; a timeout names the phase it cut (docs/protocol.md §3.1). Pass `dial` to watch the
    phases as they happen."""
    from websockets.asyncio.client import connect

    subprotocols, auth_headers, query = auth_parts(token, auth)
    dial = dial if dial is not None else Dial()
    phases = dial.phases
    try:
        target = with_query(url, query)
        parts = urlsplit(target)
        host = parts.hostname or ""
        port = parts.port if parts.port is not None else (443 if parts.scheme == "wss" else 80)  # 0 is not "none"
        if (problem := ws_url_problem(url)) is not None:
            raise ValueError(problem)
    except ValueError as exc:
        raise ConnectError(ClassifiedError(CONFIG, f"bad WebSocket URL: {exc}",
                                           "check the URL: ws://127.0.0.1:8002/ws or wss://host/ws"), phases) from None
    start = time.perf_counter()
    dial.host, dial.port = host, port
    stamps: dict[str, float] = {}
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
        create_connection=_stamping_connection(dial, stamps),
    )
    direct = is_loopback(host) or not proxy_configured(parts.scheme)
    limit = asyncio.timeout(timeout)
    try:
        async with limit:
            if direct:
                # Our own socket: DNS and TCP timed apart, and never a proxy for loopback.
                sock = await connect_tcp(dial)
                t_tcp = time.perf_counter()
                if kwargs["ssl"] is not None:
                    kwargs["server_hostname"] = host
                    dial.phase = "tls"
                else:
                    dial.phase = "upgrade"
                ws = await connect(target, sock=sock, proxy=None, **kwargs)
                if kwargs["ssl"] is not None and "made" in stamps:
                    phases["tls_ms"] = (stamps["made"] - t_tcp) * 1000
                phases["upgrade_ms"] = (time.perf_counter() - stamps.get("made", t_tcp)) * 1000
            else:
                dial.phase = "proxy"
                ws = await connect(target, proxy=True, **kwargs)
                phases["upgrade_ms"] = (time.perf_counter() - start) * 1000
    except (Exception, TimeoutError) as exc:  # noqa: BLE001 - every failure becomes a value
        phases["total_ms"] = (time.perf_counter() - start) * 1000
        error = phase_timeout(dial, timeout, parts.netloc.rsplit("@", 1)[-1]) if limit.expired() else _connect_error(exc, url, parts.scheme, dial)
        raise ConnectError(error, phases, dial.address, dial.phase) from exc
    phases["total_ms"] = (time.perf_counter() - start) * 1000
    dial.phase = "open"
    speed_up(ws.protocol)  # plain text frames parsed without websockets' per-frame generators
    return Connected(ws=ws, phases=phases, subprotocol=ws.subprotocol, address=dial.address)


def _stamping_connection(dial: Dial, stamps: dict[str, float]) -> Any:
    """websockets' connection class, noting when the transport is ready: for wss:// that is the end
    of the TLS handshake (asyncio calls connection_made after it), so TLS and the HTTP upgrade are
    timed — and named in a timeout — apart."""
    from websockets.asyncio.client import ClientConnection

    class StampingConnection(ClientConnection):
        def connection_made(self, transport: Any) -> None:
            stamps["made"] = time.perf_counter()
            dial.phase = "upgrade"
            super().connection_made(transport)

    return StampingConnection


def _connect_error(exc: BaseException, url: str, scheme: str, dial: Dial) -> ClassifiedError:
    where = urlsplit(url).netloc.rsplit("@", 1)[-1]
    if scheme == "wss" and dial.phase == "tls" and isinstance(exc, (ConnectionResetError, ConnectionAbortedError)):
        # A bare reset during the TLS handshake (a reset during the HTTP upgrade reaches us wrapped
        # by websockets). A plain server answers a TLS hello by hanging up, which read as "network
        # drop" (1006) when the URL's scheme was the mistake.
        return ClassifiedError(
            TLS, f"{where} hung up during the TLS handshake",
            f"does {where} speak TLS? For a plain server use {redact_url('ws://' + url.split('://', 1)[1])}; "
            "otherwise check the server's (or its proxy's) logs")
    error = classify(exc, url)
    if dial.phase == "tcp" and len(dial.tried) > 1:  # say what each address did (loopback: both)
        if set(dial.tried.values()) == {"refused"}:
            error = replace(error, message=f"nothing listens on {' nor '.join(dial.tried)}: each refused the connection")
        else:
            error = replace(error, message=f"{error.message} (tried {dial.tried_text()})")
    return error


def phase_timeout(dial: Dial, limit: float, where: str) -> ClassifiedError:
    """The connect ran out of time: say in which phase, after how long, and what that suggests."""
    within = f"within {limit:.1f} s"
    at = dial.address or where
    if dial.phase == "dns":
        return ClassifiedError(TIMEOUT, f"the host name {dial.host} did not resolve {within}",
                               "the DNS server is slow or unreachable: check the VPN or DNS settings, or use an IP address")
    if dial.phase == "tcp":
        tried = f" (tried {dial.tried_text()})" if dial.tried else ""
        return ClassifiedError(TIMEOUT, f"no TCP connection to {where} {within}{tried}",
                               "nothing answered the connection request: a firewall or VPN dropping packets, "
                               "a wrong host, or a server too overloaded to accept connections")
    if dial.phase == "tls":
        return ClassifiedError(TIMEOUT, f"the server at {at} accepted TCP but never completed the TLS handshake {within}",
                               "is this port speaking TLS (wss://)? Otherwise a proxy or firewall is holding the connection")
    if dial.phase == "proxy":
        return ClassifiedError(TIMEOUT, f"no WebSocket to {where} through the proxy {within}",
                               "the proxy or the server behind it did not answer: check HTTPS_PROXY/NO_PROXY and the proxy")
    return ClassifiedError(TIMEOUT, f"the server at {at} accepted TCP but never answered the WebSocket upgrade {within}",
                           "something holds the port but does not answer HTTP: a hung or overloaded server, or a process "
                           "that is not a web server — check what listens there and its logs")
