"""The golden-path contract (docs/protocol.md §5): feed Events, get a Verdict with named violations.

Incremental, so the dashboard can light checkpoints as events arrive and the headless commands
judge the same way. Times are monotonic seconds; offsets are measured from the moment the chat
message was sent (the golden path's clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wsdash.core.protocol import (
    AGENT_COMPLETED,
    AGENT_STARTED,
    AGENT_THINKING,
    ERROR_TYPES,
    GOLDEN,
    GOLDEN_EVENTS,
    TOOL_COMPLETED,
    TOOL_EXECUTING,
    Event,
)

MISSING = "missing"
OUT_OF_ORDER = "out_of_order"
UNPAIRED_TOOL_COMPLETED = "unpaired_tool_completed"
UNCLOSED_TOOL = "unclosed_tool"
NO_PROGRESS = "no_progress"
FIRST_EVENT_LATE = "first_event_late"
RUN_TOO_LONG = "run_too_long"
GAP_TOO_LONG = "gap_too_long"
ERROR_FRAME = "error_frame"
TIMEOUT = "timeout"
CONNECT_SLOW = "connect_slow"

_PROGRESS = frozenset({AGENT_THINKING, TOOL_EXECUTING, TOOL_COMPLETED})


@dataclass(frozen=True)
class Budgets:
    """Timing budgets in seconds; defaults from the backend's own tests (docs/protocol.md §5.5)."""

    connect_s: float = 2.0
    first_event_s: float = 5.0
    run_s: float = 60.0
    gap_s: float | None = None  # opt-in: stricter suites demand 0.1 s between events


@dataclass(frozen=True)
class Violation:
    code: str
    event: str | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "event": self.event, "detail": self.detail}


@dataclass
class Verdict:
    ok: bool
    completed: bool
    violations: list[Violation]
    checkpoints: dict[str, float | None]  # first arrival offset (s) of each golden event
    connect_s: float | None
    first_event_s: float | None
    total_s: float | None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _match(tools: list[tuple[str | None, str | None]], key: tuple[str | None, str | None]) -> int | None:
    """Index of the tool that `key` pairs with: by execution_id, else by tool name (§5.3)."""
    exec_id, name = key
    for i, (other_id, other_name) in enumerate(tools):
        if (exec_id is not None and other_id == exec_id) or (
            (exec_id is None or other_id is None) and name is not None and other_name == name
        ):
            return i
    return None


