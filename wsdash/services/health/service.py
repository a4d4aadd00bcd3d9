"""Probe one configured target: DNS, TCP, TLS certificate, WebSocket upgrade, token acceptance,
HTTP health endpoints — each a timed sub-check with a classified error and a hint.

The WebSocket goes through `wsdash.core.connection.open_ws`, so "connected" means what it means in a
golden-path session, and DNS/TCP times are that connection's own phases (one connection, not
three). Because permissive demo servers accept anything, an open socket is not taken as proof
that the token is good: the probe listens briefly for a rejection (docs/protocol.md §2).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Mapping
from urllib.parse import urlsplit

from wsdash.core.auth import TokenError, TokenInfo, token_for
from wsdash.core.config import TargetConfig
from wsdash.core.connection import ConnectError, proxy_configured, is_loopback, open_ws
from wsdash.core.errors import AUTH, CONFIG, ClassifiedError, auth_refusal, close_error, close_of
from wsdash.services.health.endpoints import http_check, left, tls_check, tls_context
from wsdash.core.protocol import auth_failure, parse_frame
from wsdash.services.health.model import DEGRADED, DOWN, SKIPPED, UP, CheckResult, ProbeResult, summarize
from wsdash.core.redact import redact_url, scrub

CORE = ("dns", "tcp", "websocket", "auth")  # any of these down → the golden path cannot run
ORDER = ("dns", "tcp", "tls", "websocket", "auth", "health", "auth_health")


async def probe_target(
    target: TargetConfig,
    *,
    timeout: float = 5.0,
    env: Mapping[str, str] | None = None,
    auth_wait_s: float = 0.3,
) -> ProbeResult:
    """Probe `target` within `timeout` seconds; never raises. Sub-checks run concurrently
    (HTTP health and TLS beside the WebSocket), so the probe costs its slowest part."""
    warm_up()
    deadline = asyncio.get_running_loop().time() + timeout
    start = time.perf_counter()
    token, token_error = await asyncio.to_thread(_token, target, env)  # an E2E fetch is HTTP
    try:
        urlsplit(target.ws_url).port  # noqa: B018 - only validating
    except ValueError:  # "ws://host:99999/ws" passes config's prefix check but is no address
        err = ClassifiedError(CONFIG, f"bad port in {redact_url(target.ws_url)}", f"fix targets.{target.name}.ws_url in wsdash.toml")
        return summarize(target.name, [CheckResult("dns", DOWN, None, err)], 0.0, core=CORE)
    jobs = [_ws_checks(target, token, token_error, deadline, auth_wait_s)]
    cert: asyncio.Task[tuple[CheckResult, float | None]] | None = None
    tls_url = _tls_url(target)
    if tls_url is not None:
        tp = urlsplit(tls_url)
        cert = asyncio.ensure_future(tls_check(tls_url, tp.hostname or "", tp.port or 443, target.tls_verify, deadline))
    if target.health_url:
        jobs.append(_one(http_check, "health", target.health_url, target.tls_verify, deadline))
    if target.auth_health_url:
        jobs.append(_one(http_check, "auth_health", target.auth_health_url, target.tls_verify, deadline))
    checks = [c for group in await asyncio.gather(*jobs) for c in group]
    facts: dict[str, Any] = {"url": redact_url(target.ws_url)}
    if cert is not None:
        tls, days = await cert
        checks.append(tls)
        if days is not None:
            facts["cert_days_left"] = round(days)
    checks.sort(key=lambda c: ORDER.index(c.name))
    result = summarize(target.name, checks, (time.perf_counter() - start) * 1000, core=CORE, facts=facts)
    result.detail = " · ".join(filter(None, map(_short, checks)))
    return result


def _tls_url(target: TargetConfig) -> str | None:
    """Whose certificate to read: the WebSocket's (wss), else the health endpoint's (https)."""
    for url in (target.ws_url, target.health_url):
        if url and url.startswith(("wss://", "https://")):
            try:
                urlsplit(url).port  # noqa: B018 - a bad port is reported by the WebSocket check
            except ValueError:
                return None
            return url
    return None


async def _one(check: Any, *args: Any) -> list[CheckResult]:
    # The check's coroutine is made here, not by the caller: a probe cancelled before this starts
    # (a tiny --timeout) left it never awaited, and Python printed a RuntimeWarning on stderr.
    return [await check(*args)]


def warm_up() -> None:
    """Do the slow synchronous work (imports, loading CA stores: ~30 ms each) before any clock
    starts: done while other probes' sockets are pending, it would block the loop and inflate
    their DNS/TCP times."""
    import encodings.idna  # noqa: F401 - the WebSocket client's first use of a host name
    import httpx
    import jwt  # noqa: F401 - minting a token from a secret
    import websockets.asyncio.client  # noqa: F401

    httpx.AsyncHTTPTransport(verify=False)  # imports httpcore and h11
    try:  # what httpcore loads on its first request (private paths: best effort)
        import anyio._backends._asyncio  # noqa: F401
    except ImportError:  # pragma: no cover
        pass
    tls_context(True)
    tls_context(False)


def _short(c: CheckResult) -> str:
    """A few words per check for the one-line summary; the full story stays in `checks`."""
    if c.name == "websocket":
        return f"ws {c.latency_ms:.0f} ms" if c.status == UP and c.latency_ms is not None else ""
    if c.name == "auth":
        if c.status == SKIPPED:
            return "no token (auth not proven)" if "no token" in c.detail else ""
        return {UP: "token accepted" if "accepted" in c.detail else "token not rejected",
                DEGRADED: "expired token accepted", DOWN: "token rejected"}.get(c.status, "")
    if c.name in ("health", "auth_health") and c.detail:
        return f"{c.name.replace('_', ' ')} {c.detail.removeprefix('HTTP ')}"
    if c.name == "tls" and c.detail:
        return "cert " + c.detail.split(" (")[0]
    return ""


def _token(target: TargetConfig, env: Mapping[str, str] | None) -> tuple[str | None, ClassifiedError | None]:
    try:
        return token_for(target, env=env), None
    except TokenError as exc:  # e.g. an unreadable secret file: still probe the socket anonymously
        return None, ClassifiedError(CONFIG, scrub(str(exc)), f"fix the token source of target {target.name!r} in wsdash.toml")


def _token_sources(target: TargetConfig) -> str:
    names = [f"${target.token_env}" if target.token_env else "", f"${target.secret_env}" if target.secret_env else "",
             target.secret_file or ""]
    return " or ".join(n for n in names if n) or "token_env / secret_env / secret_file in wsdash.toml"


# -- the WebSocket: dns, tcp, websocket, auth ---------------------------------------------------
async def _ws_checks(target: TargetConfig, token: str | None, token_error: ClassifiedError | None,
                     deadline: float, auth_wait_s: float) -> list[CheckResult]:
    url = target.ws_url
    parts = urlsplit(url)
    direct = is_loopback(parts.hostname or "") or not proxy_configured(parts.scheme)
    try:
        conn = await open_ws(url, token=token, auth=target.auth, tls_verify=target.tls_verify, timeout=left(deadline))
    except ConnectError as exc:
        return _failed_phases(exc.error, exc.phases, direct, token_error)
    ph = conn.phases
    checks = _ok_phases(ph, direct)
    detail = f"upgraded in {ph.get('upgrade_ms', 0):.0f} ms" + (" (token as subprotocol)" if conn.subprotocol else "")
    ws_check = CheckResult("websocket", UP, ph.get("upgrade_ms"), None, detail)
    t0 = time.perf_counter()
    try:
        ws_check, auth_check = await _listen(conn.ws, target, token, token_error, ws_check,
                                             min(auth_wait_s, left(deadline)))
    finally:
        await _close(conn.ws, min(0.5, left(deadline)))
    auth_check.latency_ms = (time.perf_counter() - t0) * 1000
    return [*checks, ws_check, auth_check]


def _ok_phases(ph: dict[str, float], direct: bool) -> list[CheckResult]:
    if not direct:
        note = "through a proxy: timed inside the upgrade"
        return [CheckResult("dns", SKIPPED, None, None, note), CheckResult("tcp", SKIPPED, None, None, note)]
    return [CheckResult("dns", UP, ph.get("dns_ms")), CheckResult("tcp", UP, ph.get("tcp_ms"))]


def _failed_phases(err: ClassifiedError, ph: dict[str, float], direct: bool,
                   token_error: ClassifiedError | None) -> list[CheckResult]:
    """Which phase failed follows from which phases finished before the error."""
    total = ph.get("total_ms")
    not_reached = lambda name, why: CheckResult(name, SKIPPED, None, None, why)  # noqa: E731
    if not direct:
        checks = _ok_phases(ph, direct) + [CheckResult("websocket", DOWN, total, err)]
    elif "dns_ms" not in ph:
        checks = [CheckResult("dns", DOWN, total, err), not_reached("tcp", "no address"),
                  not_reached("websocket", "no address")]
    elif "tcp_ms" not in ph:
        checks = [CheckResult("dns", UP, ph["dns_ms"]),
                  CheckResult("tcp", DOWN, None if total is None else total - ph["dns_ms"], err),
                  not_reached("websocket", "no TCP connection")]
    else:
        upgrade = None if total is None else total - ph["dns_ms"] - ph["tcp_ms"]
        checks = [CheckResult("dns", UP, ph["dns_ms"]), CheckResult("tcp", UP, ph["tcp_ms"]),
                  CheckResult("websocket", DOWN, upgrade, err)]
    if err.kind == AUTH:  # HTTP 401/403 at the upgrade: the token was refused
        checks.append(CheckResult("auth", DOWN, None, err, "rejected at the upgrade"))
    elif token_error is not None:
        checks.append(CheckResult("auth", DOWN, None, token_error))
    else:
        checks.append(not_reached("auth", "no WebSocket to test the token on"))
    return checks


async def _listen(ws: Any, target: TargetConfig, token: str | None, token_error: ClassifiedError | None,
                  ws_check: CheckResult, wait_s: float) -> tuple[CheckResult, CheckResult]:
    """Read frames for `wait_s` (or until the server confirms the connection): a rejection comes as
    an AUTH_FAILED error frame or an auth close code right after the upgrade."""
    from websockets.exceptions import ConnectionClosed

    try:
        async with asyncio.timeout(wait_s):
            while True:
                event = parse_frame(await ws.recv())  # every envelope, as the session reads it
                refusal = auth_refusal(auth_failure(event), token_sent=True)
                if refusal is not None:
                    return ws_check, _rejected(refusal, target, token)
                if event.type in ("connection_established", "handshake_response"):
                    return ws_check, _accepted(target, token, token_error, f"accepted ({event.type})")
    except TimeoutError:
        return ws_check, _accepted(target, token, token_error, f"not rejected within {wait_s:.1f} s")
    except ConnectionClosed as exc:
        close = close_of(exc)
        err = close_error(close.code, close.reason, target.ws_url, close.by)
        if err.kind == AUTH:
            return ws_check, _rejected(err, target, token)
        # Closed at once for another reason (1011 "not ready"…): the socket is not usable.
        return CheckResult("websocket", DOWN, ws_check.latency_ms, err), CheckResult(
            "auth", SKIPPED, None, None, "closed before the token could be judged")


def _rejected(err: ClassifiedError, target: TargetConfig, token: str | None) -> CheckResult:
    if token is None:  # the server wants a token and we had none: say where one would come from
        err = ClassifiedError(AUTH, err.message + " (no token was sent)",
                              f"this server requires a token: set {_token_sources(target)}", err.code)
    return CheckResult("auth", DOWN, None, err, "token rejected" if token else "no token, rejected")


def _accepted(target: TargetConfig, token: str | None, token_error: ClassifiedError | None, how: str) -> CheckResult:
    if token_error is not None:
        return CheckResult("auth", DOWN, None, token_error, f"{how} anonymously")
    if token is None:
        # Not a failure (the server may need no auth), but not a proof either: say so plainly.
        return CheckResult("auth", SKIPPED, None, None,
                           f"no token configured ({_token_sources(target)}): {how} anonymously, which proves nothing about auth")
    info = TokenInfo.of(token)
    left = info.seconds_left() if info else None
    if left is not None and left <= 0:
        err = ClassifiedError(AUTH, f"{info.describe()} yet {how}" if info else how,
                              "the server accepts expired tokens (permissive/demo mode?): a strict server will not")
        return CheckResult("auth", DEGRADED, None, err, "expired token not rejected")
    return CheckResult("auth", UP, None, None, f"token {how}" + (f", {info.describe()}" if info else ""))


async def _close(ws: Any, timeout: float) -> None:
    try:
        await asyncio.wait_for(ws.close(), timeout)
    except Exception:  # noqa: BLE001 - a slow close must not eat the deadline
        ws.transport.abort()


