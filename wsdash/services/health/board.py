"""The board that answers "is target X usable now, and since when?", and the poll loop that feeds it.

Plain asyncio, no Textual: the dashboard subscribes to a `HealthBoard`, and a tier that needs a
target gets its state through `board.ensure("staging")`, handed to the tier runner by the UI as a
callable (services never import each other); `poll` never overlaps two rounds. A checker that raises is a failure
of the *check*, not a verdict on the target: the board keeps it, classified, per name, until a
newer result replaces it, so the card can say its last result is stale and why.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable, Sequence

from wsdash.core.errors import UNKNOWN as UNKNOWN_KIND, ClassifiedError, classify
from wsdash.services.health.model import UNKNOWN, USABLE, ProbeResult, ago

Checker = Callable[[Sequence[str] | None], Awaitable[list[ProbeResult]]]
"""Runs a check round: the names to probe (None = all) → their results."""

Listener = Callable[[ProbeResult, str | None], None]
"""Called with (new result, previous status or None) after every update."""

FailureListener = Callable[[ClassifiedError, "tuple[str, ...] | None"], None]
"""Called with (the classified error, the names that round checked or None for all) when a
checker raises."""

CHECK_FAILED_HINT = "the check broke, not necessarily the target; `wsdash check --json` shows the whole error"


@dataclass
class _Entry:
    result: ProbeResult
    since: float  # wall clock when the current status began


@dataclass(frozen=True)
class _Failure:
    error: ClassifiedError
    at: float  # wall clock
    names: tuple[str, ...] | None  # None: a round for every name


def check_failure(exc: BaseException) -> ClassifiedError:
    """A checker's exception as a classified error whose hint fits a failed *check*."""
    error = classify(exc)
    if error.kind == UNKNOWN_KIND:
        return ClassifiedError(UNKNOWN_KIND, error.message, CHECK_FAILED_HINT)
    return error


