"""What the history keeps of a run: a golden-path run (`RunRecord`) or a tier run (`TierRecord`).

Plain values built from a `RunResult` (live, replayed, from the dashboard: run_values.py says
what is kept, secrets never) or a tier's result, so the history, `wsdash diff` and the metrics
read one shape.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from wsdash.core.run_values import FAILED, NO_RUN, PASSED, SEQUENCE_LIMIT, run_values, started_at_of

if TYPE_CHECKING:  # `wsdash history` reads records without the event loop and TLS that judged_run imports (40 ms)
    from wsdash.core.judged_run import RunResult

__all__ = ["FAILED", "NO_RUN", "PASSED", "SEQUENCE_LIMIT", "RunRecord", "TierRecord", "iso", "started_at_of"]


@dataclass
class RunRecord:
    started_at: float  # wall clock (time.time()) when the run began
    target: str  # the configured target's name, or the (redacted) URL when run with --url
    url: str  # redacted
    source: str  # who ran it: golden-path, watch, dashboard, demo
    verdict: str  # passed | failed | no_run
    completed: bool = False  # the outermost agent_completed arrived
    connect_ms: float | None = None
    first_event_ms: float | None = None
    total_ms: float | None = None
    checkpoints: dict[str, float | None] = field(default_factory=dict)  # ms after the message
    phases: dict[str, float] = field(default_factory=dict)  # connect phases, ms
    violations: list[tuple[str, str | None, str]] = field(default_factory=list)  # (code, event, detail)
    error_kind: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    error_hint: str | None = None
    close_code: int | None = None
    frames: tuple[int, int, int] = (0, 0, 0)  # received, malformed, unknown
    type_counts: dict[str, int] = field(default_factory=dict)  # event type → frames, in first-arrival order
    sequence: list[str] = field(default_factory=list)  # the first SEQUENCE_LIMIT event types, in order
    recording: str | None = None
    id: int | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == PASSED

    @property
    def violation_codes(self) -> list[str]:
        return list(dict.fromkeys(code for code, _, _ in self.violations))

    @classmethod
    def from_result(
        cls,
        result: RunResult,
        *,
        target: str | None,
        source: str,
        started_at: float | None = None,
        recording: str | None = None,
    ) -> RunRecord:
        return cls(**run_values(result, target=target, source=source, started_at=started_at, recording=recording))

    def to_json(self) -> dict[str, Any]:
        # Field by field with shallow copies, not dataclasses.asdict: its deep copy of every value
        # was half a millisecond a run (`history --json` of 100,000 runs: a minute of it).
        d = dict(vars(self))  # the fields, in their order (dataclass __init__ sets them so)
        for key in ("checkpoints", "phases", "type_counts"):
            d[key] = dict(d[key])
        d["sequence"] = list(self.sequence)
        d["started_at"] = iso(self.started_at)
        d["ok"] = self.ok
        d["violations"] = [{"code": c, "event": e, "detail": t} for c, e, t in self.violations]
        d["frames"] = dict(zip(("received", "malformed", "unknown"), self.frames))
        return d


@dataclass
class TierRecord:
    started_at: float
    tier: str
    title: str
    status: str  # passed | failed | blocked | error | cancelled | timeout
    counts: dict[str, int]
    pass_rate: float | None
    target_rate: float  # the pass rate the tier must reach
    duration_s: float
    source: str  # tiers, dashboard, demo
    requires: str = ""  # the targets it needs, comma-separated
    id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    @classmethod
    def from_result(cls, result: Any, *, source: str, requires: tuple[str, ...] | list[str] = (), ended_at: float | None = None) -> TierRecord:
        """From a tier's result (services/tiers/model.TierResult, read by its attributes)."""
        duration = float(result.duration_s or 0.0)
        return cls(
            started_at=(ended_at if ended_at is not None else time.time()) - duration,
            tier=result.name, title=result.title, status=result.status,
            counts={k: int(n) for k, n in result.counts.items()},
            pass_rate=result.pass_rate, target_rate=float(result.target), duration_s=round(duration, 3),
            source=source, requires=",".join(requires),
        )

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["started_at"] = iso(self.started_at)
        d["ok"] = self.ok
        return d


def iso(at: float) -> str:
    """Local time with its offset, to the second: what a person reads and a script parses."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(at))
