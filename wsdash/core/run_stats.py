"""What a stretch of golden-path runs adds up to: pass rate, p50/p95/p99 of the first event and of
the whole run, the longest failing streak and the last change of state (pass ↔ fail).

Pure functions over the history's `timings` rows, shared by `wsdash history`, the dashboard's
history strip and `wsdash watch`'s summary. A run that could not run counts as failing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any, Iterable, Sequence

from wsdash.core.run_record import PASSED, iso

Row = Sequence[Any]  # (started_at, target, verdict, completed, first_event_ms, total_ms)


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence, q in [0, 1]."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclass
class Percentiles:
    n: int = 0  # how many runs measured it
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None

    @classmethod
    def of(cls, values: Iterable[float]) -> Percentiles:
        ordered = sorted(values)
        return cls(len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.95), percentile(ordered, 0.99))


@dataclass
class Streak:
    runs: int = 0
    first_at: float | None = None
    last_at: float | None = None
    ongoing: bool = False  # it is still going on: the newest run is part of it


@dataclass
class Change:
    at: float  # the first run in the new state
    now: str  # "passing" or "failing"
    after: int  # how many runs the previous state lasted


@dataclass
class Summary:
    target: str | None
    runs: int = 0
    passed: int = 0
    first_event_ms: Percentiles = field(default_factory=Percentiles)  # every run with a first event
    total_ms: Percentiles = field(default_factory=Percentiles)  # every run that completed
    longest_failing: Streak = field(default_factory=Streak)
    last_change: Change | None = None
    first_at: float | None = None
    last_at: float | None = None
    last_ok: bool | None = None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.runs if self.runs else None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["pass_rate"] = None if self.pass_rate is None else round(self.pass_rate, 6)
        for key in ("first_at", "last_at"):
            d[key] = None if d[key] is None else iso(d[key])
        streak = d["longest_failing"]
        for key in ("first_at", "last_at"):
            streak[key] = None if streak[key] is None else iso(streak[key])
        if d["last_change"] is not None:
            d["last_change"]["at"] = iso(d["last_change"]["at"])
        return d


def summarize(rows: Sequence[Row], target: str | None = None) -> Summary:
    """`rows` oldest first, as `History.timings` returns them. Column-wise and by runs of equal
    state (itertools in C), so 100,000 runs take milliseconds, not a Python loop per run."""
    s = Summary(target=target, runs=len(rows))
    if not rows:
        return s
    at, _, verdicts, completed, first, total = zip(*rows)
    s.first_at, s.last_at = at[0], at[-1]
    s.first_event_ms = Percentiles.of([x for x in first if x is not None])
    s.total_ms = Percentiles.of([t for c, t in zip(completed, total) if c and t is not None])
    oks = [v == PASSED for v in verdicts]
    s.passed = sum(oks)
    stretches: list[tuple[bool, int, int]] = []  # (ok, first index, length) of each run of equal state
    i = 0
    for ok, group in groupby(oks):
        n = len(list(group))
        stretches.append((ok, i, n))
        i += n
    failing = [x for x in stretches if not x[0]]
    if failing:
        _, start, n = max(failing, key=lambda x: x[2])  # the first of the longest
        s.longest_failing = Streak(n, at[start], at[start + n - 1], ongoing=(start + n == len(rows)))
    if len(stretches) > 1:
        ok, start, _ = stretches[-1]
        s.last_change = Change(at[start], "passing" if ok else "failing", stretches[-2][2])
    s.last_ok = oks[-1]
    return s


def by_target(rows: Sequence[Row]) -> list[Summary]:
    """One summary per target; `rows` grouped by target (as `History.timings` orders them)."""
    return [summarize(list(group), name) for name, group in groupby(rows, key=itemgetter(1))]


class RecentRuns:
    """The last runs of one target, newest last, for the dashboard's history strip: loaded from
    the history when the dashboard opens, appended as its own runs finish. `version` moves on
    every change, so a widget redraws only then."""

    def __init__(self, target: str, keep: int = 100) -> None:
        from collections import deque

        self.target = target
        self.records: deque[Any] = deque(maxlen=keep)
        self.note = ""  # a word from the app shown with them (the auto-run state)
        self.version = 0

    def load(self, older: Iterable[Any]) -> None:
        """Runs from the history (oldest first) go before any this session already added."""
        mine = list(self.records)
        self.records.clear()
        self.records.extend(older)
        self.records.extend(mine)
        self.version += 1

    def add(self, record: Any) -> None:
        self.records.append(record)
        self.version += 1

    def set_note(self, note: str) -> None:
        if note != self.note:
            self.note = note
            self.version += 1

    def summary(self) -> Summary:
        return summarize([(r.started_at, r.target, r.verdict, r.completed, r.first_event_ms, r.total_ms) for r in self.records], self.target)
