"""One live golden-path run against a server: connect, handshake, send, receive, judge.

docs/protocol.md §3 sets the handshake timing; §5 the contract. Every failure ends as a classified
error in the result — this coroutine does not raise for anything the network or server does.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from wsdash.core.connection import ConnectError, open_ws
from wsdash.core.errors import classify, close_of
from wsdash.core.judged_run import Run, RunListener, RunResult
from wsdash.core.protocol import Event
from wsdash.core.run_rows import RowSink
from wsdash.services.session.handshake import Receiver, SessionOptions, chat_message, close_quietly, handshake, token_summary


async def run_golden_path(
    opts: SessionOptions,
    *,
    listener: RunListener | None = None,
    on_event: Callable[[Event], None] | None = None,
    row_sink: RowSink | None = None,
) -> RunResult:
    """One run, judged. Never raises for network or server behaviour. `row_sink` sees every
    event's row as it arrives (the result keeps a bounded selection: core/run_rows.py)."""
    from websockets.exceptions import ConnectionClosed

    loop = asyncio.get_running_loop()
    run = Run(opts.url, opts.budgets, listener=listener, on_event=on_event, row_sink=row_sink)
    run.token = token_summary(opts.token)
    run.start(loop.time(), token=run.token, auth=opts.auth)
    t0 = loop.time()
    try:
        conn = await open_ws(opts.url, token=opts.token, auth=opts.auth, tls_verify=opts.tls_verify, timeout=opts.connect_timeout_s)
    except ConnectError as exc:
        run.phases = exc.phases
        run.failed(loop.time(), exc.error)
        return run.finish(loop.time())
    ws = conn.ws
    run.opened(loop.time(), loop.time() - t0, conn.phases)
    rx = Receiver(ws, run.received, lambda: run.error is not None)
    timed_out = False
    try:
        thread_id = await handshake(rx, opts, run.sent)
        if run.error is None:
            message = chat_message(opts, thread_id)
            run.sent(await rx.send(message), message, is_message=True)
            timed_out = await _receive(ws, run, opts)
    except ConnectionClosed as exc:
        close = close_of(exc)
        run.closed(loop.time(), close.code, close.reason, close.by)
    except Exception as exc:  # noqa: BLE001 - the run ends as a classified value
        run.failed(loop.time(), classify(exc, opts.url))
    finally:
        end = loop.time()
        await close_quietly(ws)
    return run.finish(end, timed_out=timed_out)


async def _receive(ws: Any, run: Run, opts: SessionOptions) -> bool:
    """Receive until the outermost agent_completed plus a grace period. True when timed out."""
    from websockets.exceptions import ConnectionClosedOK

    loop = asyncio.get_running_loop()
    clock = loop.time
    contract = run.contract
    received = run.received
    recv = ws.recv
    in_grace = False
    try:
        async with asyncio.timeout_at(clock() + opts.timeout_s) as cm:
            while True:  # `async for data in ws`, without an async generator's hop per frame
                try:
                    data = await recv()
                except ConnectionClosedOK:
                    break
                received(clock(), data)
                if run.error is not None:
                    return False
                if not in_grace and contract.completed_at is not None:  # contract.done
                    in_grace = True
                    cm.reschedule(clock() + opts.grace_s)
        # The server closed the connection normally.
        if ws.close_code is not None:
            run.closed(loop.time(), ws.close_code, ws.close_reason or "")
        return False
    except TimeoutError:
        return not in_grace


