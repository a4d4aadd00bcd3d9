"""What changed between two golden-path runs: "what is different since it last worked".

Compares two `RunRecord`s (from the history, or made from recordings): verdicts and violations,
per-checkpoint timing deltas, connect phases, event types present in one and not the other, the
order events arrived in, frame counts and errors. Pure: `wsdash diff` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wsdash.core.protocol import GOLDEN_EVENTS
from wsdash.core.run_record import RunRecord

Delta = tuple[float | None, float | None, float | None]  # (a, b, b − a) in ms


def _delta(a: float | None, b: float | None) -> Delta:
    return (a, b, None if a is None or b is None else round(b - a, 3))


@dataclass
class OrderChange:
    a: list[str]  # the order each type first arrived in, run A
    b: list[str]
    at: int | None  # the first position where the arrival sequences part, None when they do not
    a_around: list[str] = field(default_factory=list)  # a few types from there on, each run
    b_around: list[str] = field(default_factory=list)


@dataclass
class RunDiff:
    a: RunRecord
    b: RunRecord
    checkpoints: dict[str, Delta]
    timings: dict[str, Delta]  # connect, first event, total
    phases: dict[str, Delta]
    only_in_a: dict[str, int]  # event type → frames, present in A and never in B
    only_in_b: dict[str, int]
    type_counts: dict[str, tuple[int, int]]  # types in both whose frame counts differ
    order: OrderChange
    violations_gone: list[tuple[str, str | None, str]]  # in A, not in B
    violations_new: list[tuple[str, str | None, str]]  # in B, not in A
    frames: dict[str, tuple[int, int]]

    @property
    def verdict_changed(self) -> bool:
        return self.a.verdict != self.b.verdict

    @property
    def order_changed(self) -> bool:
        return self.order.at is not None or self.order.a != self.order.b

    @property
    def same(self) -> bool:
        """Nothing but timings differs."""
        return not (self.verdict_changed or self.only_in_a or self.only_in_b or self.type_counts or self.order_changed
                    or self.violations_gone or self.violations_new or self.a.error_kind != self.b.error_kind)

    def to_json(self) -> dict[str, Any]:
        def delta(d: Delta) -> dict[str, float | None]:
            return {"a_ms": d[0], "b_ms": d[1], "delta_ms": d[2]}

        def vio(items: list[tuple[str, str | None, str]]) -> list[dict[str, Any]]:
            return [{"code": c, "event": e, "detail": t} for c, e, t in items]

        return {
            "a": _side(self.a), "b": _side(self.b), "same": self.same,
            "verdict": {"a": self.a.verdict, "b": self.b.verdict, "changed": self.verdict_changed},
            "error": {"a": self.a.error_kind, "b": self.b.error_kind},
            "checkpoints": {k: delta(d) for k, d in self.checkpoints.items()},
            "timings": {k: delta(d) for k, d in self.timings.items()},
            "phases": {k: delta(d) for k, d in self.phases.items()},
            "only_in_a": self.only_in_a, "only_in_b": self.only_in_b,
            "type_counts": {k: {"a": x, "b": y} for k, (x, y) in self.type_counts.items()},
            "order": {"a": self.order.a, "b": self.order.b, "changed": self.order_changed, "parts_at": self.order.at,
                      "a_from_there": self.order.a_around, "b_from_there": self.order.b_around},
            "violations": {"gone": vio(self.violations_gone), "new": vio(self.violations_new)},
            "frames": {k: {"a": x, "b": y} for k, (x, y) in self.frames.items()},
        }


def _side(r: RunRecord) -> dict[str, Any]:
    return {"id": r.id, "target": r.target, "started_at": r.to_json()["started_at"], "source": r.source,
            "recording": r.recording, "verdict": r.verdict}


def _order(a: RunRecord, b: RunRecord) -> OrderChange:
    order = OrderChange(list(a.type_counts), list(b.type_counts), None)
    for i, (x, y) in enumerate(zip(a.sequence, b.sequence)):
        if x != y:
            order.at = i
            break
    else:
        if len(a.sequence) != len(b.sequence):  # one ends where the other goes on
            order.at = min(len(a.sequence), len(b.sequence))
    if order.at is not None:
        order.a_around = a.sequence[order.at:order.at + 4]
        order.b_around = b.sequence[order.at:order.at + 4]
    return order


def diff_runs(a: RunRecord, b: RunRecord) -> RunDiff:
    names = list(GOLDEN_EVENTS) + [k for k in {**a.checkpoints, **b.checkpoints} if k not in GOLDEN_EVENTS]
    keys_a = {(c, e) for c, e, _ in a.violations}
    keys_b = {(c, e) for c, e, _ in b.violations}
    phases = [k for k in dict.fromkeys([*a.phases, *b.phases]) if k != "total_ms"]
    return RunDiff(
        a=a, b=b,
        checkpoints={n: _delta(a.checkpoints.get(n), b.checkpoints.get(n)) for n in names},
        timings={"connect": _delta(a.connect_ms, b.connect_ms), "first_event": _delta(a.first_event_ms, b.first_event_ms),
                 "total": _delta(a.total_ms, b.total_ms)},
        phases={k.removesuffix("_ms"): _delta(a.phases.get(k), b.phases.get(k)) for k in phases},
        only_in_a={t: n for t, n in a.type_counts.items() if t not in b.type_counts},
        only_in_b={t: n for t, n in b.type_counts.items() if t not in a.type_counts},
        type_counts={t: (n, b.type_counts[t]) for t, n in a.type_counts.items() if t in b.type_counts and n != b.type_counts[t]},
        order=_order(a, b),
        violations_gone=[v for v in a.violations if (v[0], v[1]) not in keys_b],
        violations_new=[v for v in b.violations if (v[0], v[1]) not in keys_a],
        frames={k: (x, y) for k, x, y in zip(("received", "malformed", "unknown"), a.frames, b.frames)},
    )
