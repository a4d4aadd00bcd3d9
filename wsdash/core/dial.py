"""Find a TCP connection to host:port: DNS in a thread of its own, then the addresses raced
happy-eyeballs style (RFC 8305), loopback's IPv4 and IPv6 always both.

Why both on loopback: a dev server started on `localhost` may listen on ::1 only (Node ≥ 17,
Vite), Docker publishes on 127.0.0.1 only, and on Windows a refused loopback connect takes about
2 s (the SYN is retried) — trying one after the other would report "refused" for a service that
is up, or take seconds to say so. `Dial` keeps what it tried, so a failure or a timeout can say
which address did what (docs/protocol.md §3.1).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

LOOPBACK_NAMES = ("localhost", "localhost.localdomain")
LOOPBACK_V4, LOOPBACK_V6 = "127.0.0.1", "::1"
# Loopback answers in microseconds: an attempt not done after 0.1 s is refusing slowly (Windows)
# or not accepting at all, so the other address starts. Elsewhere RFC 8305's 250 ms.
LOOPBACK_STAGGER_S = 0.1
STAGGER_S = 0.25

AddrInfo = tuple[Any, Any, int, str, Any]  # socket.getaddrinfo's rows


def show(sockaddr: Any) -> str:
    """'127.0.0.1:8002' or '[::1]:8002'."""
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class Dial:
    """What one connect did so far: the phase it is in, the addresses it tried (address → outcome),
    the one it got, and the phases timed so far (ms). Readable at any time: the progress line, a
    timeout or a Ctrl+C that cuts the connect halfway say where it was."""

    host: str = ""
    port: int = 0
    phase: str = "dns"  # dns · tcp · tls · upgrade · proxy · open
    tried: dict[str, str] = field(default_factory=dict)
    address: str | None = None
    phases: dict[str, float] = field(default_factory=dict)

    def tried_text(self) -> str:
        return ", ".join(f"{a} {'no answer' if o == 'trying' else o}" for a, o in self.tried.items())


async def resolve(host: str, port: int) -> list[AddrInfo]:
    """getaddrinfo without the event loop's executor: a resolver that hangs must not keep the
    process alive after the timeout (asyncio.run waits for its executor's threads to finish)."""
    try:  # a literal address needs no resolver
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        pass
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[list[AddrInfo]] = loop.create_future()

    def settle(result: Any, exc: BaseException | None) -> None:
        if fut.done():  # the caller gave up (timeout)
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)

    def work() -> None:
        try:
            result, exc = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), None
        except BaseException as e:  # noqa: BLE001 - handed to the waiting coroutine
            result, exc = None, e
        try:
            loop.call_soon_threadsafe(settle, result, exc)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    threading.Thread(target=work, name="wsdash-dns", daemon=True).start()
    return await fut


def candidates(host: str, infos: list[AddrInfo]) -> list[AddrInfo]:
    """The addresses to try, best first: a literal address as given, names IPv4 first (on
    Windows a refused ::1 costs ~2 s); for loopback both 127.0.0.1 and ::1, whatever resolved."""
    seen: set[Any] = set()
    rows = []
    for info in infos:
        if info[4] not in seen:
            seen.add(info[4])
            rows.append(info)
    literal = host not in LOOPBACK_NAMES and _is_literal(host)
    if not literal:
        rows.sort(key=lambda info: info[0] != socket.AF_INET)
    if host in LOOPBACK_NAMES or host in (LOOPBACK_V4, LOOPBACK_V6):
        port = rows[0][4][1] if rows else 0
        have = {info[4][0] for info in rows}
        if LOOPBACK_V4 not in have:
            rows.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (LOOPBACK_V4, port)))
        if LOOPBACK_V6 not in have and socket.has_ipv6:
            rows.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (LOOPBACK_V6, port, 0, 0)))
    return rows


def _is_literal(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 0, flags=socket.AI_NUMERICHOST)
        return True
    except (socket.gaierror, UnicodeError):
        return False


def outcome(exc: BaseException) -> str:
    """A word or two for `Dial.tried`."""
    from wsdash.core.errors import is_refused

    if is_refused(exc):
        return "refused"
    return getattr(exc, "strerror", None) or type(exc).__name__


async def connect_tcp(dial: Dial) -> socket.socket:
    """DNS, then a staggered race of the addresses; the first connected socket wins and the others
    are closed. Raises the best address's error when every attempt failed."""
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    dial.phase = "dns"
    infos = await resolve(dial.host, dial.port)
    t1 = time.perf_counter()
    dial.phases["dns_ms"] = (t1 - t0) * 1000
    rows = candidates(dial.host, infos)
    if not rows:
        raise socket.gaierror(socket.EAI_NONAME, f"no address for {dial.host}")
    dial.phase = "tcp"
    loopback = dial.host in LOOPBACK_NAMES or dial.host in (LOOPBACK_V4, LOOPBACK_V6)
    sock, addr = await _race(loop, rows, dial, LOOPBACK_STAGGER_S if loopback else STAGGER_S)
    dial.phases["tcp_ms"] = (time.perf_counter() - t1) * 1000
    dial.address = addr
    return sock


async def _attempt(loop: asyncio.AbstractEventLoop, info: AddrInfo) -> socket.socket:
    family, type_, proto, _, sockaddr = info
    sock = socket.socket(family, type_, proto)
    try:
        sock.setblocking(False)
        await loop.sock_connect(sock, sockaddr)
    except BaseException:  # a cancelled attempt too: never leak the socket
        sock.close()
        raise
    return sock


async def _race(loop: asyncio.AbstractEventLoop, rows: list[AddrInfo], dial: Dial, stagger: float) -> tuple[socket.socket, str]:
    running: dict[asyncio.Task[socket.socket], str] = {}
    failures: dict[str, BaseException] = {}
    todo = list(rows)

    def start() -> None:
        info = todo.pop(0)
        addr = show(info[4])
        dial.tried[addr] = "trying"
        running[asyncio.ensure_future(_attempt(loop, info))] = addr

    start()
    try:
        while running:
            done, _ = await asyncio.wait(running, timeout=stagger if todo else None, return_when=asyncio.FIRST_COMPLETED)
            if not done:  # the stagger passed with no answer: start the next address alongside
                start()
                continue
            for task in done:
                addr = running.pop(task)
                exc = task.exception()
                if exc is None:
                    dial.tried[addr] = "connected"
                    return task.result(), addr
                dial.tried[addr] = outcome(exc)
                failures[addr] = exc
            if not running and todo:
                start()
    finally:
        for task in running:
            task.cancel()
        for result in await asyncio.gather(*running, return_exceptions=True):
            if isinstance(result, socket.socket):  # connected just as another won
                result.close()
    # Every address failed: raise the best one's error (the first tried); the others are in `tried`.
    raise failures[show(rows[0][4])]
