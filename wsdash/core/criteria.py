"""The test plan's success criteria, filled in with measured results: what `wsdash report` lays out
for stakeholders. Pure data in (the JSON documents of `check --json`, `golden-path --json` and
`tiers run --json`), rows out; no I/O, so a report from saved results judges exactly as a live one.

The plan's two tables:
- **Test Success Criteria** — each tier meets its pass-rate target with what actually ran (a tier
  whose tests were skipped validated nothing); all five critical events confirmed; the complete
  user flow validated (the golden-path contract holds).
- **Success Metrics** — total test time < 30 minutes; unit feedback < 5 minutes; first agent event
  and whole run within their budgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from wsdash.core.protocol import GOLDEN_EVENTS

TOTAL_TIME_LIMIT_S = 30 * 60  # "total test time < 30 minutes"
FEEDBACK_LIMIT_S = 5 * 60  # "unit feedback < 5 minutes"
NOT_MEASURED = None


@dataclass
class Criterion:
    name: str
    goal: str
    measured: str
    ok: bool | None  # None: not measured (a part was skipped or could not run) — never a pass

    def to_json(self) -> dict[str, Any]:
        return {"criterion": self.name, "goal": self.goal, "measured": self.measured, "ok": self.ok}


@dataclass
class Plan:
    criteria: list[Criterion] = field(default_factory=list)  # Test Success Criteria
    metrics: list[Criterion] = field(default_factory=list)  # Success Metrics

    @property
    def ok(self) -> bool:
        """Every row holds: a row not measured does not hold (nothing was shown to work)."""
        rows = self.criteria + self.metrics
        return bool(rows) and all(r.ok is True for r in rows)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "criteria": [c.to_json() for c in self.criteria],
                "metrics": [m.to_json() for m in self.metrics]}


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f} %"


def minutes(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s:.1f} s" if s < 90 else f"{s / 60:.1f} min"


def ran_and_skipped(tier: dict[str, Any]) -> tuple[int, int]:
    """What ran and what was skipped: the tier's own figures (`tiers run --json`), else its counts."""
    if tier.get("ran") is not None and tier.get("skipped") is not None:
        return int(tier["ran"]), int(tier["skipped"])
    counts = tier.get("counts") or {}
    skipped = int(counts.get("skipped", 0))
    ran = sum(int(v) for k, v in counts.items() if k != "skipped")
    return ran, skipped


def tier_criterion(tier: dict[str, Any]) -> Criterion:
    target = float(tier.get("target", 1.0))
    goal = f"≥ {pct(target)} pass" if target < 1 else "100 % pass"
    status = tier.get("status")
    ran, skipped = ran_and_skipped(tier)
    if status in ("blocked", "cancelled"):
        why = tier.get("message") or status or "not run"
        return Criterion(tier.get("title") or tier["name"], goal, f"not run — {why}", NOT_MEASURED)
    if tier.get("kind") == "command":  # an opaque command (a linter): its exit status is the result, no tests to count
        code = tier.get("exit_code")
        measured = f"exit {code}" if code is not None else "did not finish"
        if status != "passed" and tier.get("message"):
            measured += f" — {tier['message']}"
        return Criterion(tier.get("title") or tier["name"], "exit 0", measured, status == "passed")
    skip_note = f" · {ran} of {ran + skipped} ran, {skipped} skipped" if skipped else f" · {ran} ran"
    measured = f"{pct(tier.get('pass_rate'))}{skip_note}"
    if status != "passed" and tier.get("message"):
        measured += f" — {tier['message']}"
    # The tier's own verdict decides (it knows its skip limits, crashes and timeouts); a pass rate
    # over zero tests is not a pass.
    return Criterion(tier.get("title") or tier["name"], goal, measured, status == "passed" and ran > 0)


def build_plan(health: dict[str, Any] | None, run: dict[str, Any] | None, tiers: Sequence[dict[str, Any]] | None) -> Plan:
    plan = Plan()
    for tier in tiers or ():
        plan.criteria.append(tier_criterion(tier))
    if run is not None:
        lit = [e for e in GOLDEN_EVENTS if (run.get("checkpoints") or {}).get(e) is not None]
        plan.criteria.append(Criterion("All five critical events confirmed", "5 of 5", f"{len(lit)} of 5"
                                       + ("" if len(lit) == 5 else f" — missing {', '.join(e for e in GOLDEN_EVENTS if e not in lit)}"),
                                       len(lit) == 5))
        violations = [v.get("code") for v in run.get("violations") or []]
        error = run.get("error") or {}
        measured = "the contract holds" if run.get("ok") else (
            ", ".join(violations) if violations else f"{error.get('kind', 'error')}: {error.get('message', '')}")
        plan.criteria.append(Criterion("Complete user flow validated", "the golden-path contract holds", measured, bool(run.get("ok"))))
        timings = run.get("timings") or {}
        first, total = timings.get("first_event_ms"), timings.get("total_ms")
        budgets = run.get("budgets") or {}
        first_budget = float(budgets.get("first_event_s", 5.0))
        run_budget = float(budgets.get("run_s", 60.0))
        plan.metrics.append(Criterion("First agent event", f"≤ {first_budget:g} s",
                                      minutes(None if first is None else first / 1000),
                                      NOT_MEASURED if first is None else first / 1000 <= first_budget))
        plan.metrics.append(Criterion("Whole golden path", f"≤ {run_budget:g} s",
                                      minutes(None if total is None else total / 1000),
                                      NOT_MEASURED if total is None else total / 1000 <= run_budget))
    if tiers is not None:
        if not tiers:  # the tiers were asked for and none ran: nothing was shown to pass
            plan.criteria.insert(0, Criterion("Tiers", "every tier meets its target", "no tier ran", NOT_MEASURED))
        plan.metrics.append(total_time(tiers, run))
        plan.metrics.append(unit_feedback(tiers))
    if health is not None:
        plan.metrics.append(required_services(health))
    return plan


