"""A long-lived session for the dashboard: stay connected, run golden paths on request.

Reconnects with exponential backoff, jitter and a fresh token on each attempt; every frame lands
in the EventStore (bounded) and, during a run, in that run's judge. Plain asyncio: the dashboard
reads `status`, `store` and `results` on its own timer and never gets called back from here.

The backoff counts connections that failed *or did not stay healthy*: a server that accepts the
socket and the handshake and then falls over is still failing, and is retried ever more slowly.
Only a connection that served a whole run, or stayed up `HEALTHY_S`, starts the count again.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from wsdash.core.auth import TokenError, TokenInfo
from wsdash.core.connection import ConnectError, open_ws
from wsdash.core.errors import CONFIG, ClassifiedError, auth_refusal, classify, close_of
from wsdash.core.event_store import EventStore, FrameRing
from wsdash.core.judged_run import Run, RunListener, RunResult
from wsdash.core.protocol import Event, auth_failure, parse_frame
from wsdash.core.ready_frames import ready_texts
from wsdash.services.session.handshake import Receiver, SessionOptions, chat_message, close_quietly, handshake, token_summary

IDLE, CONNECTING, CONNECTED, RUNNING, BACKOFF, STOPPED = "idle", "connecting", "connected", "running", "backoff", "stopped"
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
JITTER = 0.2  # ±20 %: dashboards that lost the same server do not all come back in the same instant
HEALTHY_S = 30.0  # a connection up this long (or one that served a whole run) resets the backoff
YIELD_S = 0.002  # the longest the reader holds the event loop in a burst, so keys stay answered at any rate


@dataclass
class LiveStatus:
    state: str = IDLE
    since: float = field(default_factory=time.monotonic)
    failures: int = 0  # connections in a row that failed or did not stay healthy
    retry_at: float | None = None  # monotonic time of the next connect attempt
    delay: float | None = None  # the wait chosen before that attempt (jitter included)
    error: ClassifiedError | None = None
    connect_ms: float | None = None
    runs: int = 0

    def enter(self, state: str) -> None:
        """Move to `state`; `since` changes only when the state does."""
        if self.state != state:
            self.state = state
            self.since = time.monotonic()

    @property
    def attempt(self) -> int:
        """The number of the next connect attempt since the last healthy connection (1 = first)."""
        return self.failures + 1


def backoff_delay(failures: int, schedule: Sequence[float] = BACKOFF_S, rand: Callable[[], float] = random.random) -> float:
    """The wait after `failures` (≥ 1) failures in a row: the schedule's step, ±JITTER."""
    base = schedule[min(max(failures, 1), len(schedule)) - 1]
    return base * (1 - JITTER + 2 * JITTER * rand())


