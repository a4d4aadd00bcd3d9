"""The dashboard's stream worker: the live session (socket, judge, recorder) in a process of its own.

Under a burst the per-frame work — WebSocket parsing, normalising, judging, the run's rows, the
recording — fills a core. In the dashboard's process it shared one event loop (and one GIL) with
drawing the screen and answering keys; here it has the other core, and the dashboard gets the
result coalesced (`wire.Batch`, ~10 a second, at once when a run ends) — see remote.py for that side.

    python -m wsdash.services.session.worker     (started by remote.RemoteSession, never by hand)

It lives exactly as long as the dashboard: stdin is a pipe only the dashboard writes to, so when the
dashboard ends — `q`, a signal, `kill -9`, a crash — the read hits EOF and the worker stops the
session the way `q` always did (the run is finished and its recording closed with every frame
received), sends what is left, and exits. It runs in a session (POSIX) / process group (Windows) of
its own, so the terminal's Ctrl+C and hang-up reach the dashboard only, which then stops it.
A SIGTERM sent to the worker itself ends it the same way.
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

from wsdash.core.redact import register_secret
from wsdash.core import gc_tuning
from wsdash.core.auth import TokenError
from wsdash.core.event_store import FrameRing
from wsdash.services.session import wire
from wsdash.services.session.live import LiveSession
from wsdash.services.session.record_runs import recorder_factory

BATCH_S = 0.1  # a batch this often while anything moves: the screen's own refresh rate
POLL_S = 0.01  # how soon a finished run or a new state is sent, without waiting for the batch


class Outbox:
    """Writes messages to the dashboard from the loop and from threads (a token request, the
    recorder's timer), whole and in order, through a writer thread of its own: a batch of a
    megabyte does not fit a pipe, and a blocking write would stall the session until the
    dashboard, busy drawing, had read all of it."""

    MAX_PENDING = 2  # batches queued and not yet written: the next waits, and then carries their rows

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._queue: queue.SimpleQueue[tuple[bytes, bool] | None] = queue.SimpleQueue()
        self._pending = 0  # batches in the queue
        self._count = threading.Lock()  # the loop adds, the writer thread takes away
        self.broken = False
        self._thread = threading.Thread(target=self._write, name="wsdash worker outbox", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._pending >= self.MAX_PENDING

    def send(self, kind: str, payload: Any = None) -> None:
        if self.broken:
            return
        is_batch = kind == wire.BATCH
        if is_batch:
            with self._count:
                self._pending += 1
        self._queue.put((wire.pack(kind, payload), is_batch))

    def _write(self) -> None:
        while (item := self._queue.get()) is not None:
            data, is_batch = item
            try:
                if not self.broken:
                    self._stream.write(data)
                    self._stream.flush()
            except (OSError, ValueError):  # the dashboard is gone: stdin's EOF ends us next
                self.broken = True
            if is_batch:
                with self._count:
                    self._pending -= 1

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (the last batch), then stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout)


class WorkerHost:
    """One LiveSession, driven by the dashboard's commands, reported in batches."""

    def __init__(self, config: dict[str, Any], outbox: Outbox) -> None:
        self.out = outbox
        self.tokens: queue.Queue[tuple[Any, ...]] = queue.Queue()
        for secret in config.get("secrets", ()):  # the dashboard's: this process records, and must mask them
            register_secret(secret)
        store = FrameRing(config["capacity"], config.get("received", 0))
        folder = config.get("record_dir")
        factory = recorder_factory(Path(folder), lambda: self.session.status.runs + 1, self.tell) if folder else None
        self.session = LiveSession(config["opts"], self.token, store, listener_factory=factory)
        # A restarted worker numbers its runs on from the last one's, as its rows (the tracker's
        # "run N", the rows' run, the recordings' names).
        self.session.status.runs = config.get("runs", 0)
        self._sent_seq = store.received
        self._sent_results = 0
        self._stop = asyncio.Event()

    # ---- calls from the session ------------------------------------------------------------------
    def token(self) -> str | None:
        """The session's token source (it calls it in a thread): asks the dashboard, where the
        target's token sources live, and waits for the answer."""
        self.out.send(wire.TOKEN)
        kind, value, *known = self.tokens.get()
        if kind == "error":
            raise TokenError(value)
        register_secret(value)  # an opaque token the server echoes back ("rejected: Bearer …") is masked in recordings
        for secret in known[0] if known else ():
            register_secret(secret)
        return value

    def tell(self, message: str, severity: str, timeout: float) -> None:
        self.out.send(wire.TELL, (message, severity, timeout))

    # ---- commands from the dashboard -------------------------------------------------------------
    def command(self, kind: str, payload: Any) -> None:
        if kind == wire.RUN:
            self.session.request_run(payload)
        elif kind == wire.RECONNECT:
            self.session.reconnect_now()
        elif kind == wire.STOP:
            self._stop.set()

    # ---- the batch ----------------------------------------------------------------------------------
    def batch(self) -> wire.Batch:
        s = self.session
        store = s.store
        rows = store.frames_since(self._sent_seq)
        self._sent_seq = store.received
        results = s.results[self._sent_results:]
        self._sent_results = len(s.results)
        run = s.run
        view = None
        if run is not None:
            c = run.contract
            view = wire.RunView(wire.ContractView(dict(c.checkpoints), list(c.violations), c.done, c.sent_at),
                                wire.FrameCounts(run.frames.received, run.frames.malformed, run.frames.unknown),
                                wire.RowsView(run.rows.rows()))
        return wire.Batch(s.status, view, results, rows, store.received, s.run_requested, s.token_info, s.last_recording)

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        session = self.session
        task = asyncio.create_task(session.run_forever())
        try:
            next_at = loop.time()
            seen = (None, -1)
            while not self._stop.is_set() and not task.done():
                try:
                    await asyncio.wait_for(self._stop.wait(), POLL_S)
                except TimeoutError:
                    pass
                now = loop.time()
                news = (session.status.state, len(session.results), wire.reached(session.run))
                if (now >= next_at or news != seen) and not self.out.busy:
                    seen = news
                    next_at = now + BATCH_S
                    self.out.send(wire.BATCH, self.batch())
        finally:
            session.stop()  # a run in progress is finished and its recording closed, as `q` always did
            self.out.send(wire.BATCH, self.batch())
            self.out.send(wire.STOPPED)  # the dashboard need not wait for the socket's polite close below
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - ending: what it did is in the batch
                pass


def _read_commands(stream: IO[bytes], host: WorkerHost, loop: asyncio.AbstractEventLoop) -> None:
    """In a thread: commands until EOF; EOF (the dashboard ended, however) stops the worker."""
    while True:
        try:
            message = wire.read_message(stream)
        except (OSError, ValueError, EOFError):
            message = None
        if message is None:
            break
        kind, payload = message
        if kind == wire.TOKEN:  # the answer the session's token thread is waiting for
            host.tokens.put(payload)
            continue
        loop.call_soon_threadsafe(host.command, kind, payload)
    host.tokens.put(("error", "the dashboard has gone"))
    try:
        loop.call_soon_threadsafe(host.command, wire.STOP, None)
    except RuntimeError:  # the loop has finished already
        pass


async def _main(stdin: IO[bytes], outbox: Outbox, config: dict[str, Any]) -> None:
    host = WorkerHost(config, outbox)
    loop = asyncio.get_running_loop()
    if hasattr(signal, "SIGTERM") and os.name == "posix":
        loop.add_signal_handler(signal.SIGTERM, host.command, wire.STOP, None)
    threading.Thread(target=_read_commands, args=(stdin, host, loop), name="wsdash worker commands", daemon=True).start()
    gc_tuning.tune_for_bursts()  # the process ends with the session: nothing to restore
    if config.get("autorun"):
        host.session.request_run()
    await host.serve()


def main() -> int:
    code = _serve()
    # Not a normal interpreter exit: the command thread is blocked reading stdin, and finalising
    # a buffered stdin another thread holds aborts the process (SIGABRT). Everything is flushed.
    sys.stderr.flush()
    os._exit(code)


def _serve() -> int:
    for name in ("SIGINT", "SIGHUP", "SIGBREAK"):  # the dashboard decides when this ends (stdin's EOF)
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed by accident may corrupt the pipe
    outbox = Outbox(stdout)
    try:
        first = wire.read_message(stdin)
        if first is None or first[0] != "start":
            return 2
        asyncio.run(_main(stdin, outbox, first[1]))
    except Exception as exc:  # noqa: BLE001 - told to the dashboard, which shows it classified
        outbox.send(wire.FAILED, f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        outbox.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