def _label(tier: dict[str, Any]) -> str:
    return str(tier.get("title") or tier["name"])


def timed(tier: dict[str, Any]) -> bool:
    """Whether a tier's duration is the time its suite takes: it ran to its end (passed or failed),
    something ran (an opaque command has no tests to count), and it says how long it took. An
    errored, timed-out, blocked or cancelled tier, or one where every test skipped, took some time
    but not the suite's: 1.6 s of a pytest that could not start is no feedback in 1.6 s."""
    if tier.get("status") not in ("passed", "failed") or tier.get("duration_s") is None:
        return False
    return tier.get("kind") == "command" or ran_and_skipped(tier)[0] > 0


def _untimed_why(tier: dict[str, Any]) -> str:
    status = tier.get("status")
    if status in ("blocked", "cancelled"):
        return f"not run ({status})"
    if tier.get("duration_s") is None:
        return "no duration in its results"
    if status not in ("passed", "failed"):
        return f"it ended in {status}, {ran_and_skipped(tier)[0]} ran"
    return "no test ran"


def total_time(tiers: Sequence[dict[str, Any]], run: dict[str, Any] | None) -> Criterion:
    """Total test time < 30 min: the tiers' times and the golden path's. A tier that did not run to
    its end leaves the total unknown — unless what did run is already over the limit."""
    name, goal = "Total test time", "< 30 min"
    if not tiers:
        return Criterion(name, goal, "no tier ran", NOT_MEASURED)
    total_s = sum(float(t["duration_s"]) for t in tiers if t.get("duration_s") is not None) + (
        float(((run or {}).get("timings") or {}).get("total_ms") or 0) / 1000)
    untimed = [_label(t) for t in tiers if not timed(t)]
    if total_s >= TOTAL_TIME_LIMIT_S:
        return Criterion(name, goal, minutes(total_s) + (" and more" if untimed else ""), False)
    if untimed:
        return Criterion(name, goal, f"not measured — {', '.join(untimed)} did not run to the end "
                                     f"({minutes(total_s)} so far)", NOT_MEASURED)
    return Criterion(name, goal, minutes(total_s), True)


def unit_feedback(tiers: Sequence[dict[str, Any]]) -> Criterion:
    """Unit feedback < 5 min: the `unit` tier's time (else the first tier's), if it ran to its end;
    a tier stopped past the limit (a timeout) is over it whatever else."""
    if not tiers:
        return Criterion("Unit feedback", "< 5 min", "no tier ran", NOT_MEASURED)
    unit = next((t for t in tiers if t.get("name") == "unit"), tiers[0])
    name, goal = f"Unit feedback ({_label(unit)})", "< 5 min"
    duration = unit.get("duration_s")
    if duration is not None and float(duration) >= FEEDBACK_LIMIT_S:
        return Criterion(name, goal, minutes(float(duration)), False)
    if not timed(unit):
        return Criterion(name, goal, f"not measured — {_untimed_why(unit)}", NOT_MEASURED)
    return Criterion(name, goal, minutes(float(duration)), True)


def required_services(health: dict[str, Any]) -> Criterion:
    """Required services healthy: every target the check marked required is up. A check of no
    service measured nothing; one that marks none required holds, and says so."""
    name, goal = "Required services healthy", "all up"
    targets = health.get("targets") or []
    if not targets:
        return Criterion(name, goal, "no service was checked", NOT_MEASURED)
    required = [t for t in targets if t.get("required")]
    down = [t["name"] for t in required if t.get("status") != "up"]
    if down:
        return Criterion(name, goal, f"down: {', '.join(down)}", False)
    if health.get("ok") is False:  # the check's own verdict disagrees (an edited file): never a pass
        return Criterion(name, goal, "the check did not pass, though no required service is down", False)
    if not required:
        return Criterion(name, goal, f"none required ({len(targets)} checked)", True)
    return Criterion(name, goal, "all up", True)