@dataclass
class Contract:
    """Judges one run. Call `connected`, `message_sent`, `feed` per event, then `finish`."""

    budgets: Budgets = field(default_factory=Budgets)
    connect_s: float | None = None
    sent_at: float | None = None
    checkpoints: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(GOLDEN_EVENTS))
    violations: list[Violation] = field(default_factory=list)
    depth: int = 0
    started: bool = False
    completed_at: float | None = None
    first_at: float | None = None
    first_type: str | None = None
    last_at: float | None = None
    last_type: str | None = None
    progress_in_run: bool = False
    open_tools: list[tuple[str | None, str | None]] = field(default_factory=list)
    # tool_completed frames that matched no open call: their tool_executing may still come (§5.3)
    held_completions: list[tuple[str | None, str | None]] = field(default_factory=list)
    seen_types: set[str] = field(default_factory=set)
    outer_agent: str | None = None  # the outermost agent's name, for `missing agent_completed`
    agents_completed: int = 0  # inner and outermost agent_completed frames within the run

    def connected(self, seconds: float) -> None:
        self.connect_s = seconds
        if seconds > self.budgets.connect_s:
            self._add(CONNECT_SLOW, None, f"connecting took {_ms(seconds)}, over the {_ms(self.budgets.connect_s)} budget")

    def message_sent(self, at: float) -> None:
        self.sent_at = at

    @property
    def done(self) -> bool:
        """The outermost agent_completed has arrived."""
        return self.completed_at is not None

    def offset(self, at: float) -> float:
        return at - self.sent_at if self.sent_at is not None else 0.0

    def _add(self, code: str, event: str | None, detail: str) -> Violation:
        v = Violation(code, event, detail)
        self.violations.append(v)
        return v

    def feed(self, event: Event) -> list[Violation]:
        """Judge one event as it arrives; returns the violations it caused (often none)."""
        # Called for every frame: attributes are read once into locals, Event properties inlined.
        t = event.type
        if t == AGENT_THINKING and self.completed_at is None and self.budgets.gap_s is None and self.checkpoints[t] is not None and event.kind == GOLDEN:
            # A burst's common case, first: one more agent_thinking in a run that already had one,
            # no gap budget. All the general path below would do is note that progress was made.
            if self.started:
                self.progress_in_run = True
            self.last_at = event.received
            self.last_type = t
            return []
        violations = self.violations
        before = len(violations)
        if t in ERROR_TYPES:  # event.is_error
            code = event.error_code()
            text = event.summary(120)
            self._add(ERROR_FRAME, t, f"the server sent {t}" + (f" ({code})" if code and code not in text else "") + f": {text}")
        if event.kind != GOLDEN:  # not event.is_golden
            return violations[before:]
        at = event.received
        sent_at = self.sent_at
        off = at - sent_at if sent_at is not None else 0.0  # self.offset(at)
        if self.completed_at is not None:  # self.done
            self._add(OUT_OF_ORDER, t, f"{t} arrived at +{_ms(off)}, after the run had completed at +{_ms(self.offset(self.completed_at))}")
            self.seen_types.add(t)  # it came, late: `missing` must not say otherwise
            if self.checkpoints[t] is None:
                self.checkpoints[t] = off
            return violations[before:]
        if self.first_at is None:
            self.first_at = at
            self.first_type = t
            if off > self.budgets.first_event_s:
                self._add(FIRST_EVENT_LATE, t, f"the first agent event ({t}) came {_ms(off)} after the message, over the {_ms(self.budgets.first_event_s)} budget")
        gap_s = self.budgets.gap_s
        if gap_s is not None and self.last_at is not None and at - self.last_at > gap_s:
            self._add(GAP_TOO_LONG, t, f"{_ms(at - self.last_at)} passed between {self.last_type} and {t}, over the {_ms(gap_s)} limit")
        checkpoints = self.checkpoints
        if checkpoints[t] is None and t != AGENT_COMPLETED:  # agent_completed: the outermost one's, below
            checkpoints[t] = off
        self.seen_types.add(t)
        if t == AGENT_STARTED:
            if not self.started and self.first_type != AGENT_STARTED:
                self._add(OUT_OF_ORDER, self.first_type, f"{self.first_type} arrived before agent_started (which came at +{_ms(off)}): agent_started must be the first agent event")
            if self.depth == 0:
                self.outer_agent = event.agent_name
            self.started = True
            self.depth += 1
        elif t == AGENT_COMPLETED:
            self.agents_completed += 1
            self.depth = max(0, self.depth - 1)
            if self.depth == 0:
                self.completed_at = at
                checkpoints[AGENT_COMPLETED] = off  # an inner agent's completion is not the run's
                if self.held_completions and TOOL_EXECUTING in self.seen_types:
                    # the run is over: no tool_executing can pair them any more (a late one is out_of_order)
                    self.violations.extend(self._unpaired())
                    self.held_completions.clear()
                if not self.progress_in_run and self.started:
                    self._add(NO_PROGRESS, AGENT_COMPLETED, "the agent completed without any agent_thinking or tool event in between")
                if off > self.budgets.run_s:
                    self._add(RUN_TOO_LONG, AGENT_COMPLETED, f"the run took {_ms(off)}, over the {_ms(self.budgets.run_s)} budget")
        else:
            if self.started:
                self.progress_in_run = True
            if t == TOOL_EXECUTING:
                self._open_tool(event, off)
            elif t == TOOL_COMPLETED:
                self._close_tool(event)
        self.last_at = at
        self.last_type = t
        return violations[before:]

    def _open_tool(self, event: Event, off: float) -> None:
        key = (event.execution_id, event.tool_name)
        i = _match(self.held_completions, key)
        if i is None:
            self.open_tools.append(key)
            return
        del self.held_completions[i]  # its completion came first: out of order, not unpaired
        label = key[1] or key[0] or "a tool"
        self._add(OUT_OF_ORDER, TOOL_COMPLETED, f"tool_completed for {label} arrived before its tool_executing (+{_ms(off)})")

    def _close_tool(self, event: Event) -> None:
        key = (event.execution_id, event.tool_name)
        i = _match(self.open_tools, key)
        if i is not None:
            del self.open_tools[i]
            return
        # Held wherever it happens (first tool or tenth): its tool_executing may still come, which
        # makes it `out_of_order`; judged `unpaired_tool_completed` when the run ends without it.
        self.held_completions.append(key)

    def _unpaired(self) -> list[Violation]:
        """The held completions, judged at the end of the run: their tool_executing never came."""
        return [Violation(UNPAIRED_TOOL_COMPLETED, TOOL_COMPLETED,
                          f"tool_completed for {name or exec_id or 'a tool'} has no tool_executing to match")
                for exec_id, name in self.held_completions]

    def finish(self, at: float, *, ended_by: str | None = None) -> Verdict:
        """Close the run. `ended_by` says why it stopped early: 'timeout', 'closed', 'error',
        'interrupted' (Ctrl+C: the partial verdict names everything that never came)."""
        violations = list(self.violations)
        had_event = self.first_at is not None
        if not had_event and ended_by == "timeout":
            violations.append(Violation(TIMEOUT, None, f"no agent event arrived within {_ms(self.offset(at))} of sending the message"))
        elif had_event or ended_by in (None, "interrupted"):
            why = {
                "timeout": f" (nothing more arrived before the timeout, {_ms(self.offset(at))} after the message)",
                "closed": " (the connection closed before it arrived)",
                "error": " (the run ended with an error before it arrived)",
                "interrupted": " (the run was interrupted before it arrived)",
            }.get(ended_by or "", "")
            for name in GOLDEN_EVENTS:
                if name not in self.seen_types:
                    violations.append(Violation(MISSING, name, f"{name} never arrived{why}"))
            if not self.done and AGENT_COMPLETED in self.seen_types:
                # Only inner agents completed: the run never finished, whatever its event types say.
                outer = f" ({self.outer_agent})" if self.outer_agent else ""
                violations.append(Violation(MISSING, AGENT_COMPLETED,
                                            f"agent_completed never arrived for the outermost agent{outer}: only inner "
                                            f"agents completed ({self.agents_completed} agent_completed){why}"))
            if TOOL_EXECUTING in self.seen_types:
                violations.extend(self._unpaired())
            if self.done and self.open_tools and TOOL_COMPLETED in self.seen_types:
                labels = ", ".join(n or i or "?" for i, n in self.open_tools)
                violations.append(Violation(UNCLOSED_TOOL, TOOL_EXECUTING, f"tool {labels} started but never completed"))
        first = self.offset(self.first_at) if self.first_at is not None else None
        end = self.completed_at if self.completed_at is not None else at
        return Verdict(
            ok=not violations,
            completed=self.done,
            violations=violations,
            checkpoints=dict(self.checkpoints),
            connect_s=self.connect_s,
            first_event_s=first,
            total_s=self.offset(end) if self.sent_at is not None else None,
        )
