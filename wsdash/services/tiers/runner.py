"""Run tiers as asyncio subprocesses, with live per-test events, timeout, cancel and crash reports.

One tier = one process (``<python> -m pytest -p wsdash_pytest_stream ...`` or an opaque command)
in its own process group, so that a timeout or a cancel stops the whole tree (xdist workers,
servers a test started) and so that the user's Ctrl-C reaches wsdash, which then stops pytest
the way Ctrl-C would: an interrupt first (pytest prints its partial summary, the plugin reports
the session end), a kill after a grace period.

What the child reports (results socket, output files) is gathered by observation.py, which
turns it into `TierEvent`s (events.py) for a plain callback or `iter_tier_events` and adds it up
to the `TierResult`.

wsdash *polls* what the child produces (the results socket, and stdout/stderr, which go to
temporary files) every few milliseconds instead of waiting on them: a reader that sleeps in the
kernel must be woken by every write, and on a small VM that wake-up costs the writer (pytest)
50–130 µs per test, more than a trivial test itself; a write nobody waits on costs ~10 µs. Files
also keep the last lines of a child killed by a signal, and a grandchild that inherited them
cannot keep a pipe open forever.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import tempfile
import time
from contextlib import suppress
from typing import Any, Sequence

from wsdash.services.tiers.events import OnEvent, TierStarted
from wsdash.services.tiers.model import ST_ERROR, TierResult
from wsdash.services.tiers.observation import Observation
from wsdash.services.tiers.process import ProcessTree, build_env, resolve_program
from wsdash.services.tiers.spec import KIND_PYTEST, TierSpec
from wsdash.services.tiers.stream import ENV_ADDR, ENV_NO_SKIP, ENV_ONLY, ENV_TOKEN, PLUGIN_MODULE, StreamServer, write_plugin

DEFAULT_GRACE_S = 5.0
TAIL_LINES = 200
_IDLE_S = 1.0  # after the process exit, stop waiting for the socket once idle this long


class _TierRun:
    """One tier's process from spawn to exit; what it says goes to `self.seen` (observation.py)."""

    def __init__(self, spec: TierSpec, on_event: OnEvent | None, only_nodeids: Sequence[str] | None, tail_lines: int, platform: str | None) -> None:
        self.spec = spec
        self.only = list(only_nodeids) if only_nodeids is not None else None
        self.platform = platform
        self.seen = Observation(spec, on_event, tail_lines)
        self.failure: asyncio.Future[None] | None = None
        self.argv: list[str] = []

    def fail(self, exc: BaseException) -> None:
        if self.failure is not None and not self.failure.done():
            self.failure.set_exception(exc)

    # -- the run ---------------------------------------------------------------------------

    async def execute(self, cancel: asyncio.Event | None, grace_s: float) -> TierResult:
        loop = asyncio.get_running_loop()
        self.failure = loop.create_future()
        t0 = time.monotonic()
        spec = self.spec
        # ignore_cleanup_errors: on Windows a leftover grandchild may still hold an output file.
        with tempfile.TemporaryDirectory(prefix="wsdash-tier-", ignore_cleanup_errors=True) as tmp:
            env = build_env(spec)
            server: StreamServer | None = None
            if spec.kind == KIND_PYTEST:
                assert spec.pytest is not None
                write_plugin(tmp)
                token = secrets.token_hex(16)
                server = StreamServer(token, self.seen.on_message, self.fail)
                env[ENV_ADDR] = await server.start()
                env[ENV_TOKEN] = token
                env[ENV_NO_SKIP] = spec.no_skip_marker
                env["PYTHONPATH"] = os.pathsep.join(p for p in (tmp, env.get("PYTHONPATH", "")) if p)
                if self.only is not None:
                    only_path = os.path.join(tmp, "only.json")
                    with open(only_path, "w", encoding="utf-8") as f:
                        json.dump(self.only, f)
                    env[ENV_ONLY] = only_path
                self.argv = [spec.python, "-m", "pytest", "-p", PLUGIN_MODULE, *spec.pytest]
            else:
                self.argv = spec.argv()
            self.argv[0] = resolve_program(self.argv[0], spec.cwd, env)
            try:
                return await self._spawn_and_wait(env, server, cancel, grace_s, t0, tmp)
            finally:
                if server is not None:
                    await server.close()

    async def _spawn_and_wait(
        self, env: dict[str, str], server: StreamServer | None, cancel: asyncio.Event | None, grace_s: float, t0: float, tmp: str
    ) -> TierResult:
        spec = self.spec
        out_path, err_path = os.path.join(tmp, "stdout.log"), os.path.join(tmp, "stderr.log")
        if spec.cwd and not os.path.isdir(spec.cwd):
            # Said as what it is: a missing directory, not a program that cannot start.
            what = "is not a directory" if os.path.exists(spec.cwd) else "does not exist"
            return self._finish(
                status=ST_ERROR, message=f"working directory {spec.cwd} {what} (the tier's cwd)", returncode=None,
                stopped_by=None, t0=t0, started=False,
            )
        tree = ProcessTree(self.platform)
        try:
            try:
                with open(out_path, "wb") as out, open(err_path, "wb") as err:
                    proc = await asyncio.create_subprocess_exec(
                        *self.argv,
                        cwd=spec.cwd,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        **tree.popen_kwargs(),
                    )
            except OSError as exc:
                return self._cannot_start(exc, t0)
            try:
                tree.adopt(proc.pid)  # Windows: into its job, then resumed
            except OSError as exc:  # it could not be resumed: adopt killed it
                await proc.wait()
                return self._cannot_start(exc, t0)
            return await self._wait(proc, tree, server, cancel, grace_s, t0, out_path, err_path)
        finally:
            tree.close()  # whatever the tier left running ends with it

    def _cannot_start(self, exc: OSError, t0: float) -> TierResult:
        what = exc.filename or self.argv[0]
        where = f" in {self.spec.cwd}" if self.spec.cwd else ""
        message = f"cannot start {what!r}{where}: {exc.strerror or exc}"
        return self._finish(status=ST_ERROR, message=message, returncode=None, stopped_by=None, t0=t0, started=False)

    async def _wait(
        self, proc: asyncio.subprocess.Process, tree: ProcessTree, server: StreamServer | None,
        cancel: asyncio.Event | None, grace_s: float, t0: float, out_path: str, err_path: str,
    ) -> TierResult:
        assert self.failure is not None
        spec = self.spec
        self.seen.emit(TierStarted(spec.name, tuple(self.argv), proc.pid, tuple(self.only) if self.only is not None else None))
        exited = asyncio.Event()
        readers = [
            asyncio.create_task(self.seen.tail_output(out_path, "stdout", exited, self.fail)),
            asyncio.create_task(self.seen.tail_output(err_path, "stderr", exited, self.fail)),
        ]
        wait_task = asyncio.create_task(proc.wait())
        cancel_task = asyncio.create_task(cancel.wait()) if cancel is not None else None
        stopped_by: str | None = None
        try:
            waiters: set[asyncio.Future[Any]] = {wait_task, self.failure}
            if cancel_task is not None:
                waiters.add(cancel_task)
            done, _ = await asyncio.wait(waiters, timeout=spec.timeout_s, return_when=asyncio.FIRST_COMPLETED)
            if self.failure.done():
                self.failure.result()  # raises the subscriber's exception (cleanup below)
            if wait_task not in done:
                stopped_by = "cancel" if cancel_task is not None and cancel_task in done else "timeout"
                await self._stop(tree, wait_task, grace_s)
            # pytest is gone; anything left in its group or job (a server a test started that
            # ignores SIGINT, a hung worker, a daemon a fixture forgot) goes now.
            tree.kill()
            exited.set()
            await self._drain(readers, server)
            if self.failure.done():
                self.failure.result()
        except BaseException:
            # Our caller cancelled us (the dashboard quit), or a subscriber raised: leave nothing running.
            tree.kill()
            with suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(wait_task), 5)
            raise
        finally:
            for task in (*readers, cancel_task):
                if task is not None and not task.done():
                    task.cancel()
            if not wait_task.done():
                wait_task.cancel()
        return self._finish(status=None, message=None, returncode=proc.returncode, stopped_by=stopped_by, t0=t0, started=True)

    async def _stop(self, tree: ProcessTree, wait_task: asyncio.Task[int], grace_s: float) -> None:
        """Interrupt the group like Ctrl-C, so pytest reports what it has; kill after the grace
        (at once when the interrupt could not be delivered)."""
        delivered = tree.interrupt()
        try:
            await asyncio.wait_for(asyncio.shield(wait_task), grace_s if delivered else 0)
        except TimeoutError:
            tree.kill()
            await wait_task

    async def _drain(self, readers: list[asyncio.Task[None]], server: StreamServer | None) -> None:
        """After the exit, read what is left; stop when done or when nothing moved for a while.

        The output files end with one last read; the socket ends at EOF, but a grandchild that
        inherited it (a daemon a test forgot) could keep it open forever: hence the idle limit.
        """
        pending: set[asyncio.Future[Any]] = set(readers)
        done_task: asyncio.Task[Any] | None = None
        if server is not None:
            if not server.connected:
                # The exit may be seen before the plugin's connection is accepted.
                for _ in range(20):
                    if server.connected:
                        break
                    await asyncio.sleep(0.01)
            if server.connected:
                done_task = asyncio.create_task(server.done.wait())
                pending.add(done_task)
        try:
            while pending:
                before = self.seen.activity
                _, pending = await asyncio.wait(pending, timeout=_IDLE_S)
                if pending and self.seen.activity == before:
                    break
        finally:
            if done_task is not None and not done_task.done():
                done_task.cancel()

    def _finish(self, *, status: str | None, message: str | None, returncode: int | None, stopped_by: str | None, t0: float, started: bool) -> TierResult:
        return self.seen.result(
            status=status, message=message, returncode=returncode, stopped_by=stopped_by,
            duration_s=time.monotonic() - t0, started=started, argv=self.argv, only=self.only,
        )


