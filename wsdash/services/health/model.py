"""Health results: what one probe found (`CheckResult`), what a target's probes add up to
(`ProbeResult`), the statuses, and the age of a check in words. `wsdash check` prints these as
JSON; the board (board.py) keeps the latest per name."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from wsdash.core.errors import ClassifiedError

UP, DOWN, DEGRADED, SKIPPED = "up", "down", "degraded", "skipped"
UNKNOWN = "unknown"  # the board's answer before the first result for a name arrives
STATUSES = (UP, DOWN, DEGRADED, SKIPPED)
USABLE = (UP, DEGRADED)  # degraded still works (e.g. a health endpoint says "degraded")


@dataclass
class CheckResult:
    """One sub-check of a probe (dns, tcp, websocket, health, …)."""

    name: str
    status: str
    latency_ms: float | None = None
    error: ClassifiedError | None = None
    detail: str = ""  # a short human fact ("HTTP 200 ok", "expires in 80 days"), never a secret

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "latency_ms": _ms(self.latency_ms),
                "error": _error_json(self.error), "detail": self.detail}


@dataclass
class ProbeResult:
    """One target (or Docker): its overall status, the first actionable hint, its sub-checks."""

    name: str
    status: str
    latency_ms: float | None = None
    hint: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    detail: str = ""  # one line for the table when all is well ("Docker 27.1 · API 1.47 · linux")
    facts: dict[str, Any] = field(default_factory=dict)  # machine-readable extras (versions, cert days)
    error: ClassifiedError | None = None  # the error that decided the status, when there is one
    at: float = field(default_factory=time.time)  # wall clock of the result

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "latency_ms": _ms(self.latency_ms),
                "hint": self.hint or None, "detail": self.detail, "error": _error_json(self.error),
                "checks": [c.to_json() for c in self.checks], "facts": self.facts}

    @property
    def usable(self) -> bool:
        return self.status in USABLE


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _error_json(error: ClassifiedError | None) -> dict[str, Any] | None:
    return None if error is None else {"kind": error.kind, "message": error.message, "hint": error.hint}


def summarize(
    name: str,
    checks: list[CheckResult],
    latency_ms: float | None,
    *,
    core: Iterable[str] = (),
    **extra: Any,
) -> ProbeResult:
    """Fold sub-checks into one status: a failed core check makes the target down; a failed
    auxiliary one (health endpoint, certificate) only degrades it — the socket may still work."""
    core = set(core)
    failed = [c for c in checks if c.status == DOWN]
    status = UP
    if any(c.name in core for c in failed):
        status = DOWN
    elif failed or any(c.status == DEGRADED for c in checks):
        status = DEGRADED
    elif checks and all(c.status == SKIPPED for c in checks):
        status = SKIPPED
    deciding = [c for c in failed if c.name in core] or failed or [c for c in checks if c.status == DEGRADED]
    error = next((c.error for c in deciding if c.error is not None), None)
    hint = error.hint if error else next((c.detail for c in deciding), "")
    return ProbeResult(name=name, status=status, latency_ms=latency_ms, hint=hint, checks=checks, error=error, **extra)



def ago(seconds: float) -> str:
    """'just now', '42s ago', '3m05s ago' — the age of a check, for people."""
    seconds = max(0, int(seconds))
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds}s ago"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s ago"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m ago"
