"""Exception → classified error with an actionable hint, portable across Windows, Linux, macOS.

Every failure wsdash shows (screen or JSON) is a `ClassifiedError`: a `kind` a script can branch
on, the original message (redacted) and one line that says what to do. See docs/protocol.md §6–§7.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from wsdash.core.redact import scrub

# Kinds, as strings so that JSON and scripts see the same names.
REFUSED = "refused"
TIMEOUT = "timeout"
DNS = "dns"
TLS = "tls"
AUTH = "auth"
NOT_WEBSOCKET = "not_websocket"
HTTP = "http"
CLOSED = "closed"
PROXY = "proxy"
PERMISSION = "permission"
NETWORK = "network"
CONFIG = "config"
RECORDING = "recording"  # a replayed recording that stops before its run did (cut short)
UNKNOWN = "unknown"

# "Nothing is listening": Linux 111, macOS 61, Winsock 10061, asyncio's Windows loop 1225.
_REFUSED_ERRNOS = {errno.ECONNREFUSED, 111, 61, 10061}
_REFUSED_WINERRORS = {1225, 10061}
_UNREACHABLE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, 10051, 10065, 1231, 1232}
AUTH_CLOSE_CODES = {1008, 4401, 4403}
# What a hint may always offer when the local stack (Docker) is out: it exists wherever wsdash does.
# A hint never names another target: whether one is up is known only after the health check, which
# adds the ones that are (services/health/check.point_hints).
DEMO_ALTERNATIVE = "or run `wsdash demo` (it needs no Docker)"

CLOSE_CODE_MEANINGS = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status code",
    1006: "abnormal closure: no close frame (network drop or the server process died)",
    1007: "invalid payload data",
    1008: "policy violation (authentication)",
    1009: "message too big",
    1010: "mandatory extension",
    1011: "server error (or service not ready)",
    1012: "service restart",
    1013: "try again later (overload)",
    1014: "bad gateway",
    1015: "TLS handshake failure",
    4401: "unauthorized",
    4403: "forbidden",
}


@dataclass(frozen=True)
class ClassifiedError:
    kind: str
    message: str
    hint: str
    code: int | None = None  # close code or HTTP status, when there is one

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "message": self.message, "hint": self.hint}
        if self.code is not None:
            data["code"] = self.code
        return data

    def __str__(self) -> str:
        return f"{self.kind}: {self.message} — {self.hint}"


def exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (httpx and websockets wrap the real one)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        cur = todo.pop(0)
        if cur is None or any(cur is s for s in seen):
            continue
        seen.append(cur)
        if isinstance(cur, BaseExceptionGroup):
            todo.extend(cur.exceptions)
        for nxt in (cur.__cause__, cur.__context__):
            if nxt is not None:
                todo.append(nxt)
    return seen


def _host_port(url: str | None) -> str:
    if not url:
        return "the server"
    try:
        parts = urlsplit(url)
        port = parts.port or {"ws": 80, "http": 80, "wss": 443, "https": 443}.get(parts.scheme, 0)
        return f"{parts.hostname}:{port}"
    except ValueError:
        return url


def is_refused(exc: BaseException) -> bool:
    for e in exception_chain(exc):
        if isinstance(e, ConnectionRefusedError):
            return True
        if isinstance(e, OSError):
            if getattr(e, "winerror", None) in _REFUSED_WINERRORS:
                return True
            if e.errno in _REFUSED_ERRNOS and not isinstance(e, socket.gaierror):
                return True
    return False


SERVER, CLIENT, NOBODY = "server", "client", "nobody"  # who closed a connection


@dataclass(frozen=True)
class Close:
    """How a WebSocket ended, as the client saw it. `by`: who sent the first close frame —
    the server, the client (wsdash itself, e.g. 1007 for a frame that was not UTF-8), or nobody
    (1006: the connection dropped with no close frame either way)."""

    code: int
    reason: str = ""
    by: str = SERVER


def close_of(exc: BaseException) -> Close:
    """The one reading of a websockets ConnectionClosed (its rcvd/sent close frames)."""
    rcvd = getattr(exc, "rcvd", None)
    sent = getattr(exc, "sent", None)
    if rcvd is not None and (sent is None or getattr(exc, "rcvd_then_sent", True)):
        return Close(rcvd.code, rcvd.reason, SERVER)
    if sent is not None:
        return Close(sent.code, sent.reason, CLIENT)
    return Close(1006, "", NOBODY)


def close_error(code: int | None, reason: str = "", url: str | None = None, by: str = SERVER) -> ClassifiedError:
    """Classify a close seen by a client (1008/4401/4403 are authentication failures), saying who
    closed: a client-side close is wsdash refusing what the server sent, not a network problem."""
    meaning = CLOSE_CODE_MEANINGS.get(code or 0, "unrecognised close code")
    who = {SERVER: "the server closed the connection", CLIENT: "wsdash (the client) closed the connection",
           NOBODY: "the connection dropped with no close frame from either side"}.get(by, "the connection closed")
    if by == NOBODY and code == 1006:
        meaning = "abnormal closure"  # the generic meaning's guesses follow in the hint
    text = f"{who}, code {code} ({meaning})" if by == NOBODY else f"{who} with code {code} ({meaning})"
    text += f": {reason}" if reason else ""
    if code in AUTH_CLOSE_CODES:
        return ClassifiedError(AUTH, scrub(text), _AUTH_HINT, code)
    if by == CLIENT:
        if code == 1007:
            text = ("a text frame from the server was not valid UTF-8" + (f" ({reason})" if reason else "")
                    + f", so wsdash (the client) closed the connection with code 1007 ({meaning})")
            hint = ("the server encoded a text frame wrongly (e.g. Latin-1 or raw bytes sent as text): "
                    "a bug in the server's sending code — check what it writes to the socket")
        elif code == 1009:
            hint = "the server sent a frame larger than wsdash accepts: a server bug or a runaway payload"
        else:
            hint = "wsdash refused what the server sent (a protocol error on the server's side): see the reason"
        return ClassifiedError(CLOSED, scrub(text), hint, code)
    if code == 1006:
        hint = "the connection dropped without a close frame: check the server's logs and the network path"
    elif code == 1011:
        hint = "the server hit an internal error or was not ready: check its /health and logs, then retry"
    elif code in (1012, 1013, 1014):
        hint = "the server is restarting or overloaded: retry in a few seconds"
    else:
        hint = f"the server closed the connection to {_host_port(url)}: see the reason and its logs"
    return ClassifiedError(CLOSED, scrub(text), hint, code)


_AUTH_HINT = (
    "the token was rejected: check it is signed with the server's JWT secret, not expired, and "
    "carries iss/token_type/jti (`wsdash golden-path --secret-file F` mints a valid one)"
)
_NO_TOKEN_HINT = (
    "the server requires a token and none was sent: pass --token, --token-env VAR, --secret or "
    "--secret-file (or set the target's token_env / secret_env)"
)


def auth_error(message: str, *, token_sent: bool, code: int | None = None) -> ClassifiedError:
    """Authentication failed, in any of its shapes (docs/protocol.md §2), with the hint that fits."""
    return ClassifiedError(AUTH, scrub(message), _AUTH_HINT if token_sent else _NO_TOKEN_HINT, code)


def auth_refusal(server_words: str | None, *, token_sent: bool) -> ClassifiedError | None:
    """The error for an AUTH_FAILED frame (`protocol.auth_failure` gives the server's words)."""
    if server_words is None:
        return None
    return auth_error(f"AUTH_FAILED: {server_words}", token_sent=token_sent)


def _body_text(body: bytes | bytearray | str | None, limit: int = 600) -> str:
    """The server's words from an HTTP error body: one line, printable, short."""
    if not body:
        return ""
    text = body if isinstance(body, str) else bytes(body).decode("utf-8", "replace")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return scrub(text if len(text) <= limit else text[: limit - 1] + "…")


def http_status_error(status: int, url: str | None = None, body: bytes | bytearray | str | None = None) -> ClassifiedError:
    """A refused upgrade. The body, when the server sent one, is quoted: it often says exactly
    what was wrong (wsdash serve names the scenarios it knows)."""
    error = _http_status_error(status, url)
    said = _body_text(body)
    if not said:
        return error
    if error.kind == HTTP and 400 <= status < 500 and status != 404:
        # A 400 (say) is the server telling what it did not like: its words are the best advice.
        return ClassifiedError(error.kind, error.message, f"the server said: {said}", status)
    return ClassifiedError(error.kind, f"{error.message}: {said}", error.hint, status)


def _http_status_error(status: int, url: str | None) -> ClassifiedError:
    where = _host_port(url)
    if status in (401, 403):
        return ClassifiedError(AUTH, f"HTTP {status} at the WebSocket upgrade", _AUTH_HINT, status)
    if status == 200 or 200 <= status < 300:
        return ClassifiedError(
            NOT_WEBSOCKET,
            f"HTTP {status} instead of 101 Switching Protocols",
            f"{where} answered with a plain HTTP page: the URL's path is not a WebSocket endpoint (expected …/ws)",
            status,
        )
    if status == 404:
        return ClassifiedError(HTTP, "HTTP 404 at the WebSocket upgrade", f"no route at that path on {where}: check the URL's path (…/ws)", status)
    if 300 <= status < 400:
        return ClassifiedError(HTTP, f"HTTP {status} redirect at the upgrade", "the URL redirects: use the final address (http→https means ws→wss)", status)
    if status >= 500:
        return ClassifiedError(HTTP, f"HTTP {status} at the WebSocket upgrade", f"the server at {where} is failing: check its /health and logs", status)
    return ClassifiedError(HTTP, f"HTTP {status} at the WebSocket upgrade", "the server refused the upgrade: check the URL and headers", status)


def classify(exc: BaseException, url: str | None = None) -> ClassifiedError:
    """Turn any exception from connecting or talking to a server into a ClassifiedError."""
    where = _host_port(url)
    message = scrub(_describe(exc))
    chain = exception_chain(exc)

    # websockets' own exceptions carry the most precise facts: look at them first.
    try:
        from websockets import exceptions as wse
    except ImportError:  # pragma: no cover - websockets is a dependency
        wse = None  # type: ignore[assignment]
    if wse is not None:
        for e in chain:
            if isinstance(e, wse.InvalidStatus):
                return http_status_error(e.response.status_code, url, e.response.body)
            if isinstance(e, wse.ConnectionClosed):
                close = close_of(e)
                return close_error(close.code, close.reason, url, close.by)
            if hasattr(wse, "ProxyError") and isinstance(e, wse.ProxyError):
                return ClassifiedError(PROXY, message, "the proxy refused the connection: check HTTPS_PROXY/NO_PROXY", None)
            if isinstance(e, (wse.InvalidMessage, wse.InvalidHeader, wse.InvalidUpgrade)):
                return ClassifiedError(
                    NOT_WEBSOCKET, message,
                    f"{where} did not speak the WebSocket handshake: is this the right port and path?",
                )
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return ClassifiedError(TLS, message, "the server's TLS certificate was not trusted: check the host name and CA bundle (verification stays on unless you set tls_verify = false)")
        if isinstance(e, ssl.SSLError):
            return ClassifiedError(TLS, message, "the TLS handshake failed: is the port speaking TLS (wss://) or plain (ws://)?")
    for e in chain:
        if isinstance(e, socket.gaierror):
            return ClassifiedError(DNS, message, f"the host name of {where} does not resolve: check the spelling, VPN or DNS")
    if is_refused(exc):
        hint = f"no service is listening on {where}"
        if where.endswith(":8002"):
            hint += " — is the Docker test stack up? start it, " + DEMO_ALTERNATIVE
        else:
            hint += ": start it, or check the host and port"
        return ClassifiedError(REFUSED, message, hint)
    for e in chain:
        if isinstance(e, (TimeoutError, asyncio.TimeoutError, socket.timeout)) or type(e).__name__.endswith("Timeout") or type(e).__name__ in ("TimeoutException", "ConnectTimeout", "ReadTimeout", "PoolTimeout"):
            return ClassifiedError(TIMEOUT, message or "timed out", f"{where} did not answer in time: is a firewall or VPN dropping packets, or is the server overloaded?")
    for e in chain:
        name = type(e).__name__
        if name == "ProxyError":
            return ClassifiedError(PROXY, message, "the proxy refused the connection: check HTTPS_PROXY/NO_PROXY")
        if isinstance(e, PermissionError):
            return ClassifiedError(PERMISSION, message, "permission denied: check the file or socket permissions")
        if isinstance(e, OSError) and (e.errno in _UNREACHABLE_ERRNOS or getattr(e, "winerror", None) in _UNREACHABLE_ERRNOS):
            return ClassifiedError(NETWORK, message, f"{where} is unreachable from here: check the network, VPN or routes")
        if isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
            return close_error(1006, "", url, NOBODY)
    for e in chain:
        if "getaddrinfo failed" in str(e) or "Name or service not known" in str(e) or "nodename nor servname" in str(e):
            return ClassifiedError(DNS, message, f"the host name of {where} does not resolve: check the spelling, VPN or DNS")
    return ClassifiedError(UNKNOWN, message, "unexpected failure: rerun with --json for details and check the server's logs")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    if not text:
        for e in exception_chain(exc)[1:]:
            if str(e).strip():
                return f"{name}: {type(e).__name__}: {str(e).strip()}"
        return name
    return f"{name}: {text}" if name not in text else text


# Binding a listening socket (wsdash serve, demo). asyncio re-raises a bind failure as
# OSError(errno, text): on Windows errno is then the Winsock number (10048, 10049), not EADDRINUSE.
_ADDR_IN_USE = {errno.EADDRINUSE, 10048}
_ADDR_NOT_HERE = {errno.EADDRNOTAVAIL, 10049}


def listen_error(exc: OSError, host: str, port: int) -> ClassifiedError:
    """Why a server could not listen on host:port, and what to do instead."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    numbers = {exc.errno, getattr(exc, "winerror", None)}
    if isinstance(exc, socket.gaierror):
        return ClassifiedError(CONFIG, f"cannot listen on {where}: the host name {host!r} does not resolve",
                               "use an address of this machine: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)")
    if numbers & _ADDR_NOT_HERE:
        return ClassifiedError(CONFIG, f"cannot listen on {where}: {host} is not an address of this machine",
                               "use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of this machine's own addresses")
    if numbers & _ADDR_IN_USE:
        return ClassifiedError(CONFIG, f"cannot listen on {where}: the port is taken (another server is listening on it)",
                               "stop that server, or pass --port 0 for a free port")
    if isinstance(exc, PermissionError):
        return ClassifiedError(PERMISSION, f"cannot listen on {where}: permission denied",
                               "ports below 1024 need administrator rights; on Windows the port may be in a range "
                               "reserved by Hyper-V or WSL (netsh interface ipv4 show excludedportrange protocol=tcp): "
                               "pass --port 0 for a free port")
    return ClassifiedError(UNKNOWN, f"cannot listen on {where}: {scrub(exc.strerror or str(exc))}", "pass --port 0 for a free port")
