"""The events a run keeps for its result, bounded whatever the run's length.

A run of a million frames is judged over every one of them (the contract keeps counters and the
checkpoints), but its result lists only what a person reads: every milestone (agent_started,
tool_executing, tool_completed, agent_completed, error frames), the first event of every type,
the first `keep` other events and the last `keep`, with counts of what was left out. Runs with
fewer than 2 × `keep` other events keep every one. The one rule for headless runs (`golden-path`,
`replay`) and the dashboard's live runs alike.

Memory is flat: the head and the milestones stop growing at their caps, and the tail is a ring.
A `sink` sees every row as it arrives (`golden-path --json --all-events` spools them to disk).
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any, Callable

from wsdash.core.protocol import AGENT_COMPLETED, AGENT_STARTED, ERROR_TYPES, TOOL_COMPLETED, TOOL_EXECUTING, Event

KEEP_OTHERS = 1000  # first and last N events that are not milestones
MAX_MILESTONES = 10_000  # a server that sends nothing but tool pairs or errors is bounded too
MILESTONES = frozenset({AGENT_STARTED, TOOL_EXECUTING, TOOL_COMPLETED, AGENT_COMPLETED}) | ERROR_TYPES

# (type, offset s from the message or None, agent_name, tool_name, raw_type, kind, seq). `seq` is
# the event's number among the frames the run received (1-based): where it jumps, rows were left out.
EventRow = tuple[str, "float | None", "str | None", "str | None", "str | None", str, int]
RowSink = Callable[[EventRow], None]


def row_of(event: Event, offset: float | None, seq: int) -> EventRow:
    return (event.type, offset, event.agent_name, event.tool_name, event.raw_type, event.kind, seq)


def row_json(row: EventRow) -> dict[str, Any]:
    """One row as `--json` prints it."""
    type_, offset, agent, tool, raw_type, kind, seq = row
    out: dict[str, Any] = {"seq": seq, "type": type_, "offset_ms": None if offset is None else round(offset * 1000, 1), "kind": kind}
    if agent is not None:
        out["agent_name"] = agent
    if tool is not None:
        out["tool_name"] = tool
    if raw_type is not None:
        out["raw_type"] = raw_type
    return out


class RunRows:
    """Called once per frame (`Run.received`): the common case — one more thinking frame in a
    burst — costs a row, a set lookup and a ring append."""

    def __init__(self, keep: int = KEEP_OTHERS, sink: RowSink | None = None) -> None:
        self.total = 0
        self._kept: list[EventRow] = []  # milestones, first of each type, and the head, in order
        self._seen: set[str] = set()
        self._milestones_left = MAX_MILESTONES
        self._head_left = keep
        self._tail: deque[EventRow] = deque(maxlen=keep)
        self._tailed: defaultdict[str, int] = defaultdict(int)  # by type, every event that went to the tail
        self._sink = sink

    def add(self, event: Event, offset: float | None) -> None:
        self.total = seq = self.total + 1
        t = event.type
        row = row_of(event, offset, seq)
        if self._sink is not None:
            self._sink(row)
        if (t in MILESTONES or t not in self._seen) and self._milestones_left:
            self._milestones_left -= 1
            self._seen.add(t)
            self._kept.append(row)
        elif self._head_left:
            self._head_left -= 1
            self._kept.append(row)
        else:
            # Rows, not Events: a ring of Events would keep their frames alive, a megabyte that
            # falls out of the CPU's cache and costs more per frame than building the row.
            self._tail.append(row)
            self._tailed[t] += 1

    def rows(self) -> list[EventRow]:
        """What is kept, in arrival order."""
        if not self._tail:
            return list(self._kept)
        return sorted(self._kept + list(self._tail), key=lambda row: row[6])

    def omitted(self) -> dict[str, int]:
        """How many events of each type were left out (none: an empty dict)."""
        left = dict(self._tailed)
        for row in self._tail:
            left[row[0]] -= 1
        return {t: n for t, n in sorted(left.items()) if n}