class HealthBoard:
    """The latest result per name, with status transitions and waiting for usability.

    `checker` (optional) lets `ensure` check on demand when the last result is missing or stale,
    and is what `poll` calls each round.
    """

    def __init__(self, checker: Checker | None = None, *, max_age_s: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.checker = checker
        self.max_age_s = max_age_s
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._listeners: list[Listener] = []
        self._failure_listeners: list[FailureListener] = []
        self._failures: list[_Failure] = []  # the newest last; older ones that no longer matter are dropped
        self._waiters: list[asyncio.Future[None]] = []  # ensure(wait_s=…) callers
        self._inflight: dict[str, asyncio.Future[None]] = {}
        self._wake: asyncio.Event | None = None
        self.rounds = 0  # completed poll rounds (for the dashboard's "checked 3 s ago")
        self.checking = 0  # check rounds in flight, for a "checking…" indicator
        self.last_error: BaseException | None = None  # a checker that raised (poll keeps going)

    # -- reading -------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._entries)

    def result(self, name: str) -> ProbeResult | None:
        entry = self._entries.get(name)
        return entry.result if entry else None

    def status(self, name: str) -> str:
        entry = self._entries.get(name)
        return entry.result.status if entry else UNKNOWN

    def usable(self, name: str) -> bool:
        return self.status(name) in USABLE

    def failure(self, name: str) -> ClassifiedError | None:
        """Why the latest check of `name` raised, when no result arrived after it (else None)."""
        entry = self._entries.get(name)
        newer_than = entry.result.at if entry else float("-inf")
        for f in reversed(self._failures):
            if (f.names is None or name in f.names) and f.at >= newer_than:
                return f.error
        return None

    def since(self, name: str) -> float:
        """Wall-clock time when `name` entered its current status (nan when never seen)."""
        entry = self._entries.get(name)
        return entry.since if entry else float("nan")

    def reason(self, name: str) -> str:
        """One line: status, for how long, and why (the hint) — what a blocked tier shows."""
        entry = self._entries.get(name)
        failed = self.failure(name)
        if entry is None:
            return f"{name} could not be checked: {failed.message}" if failed else f"{name} has not been checked yet"
        res = entry.result
        age = ago(self._clock() - entry.since)
        stamp = time.strftime("%H:%M:%S", time.localtime(entry.since))
        line = f"{name} is {res.status} since {stamp} ({age})"
        why = res.error.message if res.error else ""
        stale = f" (its last check failed: {failed.message})" if failed else ""
        if res.status in USABLE and not res.hint:
            return line + (f": {res.detail}" if res.detail else "") + stale
        parts = [p for p in (why, res.hint) if p]
        return line + (": " + " — ".join(parts) if parts else "") + stale

    # -- writing -------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(result, previous_status)` after every update; returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def subscribe_failures(self, listener: FailureListener) -> Callable[[], None]:
        """Call `listener(error, names)` whenever a checker raises; returns an unsubscribe."""
        self._failure_listeners.append(listener)
        return lambda: self._failure_listeners.remove(listener) if listener in self._failure_listeners else None

    def failed(self, exc: BaseException, names: Sequence[str] | None = None) -> None:
        """Record that a check of `names` (None: all) raised `exc`; the poll goes on."""
        self.last_error = exc
        failure = _Failure(check_failure(exc), self._clock(), None if names is None else tuple(names))
        # A round for everything supersedes every older failure; keep the list short either way.
        self._failures = [f for f in self._failures if failure.names is not None and f.names != failure.names][-16:]
        self._failures.append(failure)
        for listener in list(self._failure_listeners):
            try:
                listener(failure.error, failure.names)
            except Exception:  # noqa: BLE001 - a broken subscriber is its own bug
                pass

    def update(self, result: ProbeResult) -> None:
        old = self._entries.get(result.name)
        previous = old.result.status if old else None
        since = old.since if old and previous == result.status else result.at
        self._entries[result.name] = _Entry(result, since)
        for listener in list(self._listeners):
            # A broken subscriber must not stop the others or the poller: it is its own bug.
            try:
                listener(result, previous)
            except Exception:  # noqa: BLE001
                pass
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def update_all(self, results: Iterable[ProbeResult]) -> None:
        for result in results:
            self.update(result)

    # -- asking --------------------------------------------------------------------------------
    async def ensure(
        self,
        name: str,
        *,
        wait_s: float = 0.0,
        max_age_s: float | None = None,
        retry_s: float = 5.0,
    ) -> tuple[bool, str]:
        """(usable, reason) — what a tier runner asks before a tier that needs `name`.

        Checks `name` now when the last result is missing or older than `max_age_s`. If it is not
        usable and `wait_s` > 0, waits up to `wait_s` for it to come back: any update (a poller, a
        recheck) wakes the wait, and without a poller it re-checks every `retry_s` itself.
        Concurrent callers share one in-flight check; cancelling a caller never loses a result.
        """
        max_age = self.max_age_s if max_age_s is None else max_age_s
        res = self.result(name)
        if self.checker is not None and (res is None or self._clock() - res.at > max_age):
            await self._check_once(name)
        if wait_s > 0 and not self.usable(name):
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(wait_s):
                    while not self.usable(name):
                        fut: asyncio.Future[None] = loop.create_future()
                        self._waiters.append(fut)
                        try:
                            await asyncio.wait_for(fut, retry_s)
                        except TimeoutError:
                            if self.checker is not None:
                                await self._check_once(name)
            except TimeoutError:
                pass
        return self.usable(name), self.reason(name)

    async def _check_once(self, name: str) -> None:
        assert self.checker is not None
        task = self._inflight.get(name)
        if task is None:
            task = asyncio.ensure_future(self._run_checker(name))
            self._inflight[name] = task
            task.add_done_callback(lambda _t: self._inflight.pop(name, None))
        # Shielded: a caller that gives up (timeout, cancel) leaves the check running for the others.
        await asyncio.shield(task)

    async def _run_checker(self, name: str) -> None:
        assert self.checker is not None
        self.checking += 1
        try:
            self.update_all(await self.checker([name]))
        except Exception as exc:  # noqa: BLE001 - a broken checker is reported, not raised
            self.failed(exc, [name])
        finally:
            self.checking -= 1

    def recheck_now(self) -> None:
        """Ask the running `poll` for a round now (after the current one: rounds never overlap).
        Without a poller it does nothing; use `await ensure(name, max_age_s=0)` instead."""
        self._wake_event().set()

    def _wake_event(self) -> asyncio.Event:
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake


async def poll(
    board: HealthBoard,
    interval_s: float,
    checker: Checker | None = None,
    *,
    rounds: int | None = None,
) -> None:
    """Check everything every `interval_s`, measured from the END of the previous round, so a slow
    round never overlaps the next (dolphie's rule). `board.recheck_now()` cuts the wait short.
    Runs until cancelled, or for `rounds` rounds."""
    checker = checker or board.checker
    if checker is None:
        raise ValueError("poll needs a checker (pass one, or give the board one)")
    wake = board._wake_event()
    done = 0
    while rounds is None or done < rounds:
        # Cleared before the round: a recheck asked for DURING it (say, just after starting
        # Docker) stays set and triggers one more round as soon as this one ends.
        wake.clear()
        board.checking += 1
        try:
            board.update_all(await checker(None))
            board.last_error = None
        except Exception as exc:  # noqa: BLE001 - keep polling; the cards and a toast say it
            board.failed(exc)
        finally:
            board.checking -= 1
        done += 1
        board.rounds += 1
        if rounds is not None and done >= rounds:
            break
        try:
            async with asyncio.timeout(interval_s):
                await wake.wait()
        except TimeoutError:
            pass


