"""How a session opens and talks, shared by the one-shot run (`once`) and the dashboard's live
session (`live`): its options, a receiver that feeds frames to a judge, the handshake with its
docs/protocol.md §3 timing, the chat message, and a quiet close.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from wsdash.core.auth import TokenInfo
from wsdash.core.contract import Budgets
from wsdash.core.protocol import Event, handshake_acknowledged, user_message

DEFAULT_MESSAGE = "What is the status of my AI spend this month?"


@dataclass
class SessionOptions:
    url: str
    token: str | None = None
    auth: str = "subprotocol+header"
    tls_verify: bool = True
    message: str = DEFAULT_MESSAGE
    # once (golden-path): the whole run, connect to the outermost agent_completed; live (the
    # dashboard, whose connection outlives its runs): from sending each message
    timeout_s: float = 30.0
    grace_s: float = 0.5  # keep listening after completion so late frames are judged
    connect_timeout_s: float = 10.0  # at most this for DNS+TCP+TLS+upgrade (once: and within timeout_s)
    first_frame_wait_s: float = 2.0  # §3: wait this long for the server's first frame
    established_wait_s: float = 0.5  # §3: after connection_established, wait for a handshake_response
    complete_wait_s: float = 2.0  # §3: after acknowledging, wait for handshake_complete
    budgets: Budgets = field(default_factory=Budgets)


def token_summary(token: str | None) -> dict[str, Any] | None:
    info = TokenInfo.of(token)
    if info is None:
        return None
    left = info.seconds_left()
    return {"subject": info.subject, "expires_in_s": None if left is None else round(left)}


Feed = Callable[[float, "str | bytes"], Event]


class Receiver:
    """Hands frames to `feed`; `until` reads until a predicate holds or the deadline passes.
    `failed` says when to stop early (an authentication failure, say)."""

    def __init__(self, ws: Any, feed: Feed, failed: Callable[[], bool]) -> None:
        self.ws = ws
        self.feed = feed
        self.failed = failed
        self.loop = asyncio.get_running_loop()

    async def until(self, deadline: float, stop: Callable[[Event], bool]) -> Event | None:
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    data = await self.ws.recv()
                    event = self.feed(self.loop.time(), data)
                    if self.failed() or stop(event):
                        return event
        except TimeoutError:
            return None

    async def send(self, text: str) -> float:
        await self.ws.send(text)
        return self.loop.time()


async def handshake(rx: Receiver, opts: SessionOptions, on_sent: Callable[[float, str], None], *,
                    deadline: float | None = None) -> Any:
    """docs/protocol.md §3 timing. Returns the thread_id to use (None for older servers).

    Every wait here is optional (a server may send none of these frames), so under a `deadline`
    (the run's overall timeout) each takes at most half the time left: a tight --timeout still
    sends the message and judges the run, instead of spending it all on a courtesy wait."""
    loop = rx.loop

    def until(wait_s: float) -> float:
        now = loop.time()
        return now + wait_s if deadline is None else now + min(wait_s, max(0.0, deadline - now) / 2)

    first = await rx.until(until(opts.first_frame_wait_s), lambda e: True)
    if first is None or rx.failed():
        return None
    response = first if first.type == "handshake_response" else None
    if response is None:
        response = await rx.until(until(opts.established_wait_s), lambda e: e.type == "handshake_response")
        if response is None or response.type != "handshake_response" or rx.failed():
            return None
    thread_id = response.get("thread_id")
    ack = json.dumps(handshake_acknowledged(thread_id))
    on_sent(await rx.send(ack), ack)
    await rx.until(until(opts.complete_wait_s), lambda e: e.type == "handshake_complete")
    return thread_id


DEMO_SOCKET_PATH = "/api/demo/ws"


def chat_message(opts: SessionOptions, thread_id: Any) -> str:
    """The chat message as the endpoint expects it: the no-login demo socket takes the short
    `chat` form (docs/protocol.md §3.3); every other endpoint a `user_message`."""
    if urlsplit(opts.url).path.rstrip("/").endswith(DEMO_SOCKET_PATH):
        return json.dumps({"type": "chat", "message": opts.message})
    return json.dumps(user_message(opts.message, thread_id, f"wsdash-{uuid.uuid4().hex[:12]}"))


async def close_quietly(ws: Any, wait_s: float = 1.0) -> None:
    try:
        async with asyncio.timeout(wait_s):
            await ws.close()
    except Exception:  # noqa: BLE001 - closing a dead socket is not news
        transport = getattr(ws, "transport", None)
        if transport is not None:
            transport.abort()
