"""Live state of every tier for the dashboard: fed by runner events, read on the screen's timer.

Headless (no Textual): the tier pane renders `TierBoard.states`; the runner's `on_event`
writes into it. Runs one batch of tiers at a time; cancel ends it with a partial summary.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Sequence

from wsdash.services.tiers.events import Collected, OutputLine, TestFinished, TierEvent, TierFinished, TierStarted, TierTally
from wsdash.services.tiers.model import TestResult, TierResult
from wsdash.services.tiers.spec import TierSpec

IDLE, QUEUED, RUNNING = "idle", "queued", "running"
_RANK = {"error": 0, "failed": 1, "xpassed": 2, "skipped": 3, "xfailed": 4, "passed": 5}


@dataclass
class TierState:
    spec: TierSpec
    status: str = IDLE
    tally: TierTally | None = None
    result: TierResult | None = None
    tests: list[TestResult] = field(default_factory=list)
    started_at: float | None = None
    output: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    version: int = 0

    @property
    def has_failures(self) -> bool:
        """Its last result has failed tests to rerun."""
        return self.result is not None and bool(self.result.failed_nodeids)

    @property
    def duration_s(self) -> float | None:
        if self.result is not None:
            return self.result.duration_s
        return time.monotonic() - self.started_at if self.started_at is not None else None

    def sorted_tests(self, needle: str = "") -> list[TestResult]:
        """Failures first, then in the order they finished; `needle` filters node ids and outcomes."""
        needle = needle.lower()
        rows = [t for t in self.tests if not needle or needle in t.nodeid.lower() or needle == t.outcome]
        return sorted(rows, key=lambda t: _RANK.get(t.outcome, 9))


class TierBoard:
    def __init__(self, specs: Sequence[TierSpec], health: Any = None) -> None:
        self.specs = list(specs)
        self.health = health
        self.states = {s.name: TierState(s) for s in self.specs}
        self.running = False
        self._cancel: asyncio.Event | None = None

    @property
    def has_failures(self) -> bool:
        return any(st.has_failures for st in self.states.values())

    def apply(self, event: TierEvent) -> None:
        st = self.states.get(event.tier)
        if st is None:
            return
        st.version += 1
        if isinstance(event, TierStarted):
            st.status, st.started_at, st.tally, st.tests = RUNNING, time.monotonic(), TierTally(event.tier), []
            st.output.clear()
        elif isinstance(event, TierFinished):
            st.result = event.result
            st.status = event.result.status
            if st.tally is None:  # blocked or cancelled before it started
                st.tests = list(event.result.tests)
        elif isinstance(event, OutputLine):
            st.output.append(event.line)
        else:
            if st.tally is not None:
                st.tally.apply(event)
            if isinstance(event, TestFinished):
                st.tests.append(event.result)
            elif isinstance(event, Collected) and st.tally is not None:
                st.tally.collected = event.count

    async def run(self, names: Sequence[str] | None = None, *, rerun_failed: bool = False) -> list[TierResult]:
        """Run the named tiers (all by default); rerun_failed runs only each tier's failed tests."""
        from wsdash.services.tiers.batch import run_tiers

        if self.running:
            return []
        specs = [s for s in self.specs if names is None or s.name in names]
        only: dict[str, Sequence[str] | None] = {}
        if rerun_failed:
            for s in list(specs):
                prev = self.states[s.name].result
                failed = prev.failed_nodeids if prev is not None else []
                if failed:
                    only[s.name] = failed
                else:
                    specs.remove(s)
        if not specs:
            return []
        self.running = True
        self._cancel = asyncio.Event()
        for s in specs:
            self.states[s.name].status = QUEUED
            self.states[s.name].version += 1
        try:
            return await run_tiers(specs, on_event=self.apply, cancel=self._cancel, health=self.health, only_nodeids=only or None)
        finally:
            self.running = False
            for s in specs:  # a crash of the runner itself must not leave cards spinning
                if self.states[s.name].status in (QUEUED, RUNNING):
                    self.states[s.name].status = "error"

    def cancel(self) -> bool:
        if self.running and self._cancel is not None:
            self._cancel.set()
            return True
        return False
