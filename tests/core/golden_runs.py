"""Runs in golden order, generated (hypothesis): any number of tool calls (nested or interleaved,
with or without execution ids), sub-agents nested to any depth, agent_thinking anywhere. The
properties of the contract (test_contract_properties.py) are checked on these."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from wsdash.core.protocol import AGENT_COMPLETED, AGENT_STARTED, AGENT_THINKING, TOOL_COMPLETED, TOOL_EXECUTING

Ev = tuple[str, dict[str, Any]]  # (golden type, fields) before an envelope shapes it

PROGRESS = (AGENT_THINKING, TOOL_EXECUTING, TOOL_COMPLETED)
TOOL_NAMES = ("cost_analyzer", "search", "report_builder")  # shared by calls that carry an execution_id
AGENTS = ("supervisor_agent", "triage_agent", "data_agent", "optimizer")
# scripts/mutation.py runs these once per mutant and scales the examples down (a wrong judge fails early).
SCALE = float(os.environ.get("WSDASH_EXAMPLES_SCALE", "1"))


def examples(n: int) -> int:
    return max(10, round(n * SCALE))


@dataclass
class Ids:
    """Fresh tool calls: unique execution ids, or (without an id) unique names, so pairing is unambiguous."""

    n: int = 0
    calls: list[tuple[Ev, Ev]] = field(default_factory=list)

    def call(self, draw: Any) -> tuple[Ev, Ev]:
        self.n += 1
        if draw(st.booleans()):
            f = {"execution_id": f"exec-{self.n}", "tool_name": draw(st.sampled_from(TOOL_NAMES))}
        else:
            f = {"tool_name": f"tool_{self.n}"}
        pair = ((TOOL_EXECUTING, dict(f)), (TOOL_COMPLETED, {**f, "status": "success"}))
        self.calls.append(pair)
        return pair


def thinking(draw: Any) -> Ev:
    return (AGENT_THINKING, {"reasoning": "step", "step_number": draw(st.integers(1, 9))})


def agent_body(draw: Any, ids: Ids, depth: int) -> list[Ev]:
    """What happens inside one agent: thinking, tool calls (a completion anywhere after its start,
    so calls nest and interleave), sub-agents."""
    body: list[Ev] = []
    for _ in range(draw(st.integers(0, 4 if depth == 0 else 2))):
        kind = draw(st.sampled_from(("thinking", "tool", "agent") if depth < 2 else ("thinking", "tool")))
        if kind == "thinking":
            body.insert(draw(st.integers(0, len(body))), thinking(draw))
        elif kind == "tool":
            start, end = ids.call(draw)
            at = draw(st.integers(0, len(body)))
            body.insert(at, start)
            body.insert(draw(st.integers(at + 1, len(body))), end)
        else:
            body.extend(agent(draw, ids, depth + 1))
    return body


def agent(draw: Any, ids: Ids, depth: int) -> list[Ev]:
    name = {"agent_name": draw(st.sampled_from(AGENTS))}
    return [(AGENT_STARTED, name), *agent_body(draw, ids, depth), (AGENT_COMPLETED, {**name, "status": "completed"})]


@st.composite
def golden_runs(draw: Any, *, nested: bool | None = None) -> list[Ev]:
    """A run in golden order with all five events. `nested` False: no sub-agents; True: at least one."""
    ids = Ids()
    run = agent(draw, ids, 0 if nested is not False else 2)
    if nested:
        at = draw(st.integers(1, len(run) - 1))
        run[at:at] = agent(draw, ids, 1)
    inner = run[1:-1]
    if not any(t == AGENT_THINKING for t, _ in inner):
        inner.insert(draw(st.integers(0, len(inner))), thinking(draw))
    if not ids.calls:
        start, end = ids.call(draw)
        at = draw(st.integers(0, len(inner)))
        inner.insert(at, start)
        inner.insert(draw(st.integers(at + 1, len(inner))), end)
    return [run[0], *inner, run[-1]]


def calls_of(run: list[Ev]) -> list[tuple[int, int]]:
    """(index of tool_executing, index of its tool_completed) for every tool call of `run`."""
    out = []
    for i, (t, f) in enumerate(run):
        if t == TOOL_EXECUTING:
            j = next(j for j in range(i + 1, len(run)) if run[j][0] == TOOL_COMPLETED and run[j][1].get("tool_name") == f["tool_name"]
                     and run[j][1].get("execution_id") == f.get("execution_id"))
            out.append((i, j))
    return out
