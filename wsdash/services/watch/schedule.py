"""Run a job on a schedule, never two at once, and notice when pass turns to fail and back.

A run that takes longer than the interval delays the next one — it starts as soon as the late one
ends — and the slots it overran are dropped, never stacked up to fire in a burst.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")

PASSING, FAILING = "passing", "failing"


@dataclass
class Slot:
    number: int  # 1, 2, …
    due: float  # the monotonic time it was due
    started: float  # the monotonic time it started (later than due when the one before overran)

    @property
    def late_s(self) -> float:
        return max(0.0, self.started - self.due)


async def run_schedule(
    job: Callable[[Slot], Awaitable[T]],
    every_s: float,
    *,
    runs: int | None = None,
    until: Callable[[T], bool] | None = None,
    on_result: Callable[[Slot, T], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> T | None:
    """Run `job` every `every_s` seconds, one at a time, `runs` times (None: until cancelled) or
    until `until(result)` is true. Returns the last result (None if none finished)."""
    last: T | None = None
    due = clock()
    number = 0
    while runs is None or number < runs:
        wait = due - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        number += 1
        slot = Slot(number, due, clock())
        last = await job(slot)
        if on_result is not None:
            on_result(slot, last)
        if until is not None and until(last):
            break
        # One interval after this run's start; a run that overran it makes the next one start
        # the moment it ends (late, by `late_s`), and the interval counts from there: missed
        # slots are never made up for in a burst.
        due = slot.started + every_s
    return last


@dataclass
class Change:
    """The state flipped: passing → failing or failing → passing."""

    now: str
    before: str
    after_runs: int  # how long the previous state lasted, in runs
    since: float | None  # wall clock the previous state began


@dataclass
class StateTracker:
    """Pass/fail over successive runs: the changes worth an alert, and how long a state has held."""

    state: str | None = None
    runs_in_state: int = 0
    state_since: float | None = None
    changes: list[Change] = field(default_factory=list)

    def observe(self, ok: bool, at: float) -> Change | None:
        new = PASSING if ok else FAILING
        if new == self.state:
            self.runs_in_state += 1
            return None
        change = None
        if self.state is not None:
            change = Change(new, self.state, self.runs_in_state, self.state_since)
            self.changes.append(change)
        self.state, self.runs_in_state, self.state_since = new, 1, at
        return change
