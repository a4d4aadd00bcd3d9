"""What the history keeps of a run: a golden-path run (`RunRecord`) or a tier run (`TierRecord`).

Plain values built from a `RunResult` (live, replayed, from the dashboard) or a tier's result, so
the history, `wsdash diff` and the metrics read one shape. Nothing secret is kept: the URL is
redacted and every text is scrubbed on the way in (docs/protocol.md §2 says where tokens travel).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from wsdash.core import exit_codes
from wsdash.core.redact import redact_url, scrub

if TYPE_CHECKING:  # `wsdash history` reads records without the event loop and TLS that judged_run imports (40 ms)
    from wsdash.core.judged_run import RunResult

PASSED, FAILED, NO_RUN = "passed", "failed", "no_run"
SEQUENCE_LIMIT = 64  # event types kept in arrival order: enough to see an order change, bounded for a burst

_VERDICT_OF_EXIT = {exit_codes.OK: PASSED, exit_codes.FAILED: FAILED, exit_codes.NO_RUN: NO_RUN}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


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
        v = result.verdict
        counts: dict[str, int] = {}
        for row in result.events:
            counts[row[0]] = counts.get(row[0], 0) + 1
        url = redact_url(result.url)
        error = result.error
        return cls(
            started_at=started_at if started_at is not None else started_at_of(result),
            target=target or url,
            url=url,
            source=source,
            verdict=_VERDICT_OF_EXIT.get(result.exit_code, FAILED),
            completed=v.completed,
            connect_ms=_ms(v.connect_s),
            first_event_ms=_ms(v.first_event_s),
            total_ms=_ms(v.total_s),
            checkpoints={k: _ms(x) for k, x in v.checkpoints.items()},
            phases={k: round(x, 3) for k, x in result.phases.items()},
            violations=[(x.code, x.event, scrub(x.detail)) for x in v.violations],
            error_kind=error.kind if error else None,
            error_code=error.code if error else None,
            error_message=scrub(error.message) if error else None,
            error_hint=scrub(error.hint) if error else None,
            close_code=result.close[0] if result.close else None,
            frames=(result.frames.received, result.frames.malformed, result.frames.unknown),
            type_counts=counts,
            sequence=[row[0] for row in result.events[:SEQUENCE_LIMIT]],
            recording=scrub(recording) if recording else None,
        )

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["started_at"] = iso(self.started_at)
        d["ok"] = self.ok
        d["violations"] = [{"code": c, "event": e, "detail": t} for c, e, t in self.violations]
        d["frames"] = dict(zip(("received", "malformed", "unknown"), self.frames))
        return d


def started_at_of(result: RunResult, ended_at: float | None = None) -> float:
    """When a run that just ended began: now less its connect and its run (a run carries
    monotonic times only). Within the grace period of the truth, which a history line needs."""
    spent_ms = (result.phases.get("total_ms") or 0.0) + (result.verdict.total_s or 0.0) * 1000
    return (ended_at if ended_at is not None else time.time()) - spent_ms / 1000


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
