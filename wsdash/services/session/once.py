"""One live golden-path run against a server: connect, handshake, send, receive, judge.

docs/protocol.md §3 sets the handshake timing; §5 the contract. `timeout_s` bounds the whole run,
from the first DNS query to the outermost agent_completed: every phase (DNS, TCP, TLS, upgrade,
handshake, run) ends by that deadline. A connect cut short is an error naming its phase and the
limit; the handshake's optional waits take at most half the time left, so what the deadline cuts
after it is the run itself (the contract's `timeout` / `missing`). Every failure ends as a
classified error in the result — this coroutine does not raise for anything the network or server
does. When it is cancelled (Ctrl+C), `OnceRun.partial()` judges what arrived up to then.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from wsdash.core.connection import ConnectError, open_ws
from wsdash.core.dial import Dial
from wsdash.core.errors import classify, close_of
from wsdash.core.run_rows import RowSink
from wsdash.core.judged_run import Run, RunListener, RunResult
from wsdash.core.protocol import Event
from wsdash.core.ready_frames import ready_texts
from wsdash.services.session.handshake import Receiver, SessionOptions, chat_message, close_quietly, handshake, token_summary

HANDSHAKE, RUN = "handshake", "run"  # the session's phases after the connect's (core.dial.Dial.phase)


class OnceRun:
    """One run. `go()` runs it; `phase` says where it is; `partial()` ends it early, judged."""

    def __init__(
        self,
        opts: SessionOptions,
        *,
        listener: RunListener | None = None,
        on_event: Callable[[Event], None] | None = None,
        row_sink: RowSink | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self.opts = opts
        # Called once, when the outermost agent_completed has arrived and the grace starts: from
        # there nothing timed is left (late frames are judged whatever their offset), so work that
        # would skew a timing (golden-path opens the history) can start then.
        self.on_done = on_done
        # `row_sink` sees every event's row as it arrives; the result keeps a bounded selection
        # (core/run_rows.py), so a run's memory stays flat however long it is.
        self.run = Run(opts.url, opts.budgets, listener=listener, on_event=on_event, row_sink=row_sink)
        self.dial = Dial()
        self._session_phase: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False
        self._finished: RunResult | None = None

    @property
    def phase(self) -> str:
        """dns · tcp · tls · upgrade · proxy (connecting), then handshake · run."""
        return self._session_phase or self.dial.phase

    async def go(self) -> RunResult:
        """One run, judged. Never raises for network or server behaviour."""
        from websockets.exceptions import ConnectionClosed

        opts, run = self.opts, self.run
        loop = self._loop = asyncio.get_running_loop()
        run.token = token_summary(opts.token)
        t0 = loop.time()
        run.start(t0, token=run.token, auth=opts.auth)
        self._started = True
        deadline = t0 + opts.timeout_s
        try:
            conn = await open_ws(opts.url, token=opts.token, auth=opts.auth, tls_verify=opts.tls_verify,
                                 timeout=min(opts.connect_timeout_s, opts.timeout_s), dial=self.dial)
        except ConnectError as exc:
            run.phases = exc.phases
            run.address = exc.address
            run.failed(loop.time(), exc.error)
            return self._finish(loop.time())
        ws = conn.ws
        run.opened(loop.time(), loop.time() - t0, conn.phases, address=conn.address)
        rx = Receiver(ws, run.received, lambda: run.error is not None)
        timed_out = False
        try:
            self._session_phase = HANDSHAKE
            thread_id = await handshake(rx, opts, run.sent, deadline=deadline)
            if run.error is None:
                self._session_phase = RUN
                message = chat_message(opts, thread_id)
                run.sent(await rx.send(message), message, is_message=True)
                timed_out = await _receive(ws, run, opts, deadline, self.on_done)
        except ConnectionClosed as exc:
            close = close_of(exc)
            run.closed(loop.time(), close.code, close.reason, close.by)
        except Exception as exc:  # noqa: BLE001 - the run ends as a classified value
            run.failed(loop.time(), classify(exc, opts.url))
        finally:
            end = loop.time()
            # Past the deadline a server that does not answer the close must not hold the exit.
            await close_quietly(ws, 0.3 if end >= deadline else 1.0)
        return self._finish(end, timed_out=timed_out)

    def partial(self) -> RunResult:
        """The run cut short (Ctrl+C): what arrived and what never came, marked interrupted."""
        if self._finished is not None:
            return self._finished
        loop = self._loop
        at = loop.time() if loop is not None else 0.0
        if not self._started:
            self.run.start(at, token=None, auth=self.opts.auth)
        if self._session_phase is None:  # still connecting: keep the phases timed so far
            self.run.phases = dict(self.dial.phases)
            self.run.address = self.dial.address
        return self._finish(at, interrupted=self.phase)

    def _finish(self, at: float, *, timed_out: bool = False, interrupted: str | None = None) -> RunResult:
        self._finished = self.run.finish(at, timed_out=timed_out, interrupted=interrupted)
        return self._finished


async def run_golden_path(
    opts: SessionOptions,
    *,
    listener: RunListener | None = None,
    on_event: Callable[[Event], None] | None = None,
    row_sink: RowSink | None = None,
) -> RunResult:
    """One run, judged. Never raises for network or server behaviour."""
    return await OnceRun(opts, listener=listener, on_event=on_event, row_sink=row_sink).go()


async def _receive(ws: Any, run: Run, opts: SessionOptions, deadline: float, on_done: Callable[[], None] | None = None) -> bool:
    """Receive until the outermost agent_completed plus a grace period, or the deadline.
    True when the deadline cut the run."""
    from websockets.exceptions import ConnectionClosedOK

    loop = asyncio.get_running_loop()
    clock = loop.time
    contract = run.contract
    received = run.received
    recv = ws.recv
    take = ready_texts(ws)
    in_grace = False
    try:
        async with asyncio.timeout_at(deadline) as cm:
            while True:  # `async for data in ws`, without an async generator's hop per frame
                try:
                    data: str | bytes | None = await recv()
                except ConnectionClosedOK:
                    break
                while data is not None:  # this frame, then those that came with it
                    received(clock(), data)
                    if run.error is not None:
                        return False
                    if not in_grace and contract.completed_at is not None:  # contract.done
                        in_grace = True
                        cm.reschedule(clock() + opts.grace_s)
                        if on_done is not None:
                            on_done()
                    data = take()
        # The connection closed without an exception (a normal close): who closed, and how.
        close = close_of(ws.protocol.close_exc)
        run.closed(loop.time(), close.code, close.reason, close.by)
        return False
    except TimeoutError:
        return not in_grace