class LiveSession:
    def __init__(
        self,
        opts: SessionOptions,
        token_source: Callable[[], str | None],
        store: EventStore | FrameRing | None = None,
        *,
        listener_factory: Callable[[], RunListener | None] | None = None,
        backoff_s: Sequence[float] = BACKOFF_S,
        healthy_after_s: float = HEALTHY_S,
    ) -> None:
        self.opts = opts
        self.token_source = token_source
        self.store: EventStore | FrameRing = store if store is not None else EventStore()
        self.status = LiveStatus()
        self.results: list[RunResult] = []
        self.run: Run | None = None
        self.token_info: TokenInfo | None = None
        self.last_recording: str | None = None  # the file the last run was recorded to
        self._listener_factory = listener_factory
        self._wanted = asyncio.Event()
        self._pending_message: str | None = None
        self._done = asyncio.Event()
        self._stopped = False
        self._connect_now = asyncio.Event()
        self._backoff_s = tuple(backoff_s)
        self._healthy_after_s = healthy_after_s
        self._served_run = False  # the current connection stayed open through a whole run

    # ---- commands from the UI ---------------------------------------------------------------
    def request_run(self, message: str | None = None) -> bool:
        """Queue one golden path (runs as soon as connected). False when one is running."""
        if self.run is not None:
            return False
        self._pending_message = message
        self._wanted.set()
        self._connect_now.set()  # skip the rest of a backoff wait
        return True

    @property
    def run_requested(self) -> bool:
        """A golden path is queued to start once connected."""
        return self._wanted.is_set() and not self._stopped

    def reconnect_now(self) -> None:
        self._connect_now.set()

    def stop(self) -> None:
        self._stopped = True
        self._connect_now.set()
        self._wanted.set()
        if self.run is not None:  # quitting mid-run still leaves a complete recording
            self._finish_run(time.monotonic())

    def _set(self, state: str) -> None:
        self.status.enter(state)

    # ---- the loop ---------------------------------------------------------------------------
    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopped:
            self._set(CONNECTING)
            try:
                token = await asyncio.to_thread(self.token_source)  # may be an HTTP fetch (E2E endpoint)
            except TokenError as exc:  # a secret file deleted or unreadable: say so, retry later
                await self._backoff(ClassifiedError(CONFIG, str(exc), "fix the target's token or secret source; wsdash retries by itself"))
                continue
            self.token_info = TokenInfo.of(token)
            t0 = loop.time()
            try:
                conn = await open_ws(self.opts.url, token=token, auth=self.opts.auth,
                                     tls_verify=self.opts.tls_verify, timeout=self.opts.connect_timeout_s)
            except ConnectError as exc:
                await self._backoff(exc.error)
                continue
            self.status.connect_ms = (loop.time() - t0) * 1000
            self.status.error = None
            self._set(CONNECTED)
            opened = loop.time()
            self._served_run = False
            error = await self._connected(conn, opened - t0, token)
            if self._served_run or loop.time() - opened >= self._healthy_after_s:
                self.status.failures = 0  # it was healthy: whatever ended it, retry soon
            if not self._stopped:
                await self._backoff(error)
        self._set(STOPPED)

    async def _backoff(self, error: ClassifiedError | None) -> None:
        self.status.error = error
        self.status.failures += 1
        delay = backoff_delay(self.status.failures, self._backoff_s)
        self.status.delay = delay
        self.status.retry_at = time.monotonic() + delay
        self._set(BACKOFF)
        self._connect_now.clear()
        try:
            async with asyncio.timeout(delay):
                await self._connect_now.wait()
        except TimeoutError:
            pass
        self.status.retry_at = None

    def _feed(self, at: float, data: str | bytes) -> Event:
        run = self.run
        if run is not None:
            event = run.received(at, data)
            contract = run.contract
            sent = contract.sent_at
            self.store.append(event, at - sent if sent is not None else None, self.status.runs)
            if contract.completed_at is not None or run.error is not None:  # contract.done, inlined: every frame
                self._done.set()
        else:
            event = parse_frame(data, at)
            self.store.append(event, None, 0)
            refusal = auth_refusal(auth_failure(event), token_sent=self.token_info is not None) if event.is_error else None
            if refusal is not None:
                self.status.error = refusal
        return event

    async def _connected(self, conn: Any, connect_s: float, token: str | None) -> ClassifiedError | None:
        """Serve one connection until it closes; returns why it ended."""
        from websockets.exceptions import ConnectionClosed

        ws = conn.ws
        loop = asyncio.get_running_loop()
        rx = Receiver(ws, self._feed, lambda: self.status.error is not None)
        reader: asyncio.Task[None] | None = None
        try:
            thread_id = await handshake(rx, self.opts, lambda at, text: None)
            if self.status.error is not None:
                return self.status.error
            reader = asyncio.create_task(self._read(ws))
            while not self._stopped and not reader.done():
                waiter = asyncio.create_task(self._wanted.wait())
                await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if reader.done() or self._stopped:
                    break
                self._wanted.clear()
                await self._one_run(rx, conn, connect_s, token, thread_id, reader)
            if reader.done() and reader.exception() is not None:
                raise reader.exception()  # type: ignore[misc]
            code = ws.close_code
            return None if code in (None, 1000, 1001) else classify(ConnectionClosed(ws.close_rcvd, ws.close_sent), self.opts.url)
        except ConnectionClosed as exc:
            self._finish_run(loop.time(), closed=exc)
            return classify(exc, self.opts.url)
        except Exception as exc:  # noqa: BLE001 - shown as a classified error, then reconnect
            self._finish_run(loop.time())
            return classify(exc, self.opts.url)
        finally:
            if reader is not None:
                reader.cancel()
            await close_quietly(ws)

    async def _read(self, ws: Any) -> None:
        # In a burst, recv() returns queued frames without ever suspending: yield by the clock, not
        # by a frame count, so one slice stays short whatever the frames cost. Every message hop of
        # a key press (app → focused widget → … → app) waits for one loop turn, i.e. one slice.
        from websockets.exceptions import ConnectionClosedOK

        clock = asyncio.get_running_loop().time
        feed = self._feed
        recv = ws.recv
        take = ready_texts(ws)
        deadline = clock() + YIELD_S
        while True:  # `async for data in ws`, without an async generator's hop per frame
            try:
                data = await recv()
            except ConnectionClosedOK:
                return
            now = clock()
            feed(now, data)
            while now < deadline and (text := take()) is not None:  # the frames that came with it
                now = clock()
                feed(now, text)
            if now >= deadline:
                await asyncio.sleep(0)
                deadline = clock() + YIELD_S

    def _new_run(self, listener: RunListener | None = None) -> Run:
        # The result's rows are bounded by the one rule of core/run_rows.py; the counts, the
        # checkpoints and the verdict are judged over every frame whatever the run's length.
        return Run(self.opts.url, self.opts.budgets, listener=listener)

    async def _one_run(self, rx: Receiver, conn: Any, connect_s: float, token: str | None, thread_id: Any, reader: asyncio.Task[None]) -> None:
        loop = asyncio.get_running_loop()
        listener = self._listener_factory() if self._listener_factory else None
        run = self._new_run(listener)
        run.token = token_summary(token)
        run.start(loop.time(), token=run.token, auth=self.opts.auth)
        run.opened(loop.time(), connect_s, conn.phases, conn.address)
        self.status.runs += 1
        self._done.clear()
        self.run = run
        self._set(RUNNING)
        opts = self.opts
        if self._pending_message:
            opts = SessionOptions(**{**opts.__dict__, "message": self._pending_message})
        message = chat_message(opts, thread_id)
        run.sent(await rx.send(message), message, is_message=True)
        timed_out = False
        done = asyncio.create_task(self._done.wait())
        try:
            async with asyncio.timeout(self.opts.timeout_s):
                await asyncio.wait({done, reader}, return_when=asyncio.FIRST_COMPLETED)
            if run.contract.done and not reader.done():
                await asyncio.wait({reader}, timeout=self.opts.grace_s)
        except TimeoutError:
            timed_out = True
        finally:
            done.cancel()
        if reader.done() and rx.ws.close_code is not None:
            # Clean or not (1006 after a drop, 1007 sent by wsdash, 1008, 1011): the run is judged
            # with its close, and who closed first.
            close = close_of(rx.ws.protocol.close_exc)
            run.closed(loop.time(), close.code, close.reason, close.by)
        self._finish_run(loop.time(), timed_out=timed_out)
        if not reader.done():
            self._served_run = True  # the server answered a whole run and is still there
            self._set(CONNECTED)

    def _finish_run(self, at: float, *, timed_out: bool = False, closed: Any = None) -> None:
        run = self.run
        if run is None:
            return
        if closed is not None:
            close = close_of(closed)
            run.closed(at, close.code, close.reason, close.by)
        self.results.append(run.finish(at, timed_out=timed_out))
        self.run = None
        listener = getattr(run, "_listener", None)
        if listener is not None and hasattr(listener, "close"):
            listener.close()
            # a recording stopped by a full disk is not "recorded to": the toast said where it stopped
            self.last_recording = None if getattr(listener, "error", None) else str(getattr(listener, "path", "")) or None

    @property
    def last_result(self) -> RunResult | None:
        return self.results[-1] if self.results else None
