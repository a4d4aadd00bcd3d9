"""What the golden-path runs already say about a target, joined to its probe.

The probe proves the upgrade and the token, not that the server can serve a run: a backend that
accepts the WebSocket and then closes every run with 1011 probes UP. The probe must not start an
agent run on the real backend (it costs money and pollutes the backend), so the runs that already
happened (the history, the dashboard's own) are read instead. When the newest runs of a target
that connected all ended at the server — closed, errored or went silent before agent_completed —
an UP result becomes DEGRADED: "accepts connections · last 3 runs closed 1011 (…)".

The rule, in one place:
- only runs from the last `RECENT_S` count (an old failure says nothing about now);
- runs that never connected (`no_run`) are passed over: the probe says whether it connects now;
- the streak is counted from the newest run back, and the first run the server finished (passed,
  or reached agent_completed with contract violations) ends it: one good run clears the card.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Mapping, Sequence

from wsdash.core.errors import CLOSE_CODE_MEANINGS, CLOSED, ClassifiedError
from wsdash.core.run_record import FAILED, NO_RUN, RunRecord, iso
from wsdash.services.health.model import DEGRADED, UP, CheckResult, ProbeResult

RECENT_S = 3600.0  # runs older than an hour say nothing about the target now
READ_LIMIT = 20  # the newest runs of a target read from the history: a streak longer than this is "20+"
FACT = "recent_runs"  # the key in ProbeResult.facts (and `check --json`)


@dataclass(frozen=True)
class RunEvidence:
    """The newest runs of a target that the server ended before agent_completed."""

    target: str
    failing: int  # the streak, newest back
    cause: str  # "closed 1011 (server error (or service not ready))", or mixed causes counted
    close_code: int | None  # when every run in the streak closed with the same code
    last_at: float  # wall clock of the newest failing run
    hint: str  # the newest run's own hint (it knows what that close means)
    kind: str  # the newest run's error kind (closed, timeout, …)
    capped: bool = False  # the streak reached READ_LIMIT: at least this many
    history_name: str = ""  # the name the history keeps them under ("" when they are not kept)

    def sentence(self) -> str:
        runs = "last run" if self.failing == 1 else f"last {self.failing}{'+' if self.capped else ''} runs"
        return f"{runs} {self.cause}"

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.sentence(), "failing_runs": self.failing, "at_least": self.capped, "cause": self.cause,
                "close_code": self.close_code, "last_at": iso(self.last_at), "window_s": RECENT_S}


def ended_by_server(rec: Any) -> bool:
    """A run that connected and did not reach agent_completed: closed, errored or went silent."""
    return rec.verdict == FAILED and not rec.completed


def _cause(rec: Any) -> str:
    if rec.close_code is not None:
        return f"closed {rec.close_code}: {CLOSE_CODE_MEANINGS.get(rec.close_code, 'unrecognised close code')}"
    if rec.error_kind == "timeout":
        return "timed out before agent_completed"
    if rec.error_kind:
        return f"ended before agent_completed ({rec.error_kind})"
    return "ended before agent_completed"


def evidence(target: str, records: Iterable[Any], now: float | None = None) -> RunEvidence | None:
    """`records`: the target's runs in any order (RunRecord or anything with its fields)."""
    now = time.time() if now is None else now
    recent = sorted((r for r in records if now - r.started_at <= RECENT_S), key=lambda r: r.started_at, reverse=True)
    streak: list[Any] = []
    for rec in recent:
        if rec.verdict == NO_RUN:
            continue
        if not ended_by_server(rec):
            break
        streak.append(rec)
    if not streak:
        return None
    causes = Counter(_cause(r) for r in streak)
    codes = {r.close_code for r in streak}
    if len(causes) == 1:
        cause = next(iter(causes))
    else:
        cause = "ended before agent_completed: " + "; ".join(f"{n} × {c}" for c, n in causes.most_common())
    newest = streak[0]
    return RunEvidence(target, len(streak), cause, codes.pop() if len(codes) == 1 else None, newest.started_at,
                       newest.error_hint or "", newest.error_kind or CLOSED, capped=len(streak) >= READ_LIMIT,
                       history_name=newest.target or "")


def apply(result: ProbeResult, ev: RunEvidence | None) -> ProbeResult:
    """The probe's result with what the runs say. Only a usable result changes: a DOWN one already
    says more than old runs can, and a skipped one was not probed."""
    if ev is None or result.status not in (UP, DEGRADED):
        return result
    said = f"accepts connections · {ev.sentence()}"
    where = f": `wsdash history --target {ev.history_name}` lists them" if ev.history_name else ""
    # A clock time, not "5s ago": the card keeps showing this hint while it ages.
    hint = f"{ev.hint + '; ' if ev.hint else ''}the newest at {time.strftime('%H:%M:%S', time.localtime(ev.last_at))}{where}"
    error = ClassifiedError(ev.kind, f"the {ev.sentence()}", hint, ev.close_code)
    check = CheckResult("runs", DEGRADED, None, error, said)
    detail = said if result.status == UP or not result.detail else f"{said} · {result.detail}"
    return replace(result, status=DEGRADED, detail=detail, hint=hint,
                   checks=[*result.checks, check], facts={**result.facts, FACT: ev.to_json()})


def failing_runs(result: ProbeResult) -> bool:
    """Whether `apply` found the target's runs failing (it accepts connections, but runs end)."""
    return FACT in result.facts


def runs_said(result: ProbeResult) -> str:
    """"accepts connections, but its last 3 runs closed 1011: …" — for sentences about a target."""
    return f"accepts connections, but its {result.facts[FACT]['summary']}" if failing_runs(result) else ""


def join(results: Sequence[ProbeResult], runs: Mapping[str, Iterable[Any]], now: float | None = None) -> list[ProbeResult]:
    """Every result with its target's runs (`runs`: name → records; missing names: no runs)."""
    return [apply(r, evidence(r.name, runs.get(r.name, ()), now)) for r in results]


def read_history(path: str | Path | None, names: Sequence[str], now: float | None = None) -> dict[str, list[RunRecord]]:
    """The recent runs of `names` from the history at `path` (None: the default file). A history
    that does not exist yet is not created: no runs. Raises core.history.HistoryError."""
    from wsdash.core.history import History, default_path

    file = Path(path) if path else default_path()
    if not file.exists():
        return {}
    since = (time.time() if now is None else now) - RECENT_S
    with History(file) as db:
        return {name: db.runs(name, since=since, limit=READ_LIMIT) for name in names}


def history_reader(path: str | Path | None, on_error: Callable[[str], None]) -> Callable[[Sequence[str]], Awaitable[dict[str, list[RunRecord]]]]:
    """A `check.RecentRuns` over the history file (read in a thread). A history that cannot be read
    is told to `on_error` and counts as no runs: the probes' answer still stands."""
    async def recent(names: Sequence[str]) -> dict[str, list[RunRecord]]:
        import asyncio

        from wsdash.core.history import HistoryError

        try:
            return await asyncio.to_thread(read_history, path, names)
        except HistoryError as exc:
            on_error(f"{exc} — the recent runs were not consulted")
            return {}
    return recent


def config_reader(config: Any, on_error: Callable[[str], None]) -> Callable[[Sequence[str]], Awaitable[dict[str, list[RunRecord]]]] | None:
    """The history reader of a loaded Config: None when `[history] enabled = false`."""
    return history_reader(config.history.path, on_error) if config.history.enabled else None