async def run_tier(
    spec: TierSpec,
    *,
    on_event: OnEvent | None = None,
    cancel: asyncio.Event | None = None,
    only_nodeids: Sequence[str] | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    tail_lines: int = TAIL_LINES,
    platform: str | None = None,
) -> TierResult:
    """Run one tier to its verdict. Never raises for a failing, crashing or hung child.

    `on_event` is called synchronously, in the event loop, for every TierEvent, ending with
    TierFinished; an exception it raises stops the tier (process tree killed) and propagates.
    `cancel` set → the tree gets an interrupt, then a kill after `grace_s`; the result is
    `cancelled` with the tests finished so far. `only_nodeids` runs only those node ids (or
    the tests under them): the rest of the selection is deselected by the plugin, so the
    tier's own options (``-m``, ``-k``, paths) still apply. Cancelling the task that awaits
    this kills the tree at once.
    """
    if only_nodeids is not None and not only_nodeids:
        raise ValueError("only_nodeids is empty: pass None to run the whole tier")
    if only_nodeids is not None and spec.kind != KIND_PYTEST:
        raise ValueError(f"tier {spec.name!r} runs a command: it has no node ids to select")
    run = _TierRun(spec, on_event, only_nodeids, tail_lines, platform)
    return await run.execute(cancel, grace_s)
