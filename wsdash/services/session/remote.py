"""The dashboard's side of the stream worker (worker.py): reads like a LiveSession, runs none of it.

`RemoteSession` has what the screen, the history link and auto-run read of a `LiveSession` —
`status`, `store`, `run`, `results`, `token_info`, `last_recording`, `opts` — and its commands
(`request_run`, `reconnect_now`, `stop`). Behind them is a worker process taking the socket, the
judge and the recorder off the dashboard's event loop; its batches are applied here as they come
(the rows into the dashboard's own `EventStore`), so the screen's one timer reads them as before.

Ending: `stop()` asks the worker to finish (the run in progress is judged and its recording
closed), `closed()` waits for its last batch. If the dashboard dies instead, the worker sees its
stdin close and does the same by itself. A worker that dies on its own is said on the screen and
started again.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any, Callable

from wsdash.core.redact import registered_secrets
from wsdash.core.auth import TokenError
from wsdash.core.errors import UNKNOWN, ClassifiedError
from wsdash.core.event_store import EventStore
from wsdash.core.judged_run import RunResult
from wsdash.services.session import wire
from wsdash.services.session.handshake import SessionOptions
from wsdash.services.session.live import BACKOFF, CONNECTING, STOPPED, LiveStatus
from wsdash.services.session.record_runs import Tell

RESTART_S = 1.0  # after the worker died on its own
STOP_WAIT_S = 5.0  # for the worker to finish its run and close the recording, then it is killed
QUIT_WAIT_S = 1.5  # then for it to exit (handshake.close_quietly waits up to 1 s for the server's close)


def detached() -> dict[str, Any]:
    """The worker in a session (POSIX) / process group (Windows) of its own: the terminal's Ctrl+C,
    Ctrl+Break and hang-up reach the dashboard, which stops the worker itself."""
    if os.name == "nt":
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200)}
    return {"start_new_session": True}


class RemoteSession:
    def __init__(
        self,
        opts: SessionOptions,
        token_source: Callable[[], str | None],
        store: EventStore | None = None,
        *,
        record_dir: Any = None,
        tell: Tell | None = None,
        autorun: bool = False,
    ) -> None:
        self.opts = opts
        self.token_source = token_source
        self.store = store if store is not None else EventStore()
        self.status = LiveStatus()
        self.results: list[RunResult] = []
        self.run: wire.RunView | None = None
        self.token_info: Any = None
        self.last_recording: str | None = None
        self.pid: int | None = None  # the worker's, while it runs
        self._record_dir = None if record_dir is None else str(record_dir)
        self._tell = tell or (lambda message, severity, timeout: None)
        self._autorun = autorun
        self._requested = autorun
        self._stopped = False
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: list[bytes] = []  # commands given before the worker was up
        self._token_tasks: set[asyncio.Task[None]] = set()  # answers to the worker's token requests
        self._finished = asyncio.Event()
        self._pump_task: asyncio.Task[str | None] | None = None  # reads the worker's messages
        self._worker_stopped = asyncio.Event()  # it said its session stopped (its last batch came before)
        # Called when a batch brings news — a state, a checkpoint reached, a finished run — so a
        # screen shows it at once instead of at its next tick (up to 0.1 s later).
        self.news_listeners: list[Callable[[], None]] = []

    # ---- commands from the UI (the same as LiveSession's) ---------------------------------------
    def request_run(self, message: str | None = None) -> bool:
        if self.run is not None:
            return False
        self._requested = True
        self._send(wire.RUN, message)
        return True

    @property
    def run_requested(self) -> bool:
        return self._requested and not self._stopped

    def reconnect_now(self) -> None:
        self._send(wire.RECONNECT)

    def stop(self) -> None:
        self._stopped = True
        self._send(wire.STOP)

    async def closed(self, timeout: float = STOP_WAIT_S) -> None:
        """After `stop()`: wait for the worker's last batch (the run it finished), then for it to
        exit; killed if it takes longer than `timeout`."""
        proc, pump = self._proc, self._pump_task
        if proc is None:
            return
        try:
            async with asyncio.timeout(timeout):
                if pump is not None:  # its own task: it reads on even when run_forever was cancelled
                    stopped = asyncio.create_task(self._worker_stopped.wait())
                    await asyncio.wait({stopped, pump}, return_when=asyncio.FIRST_COMPLETED)
                    stopped.cancel()
            # Everything is here and recorded; the worker closes its socket politely (at most a
            # second against a server that ignores the close frame) and exits.
            await asyncio.wait_for(proc.wait(), QUIT_WAIT_S)
        except TimeoutError:
            pass
        if proc.returncode is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
            await proc.wait()  # reaped here, not by a garbage collector after the loop is gone

    def _send(self, kind: str, payload: Any = None) -> None:
        data = wire.pack(kind, payload)
        proc = self._proc
        if proc is None or proc.stdin is None:
            self._pending.append(data)
            return
        try:
            proc.stdin.write(data)
        except (OSError, RuntimeError):  # the worker is gone: run_forever says so and restarts it
            pass

    # ---- the worker ---------------------------------------------------------------------------
    async def run_forever(self) -> None:
        while not self._stopped:
            self._set(CONNECTING)
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "wsdash.services.session.worker",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                **detached())
            self._proc, self.pid = proc, proc.pid
            self._worker_stopped.clear()
            assert proc.stdin is not None and proc.stdout is not None
            config = {"opts": self.opts, "capacity": self.store.capacity, "record_dir": self._record_dir,
                      "autorun": self._autorun, "received": self.store.received, "runs": self.status.runs,
                      "secrets": registered_secrets()}  # the worker's recordings mask what this process knows
            self._autorun = False  # a restarted worker does not run again unasked
            proc.stdin.write(wire.pack("start", config) + b"".join(self._pending))
            self._pending.clear()
            # A task of its own, so that the app ending (which cancels run_forever, a Textual worker)
            # does not stop the reading before the worker's last batch: `closed()` waits for it.
            self._pump_task = asyncio.create_task(self._pump(proc.stdout))
            failure = await asyncio.shield(self._pump_task)
            code = await proc.wait()
            if self._stopped:
                break
            lost = self.run is not None and not self._worker_stopped.is_set()
            self.run = None
            if self._worker_stopped.is_set():  # a SIGTERM from outside: it finished its run first
                error = ClassifiedError(UNKNOWN, f"the stream worker (pid {proc.pid}) was stopped from outside",
                                        f"wsdash starts it again in {RESTART_S:g} s")
            else:
                error = ClassifiedError(UNKNOWN, failure or f"the stream worker (pid {proc.pid}) ended unexpectedly (exit code {code})",
                                        f"wsdash starts it again in {RESTART_S:g} s" + ("; the run it was judging is lost" if lost else ""))
            self.status.error = error
            self._set(BACKOFF)
            self._tell(f"{error.message} — {error.hint}", "error", 10)
            await asyncio.sleep(RESTART_S)
        self._finished.set()
        self._set(STOPPED)

    async def _pump(self, stdout: asyncio.StreamReader) -> str | None:
        """Apply the worker's messages until its stdout closes; what it said if it failed."""
        failure = None
        while True:
            try:
                head = await stdout.readexactly(wire.HEADER)
                kind, payload = wire.unpack(await stdout.readexactly(wire.length(head)))
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                return failure
            if kind == wire.BATCH:
                self._apply(payload)
            elif kind == wire.TOKEN:
                # Held until done: the loop keeps only a weak reference to a task (asyncio docs).
                task = asyncio.create_task(self._give_token())
                self._token_tasks.add(task)
                task.add_done_callback(self._token_tasks.discard)
            elif kind == wire.TELL:
                self._tell(*payload)
            elif kind == wire.STOPPED:
                self._worker_stopped.set()
            elif kind == wire.FAILED:
                failure = f"the stream worker failed: {payload}"

    def _apply(self, batch: wire.Batch) -> None:
        news = bool(batch.results) or batch.status.state != self.status.state or wire.reached(batch.run) != wire.reached(self.run)
        if not self._stopped or batch.status.state != STOPPED:
            self.status = batch.status
        self.run = batch.run
        self.results.extend(batch.results)
        self.token_info = batch.token_info
        self.last_recording = batch.last_recording
        self._requested = batch.run_requested
        self.store.take(batch.rows, batch.received)
        if news:
            for listener in list(self.news_listeners):
                listener()

    async def _give_token(self) -> None:
        try:
            token = await asyncio.to_thread(self.token_source)
            # with every secret known by now (the source may have just fetched one), for the worker's recordings
            answer: tuple[Any, ...] = ("token", token, registered_secrets())
        except TokenError as exc:
            answer = ("error", str(exc))
        except Exception as exc:  # noqa: BLE001 - the worker must get an answer, or it waits forever
            answer = ("error", f"the token could not be obtained: {type(exc).__name__}: {exc}")
        self._send(wire.TOKEN, answer)

    def _set(self, state: str) -> None:
        self.status.enter(state)

    @property
    def last_result(self) -> RunResult | None:
        return self.results[-1] if self.results else None
