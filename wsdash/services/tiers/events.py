"""Runner events (what a tier run tells its subscribers) and TierTally, the live counts they feed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

from wsdash.services.tiers.model import TestResult, TierResult, empty_counts, pass_rate


@dataclass(frozen=True)
class TierStarted:
    tier: str
    argv: tuple[str, ...]
    pid: int
    only_nodeids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Collected:
    tier: str
    count: int
    deselected: int = 0


@dataclass(frozen=True)
class TestStarted:
    __test__ = False
    tier: str
    nodeid: str
    at: float


@dataclass(frozen=True)
class TestFinished:
    """One counted result (see TestResult): a test's outcome, or a setup/teardown/collect error."""

    __test__ = False
    tier: str
    result: TestResult


@dataclass(frozen=True)
class OutputLine:
    tier: str
    stream: str  # "stdout" | "stderr"
    line: str


@dataclass(frozen=True)
class TierFinished:
    tier: str
    result: TierResult


TierEvent = Union[TierStarted, Collected, TestStarted, TestFinished, OutputLine, TierFinished]
OnEvent = Callable[[TierEvent], None]  # a subscriber: called in the event loop, for every event


@dataclass
class TierTally:
    """Live counts for one tier, fed with events: what a progress line or a tier card shows."""

    tier: str
    collected: int | None = None
    counts: dict[str, int] = field(default_factory=empty_counts)
    running: dict[str, float] = field(default_factory=dict)  # nodeid → start time
    finished: int = 0

    def apply(self, event: TierEvent) -> None:
        if isinstance(event, Collected):
            self.collected = event.count
        elif isinstance(event, TestStarted):
            self.running[event.nodeid] = event.at
        elif isinstance(event, TestFinished):
            r = event.result
            self.counts[r.outcome] = self.counts.get(r.outcome, 0) + 1
            if r.phase != "teardown" and r.phase != "collect":
                self.finished += 1
            self.running.pop(r.nodeid, None)

    @property
    def pass_rate(self) -> float | None:
        return pass_rate(self.counts)
