"""The embedded agent server: speaks docs/protocol.md like the real backend, with faults on demand.

Used by `wsdash serve`, `wsdash demo`, the tests and the benchmarks. One `websockets` server
answers the WebSocket on /ws (and the no-login demo socket on /api/demo/ws) and the HTTP health
routes from the same port.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wsdash.services.agent_server import envelopes
from wsdash.services.agent_server.scenarios import ScenarioError, Step, script, validate
from wsdash.core.auth import TokenError, verify_token
from wsdash.core.errors import AUTH_CLOSE_CODES

AUTH_PREFIXES = ("jwt-auth.", "jwt.", "bearer.")
HEALTH_ROUTES = {
    "/health": {"status": "ok"},
    "/health/ready": {"status": "ready"},
}


@dataclass
class _Conn:
    scenario: str
    envelope: str
    handshake: bool
    user_id: str
    auth_error: str | None
    subprotocol: str | None
    pace: float
    greet: bool = True  # False (?greet=0): say nothing first, like the oldest servers (docs/protocol.md §3.2)


class AgentServer:
    """`async with AgentServer(port=0) as srv:` → srv.url, srv.http_url."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8002,
        *,
        secret: str | None = None,
        scenario: str = "golden",
        envelope: str = "nested",
        handshake: bool = False,
        pace: float = 0.0,
        heartbeat_s: float = 10.0,
        http_delay: float = 0.0,
    ) -> None:
        validate(scenario)
        if envelope not in envelopes.ENVELOPES:
            raise ValueError(f"unknown envelope {envelope!r}: choose one of {', '.join(envelopes.ENVELOPES)}")
        self.host, self.port = host, port
        self.secret = secret
        self.scenario, self.envelope, self.handshake = scenario, envelope, handshake
        self.pace, self.heartbeat_s, self.http_delay = pace, heartbeat_s, http_delay
        self.connections = 0
        self.runs = 0
        self._server: Any = None
        self._conns: dict[int, _Conn] = {}

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self) -> "AgentServer":
        from websockets.asyncio.server import serve

        self._server = await serve(
            self._handler,
            self.host,
            self.port,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            max_size=64 * 1024 * 1024,
            server_header="wsdash-agent-server",
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> "AgentServer":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"ws://{self.netloc}/ws"

    @property
    def http_url(self) -> str:
        return f"http://{self.netloc}"

    # ---- HTTP side and auth ---------------------------------------------------------------------
    async def _process_request(self, connection: Any, request: Any) -> Any:
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path in HEALTH_ROUTES or parts.path == "/ws/health":
            if self.http_delay:
                await asyncio.sleep(self.http_delay)
            body = HEALTH_ROUTES.get(parts.path) or {
                "status": "healthy", "active_connections": len(self._conns), "runs": self.runs,
            }
            data = json.dumps(body).encode()
            headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return Response(200, "OK", headers, data)
        if parts.path not in ("/ws", "/api/demo/ws"):
            return connection.respond(HTTPStatus.NOT_FOUND, "no such route\n")
        try:
            scenario = validate(query.get("scenario", self.scenario))
        except ScenarioError as exc:
            return connection.respond(HTTPStatus.BAD_REQUEST, f"{exc}\n")
        envelope = query.get("envelope", self.envelope)
        if envelope not in envelopes.ENVELOPES:
            return connection.respond(HTTPStatus.BAD_REQUEST, f"unknown envelope {envelope!r}\n")
        demo = parts.path == "/api/demo/ws"
        try:
            pace = max(0.0, float(query.get("pace", self.pace)))
        except ValueError:
            return connection.respond(HTTPStatus.BAD_REQUEST, "pace must be a number of seconds\n")
        token, subprotocol = self._find_token(request, query)
        auth_error = None
        claims: dict[str, Any] = {}
        if self.secret is not None and not demo:
            if token is None:
                auth_error = "no token: send it as a jwt-auth.<token> subprotocol, an Authorization header or ?token="
            else:
                try:
                    claims = verify_token(token, self.secret)
                except TokenError as exc:
                    auth_error = str(exc)
        if scenario == "auth-reject" or (auth_error and query.get("reject") == "http"):
            return connection.respond(HTTPStatus.FORBIDDEN, "authentication failed\n")
        self._conns[id(connection)] = _Conn(
            scenario=scenario,
            envelope="demo" if demo else envelope,
            handshake=self.handshake or query.get("handshake") in ("1", "true"),
            user_id=str(claims.get("sub", "demo-user")),
            auth_error=auth_error,
            subprotocol=subprotocol,
            pace=pace,
            greet=query.get("greet") not in ("0", "false"),
        )
        return None

    @staticmethod
    def _find_token(request: Any, query: dict[str, str]) -> tuple[str | None, str | None]:
        """Subprotocol first, then Authorization, then ?token= (the real server's order)."""
        offered = request.headers.get_all("Sec-WebSocket-Protocol")
        entries = [e.strip() for h in offered for e in h.split(",") if e.strip()]
        if entries:
            for prefix in AUTH_PREFIXES:
                if entries[0].startswith(prefix):
                    return entries[0][len(prefix):], entries[0]
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip(), None
        return query.get("token"), None

    def _select_subprotocol(self, connection: Any, subprotocols: Any) -> str | None:
        conn = self._conns.get(id(connection))
        return conn.subprotocol if conn and conn.subprotocol in subprotocols else None

    # ---- WebSocket side ---------------------------------------------------------------------
    async def _handler(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        conn = self._conns.get(id(ws))
        if conn is None:  # pragma: no cover - process_request always registers
            return
        self.connections += 1
        fmt = envelopes.FORMATTERS[conn.envelope]
        run_task: asyncio.Task[None] | None = None
        try:
            if conn.auth_error:
                await ws.send(json.dumps({
                    "type": "error_message", "error_code": "AUTH_FAILED",
                    "error_message": f"Authentication failed: {conn.auth_error}", "details": {},
                }))
                await ws.close(1008, "Authentication failed")
                return
            head, _, arg = conn.scenario.partition(":")
            if head == "close" and int(arg) in AUTH_CLOSE_CODES:  # auth closes come at once, like a real server's
                await ws.close(int(arg), "Authentication failed")
                return
            if conn.greet:
                await ws.send(json.dumps(envelopes.connection_established(conn.envelope, uuid.uuid4().hex[:12], conn.user_id)))
            acknowledged = not conn.handshake
            thread_id = f"thread-{uuid.uuid4().hex[:8]}"
            if conn.handshake:
                await ws.send(json.dumps({"type": "handshake_response", "thread_id": thread_id, "timestamp": envelopes.iso_now()}))
            while True:
                try:
                    async with asyncio.timeout(self.heartbeat_s):
                        text = await ws.recv()
                except TimeoutError:
                    await ws.send(json.dumps({"type": "heartbeat", "data": {"server_time": envelopes.iso_now()}}))
                    continue
                try:
                    msg = json.loads(text)
                    kind = msg.get("type") if isinstance(msg, dict) else None
                except ValueError:
                    await ws.send(json.dumps({"type": "error_message", "error_code": "JSON_PARSE_ERROR", "error_message": "message is not valid JSON", "details": {}}))
                    continue
                if kind == "ping":
                    await ws.send(json.dumps({"type": "pong", "timestamp": envelopes.iso_now()}))
                elif kind == "handshake_acknowledged":
                    acknowledged = True
                    await ws.send(json.dumps({"type": "handshake_complete", "thread_id": thread_id, "timestamp": envelopes.iso_now()}))
                elif kind in ("user_message", "start_agent", "chat"):
                    if not acknowledged:
                        await ws.send(json.dumps({"type": "error_message", "error_code": "HANDSHAKE_REQUIRED",
                                                  "error_message": "acknowledge the handshake_response before sending messages", "details": {}}))
                        continue
                    text_in = _message_text(msg)
                    self.runs += 1
                    if run_task is None or run_task.done():
                        run_task = asyncio.create_task(self._play(ws, script(conn.scenario, text_in, conn.user_id), fmt, conn.pace))
                else:
                    await ws.send(json.dumps({"type": "error", "message": f"unsupported message type {kind!r}"}))
        except ConnectionClosed:
            pass
        finally:
            if run_task is not None:
                run_task.cancel()
            self._conns.pop(id(ws), None)

    async def _play(self, ws: Any, steps: list[Step], fmt: Any, pace: float) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            for step in steps:
                op = step[0]
                if op == "event":
                    if pace:
                        await asyncio.sleep(pace)
                    await ws.send(json.dumps(fmt(step[1], step[2])))
                elif op == "raw":
                    await ws.send(step[1])
                elif op == "raw-text":
                    await ws.send(step[1], text=True)  # unchecked: websockets sends the bytes as they are
                elif op == "sleep":
                    await asyncio.sleep(step[1])
                elif op == "burst":
                    await _send_burst(ws, json.dumps(fmt("agent_thinking", step[2])), step[1])
                elif op == "close":
                    await ws.close(step[1], "closed by scenario")
                    return
                elif op == "drop":
                    ws.transport.abort()  # no close frame: the client sees 1006
                    return
                elif op == "stall":
                    await asyncio.Future()  # silent until the client gives up
        except ConnectionClosed:
            pass


BURST_CHUNK_BYTES = 256 * 1024  # one write of a burst: many frames, so the loop is never per frame


async def _send_burst(ws: Any, text: str, count: int) -> None:
    """`count` copies of the frame `text`, as fast as the socket takes them.

    The frame is serialised once, down to its wire bytes (a server's frames are not masked), and
    written in chunks of whole frames under the connection's flow control: the server does no work
    per frame, so a client measured against it is never measuring the server (bench/ingest.py
    checks). The frames go uncompressed even where permessage-deflate was negotiated: RFC 7692
    lets any message go uncompressed (RSV1 clear), and both ends' deflate windows stay in step."""
    from websockets.frames import Frame, Opcode

    frame = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
    per_chunk = max(1, BURST_CHUNK_BYTES // len(frame))
    chunk = frame * per_chunk
    left = count
    while left:
        n = min(left, per_chunk)
        # send_context: send()'s own checks, close handling and flow control (it drains on exit)
        async with ws.send_context():
            ws.transport.write(chunk if n == per_chunk else frame * n)
        left -= n


def _message_text(msg: dict[str, Any]) -> str:
    payload = msg.get("payload") if isinstance(msg.get("payload"), dict) else {}
    for value in (payload.get("content"), payload.get("text"), payload.get("user_request"), msg.get("message")):
        if isinstance(value, str) and value:
            return value
    return "(empty message)"


class ServerThread:
    """The server on its own event loop in a daemon thread (for sync callers and subprocess tests)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("port", 0)
        self.server = AgentServer(**kwargs)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="agent-server", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller (a taken port, say)
            self._error = exc
            return
        finally:
            self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> AgentServer:
        """Start and wait until listening; re-raises what the start raised (OSError: port taken)."""
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("the embedded agent server did not start within 10 s")
        if self._error is not None:
            self._thread.join(1)
            self._loop.close()
            raise self._error
        return self.server

    def __exit__(self, *exc: object) -> None:
        try:
            # A client that stopped reading mid-burst leaves a send blocked on a full buffer, and
            # the closing handshake then waits out its own timeout: do not hold the exit on it.
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(3)
        except Exception:  # noqa: BLE001 - the thread is a daemon: it ends with the process
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(3)
        if not self._thread.is_alive():
            self._loop.close()
