"""Live state of every tier for the dashboard: fed by runner events, read on the screen's timer.

Headless (no Textual): the tier pane renders `TierBoard.states`; the runner's `on_event`
writes into it. Runs one batch of tiers at a time; cancel ends it with a partial summary.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

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
    # The run before the current one: kept out of sight while a new run is queued or running
    # (a card shows the new run's counts and clock, never the old failures), and for `f` when
    # the new one never started (blocked, cancelled before its turn).
    previous: TierResult | None = None

    @property
    def last_run(self) -> TierResult | None:
        """The latest result of a run that started."""
        if self.result is not None and self.result.started:
            return self.result
        return self.previous

    @property
    def has_failures(self) -> bool:
        """Its last run has failed tests to rerun."""
        return self.last_run is not None and bool(self.last_run.failed_nodeids)

    def queue(self) -> None:
        """A new run is coming: what the card shows starts over."""
        if self.result is not None and self.result.started:
            self.previous = self.result
        self.status, self.result, self.tally, self.tests, self.started_at = QUEUED, None, None, [], None
        self.output.clear()
        self.version += 1

    @property
    def duration_s(self) -> float | None:
        if self.result is not None:
            return self.result.duration_s
        return time.monotonic() - self.started_at if self.started_at is not None else None

    def sorted_tests(self, needle: str = "") -> list[TestResult]:
        """Failures first, then in the order they finished; `needle` filters node ids and outcomes."""
        needle = needle.lower()
        rows = [t for t in self.tests if not needle or needle in t.nodeid.lower() or needle == t.outcome]
        # A no_skip test that skipped is a failure: it sorts with them.
        return sorted(rows, key=lambda t: _RANK["failed"] if t.failing else _RANK.get(t.outcome, 9))


Usable = Callable[[], Mapping[str, "bool | None"]]


class TierBoard:
    """`landmarks` (causes.landmarks of the config) and `usable` (health name → up, down, not
    known) let the board say why tests skipped and what to do; without them it only groups."""

    def __init__(self, specs: Sequence[TierSpec], health: Any = None, *, landmarks: Sequence[Any] = (), usable: Usable | None = None) -> None:
        self.specs = list(specs)
        self.health = health
        self.landmarks = list(landmarks)
        self.usable = usable
        self.states = {s.name: TierState(s) for s in self.specs}
        self.running = False
        self._cancel: asyncio.Event | None = None

    def advice(self, name: str) -> list[dict[str, Any]]:
        """What the named tier's skips point at, with the current health, and what to do."""
        st = self.states.get(name)
        result = st.result if st is not None else None
        if st is None or result is None or result.skips is None or not result.skips.groups or not self.landmarks:
            return []
        from wsdash.services.tiers.causes import explain

        usable = dict(self.usable()) if self.usable is not None else {}
        return explain(result.skips, self.landmarks, st.spec, usable, lambda v: bool(st.spec.env.get(v) or os.environ.get(v)))

    def facts(self) -> list[dict[str, Any]]:
        """Plain data for the health service's "what still works" (services do not import each
        other): each tier's title, requires, and what its last run left unvalidated."""
        out = []
        for st in self.states.values():
            r = st.last_run
            skips = r.skips if r is not None else None
            out.append({
                "title": st.spec.title, "requires": list(st.spec.requires),
                "ran": skips.ran if skips is not None else None,
                "skipped": skips.skipped if skips is not None else 0,
                "total": skips.total if skips is not None else None,
                "top_reasons": [(g.reason, g.count) for g in skips.groups[:2]] if skips is not None else [],
            })
        return out

    @property
    def has_failures(self) -> bool:
        return any(st.has_failures for st in self.states.values())

    def apply(self, event: TierEvent) -> None:
        st = self.states.get(event.tier)
        if st is None:
            return
        st.version += 1
        if isinstance(event, TierStarted):
            if st.result is not None and st.result.started:  # started without queue(): run_tiers directly
                st.previous = st.result
            st.result = None
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
                prev = self.states[s.name].last_run
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
            self.states[s.name].queue()
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
