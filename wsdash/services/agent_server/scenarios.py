"""Scenarios: the script of a run, and the faults the embedded server can inject.

A script is a list of steps: ("event", type, fields), ("raw", text|bytes), ("raw-text", bytes) (sent as a text frame
whatever the bytes: how a server with an encoding bug sends), ("sleep", s),
("close", code), ("drop",), ("stall",). The server plays it through an envelope.
"""

from __future__ import annotations

import uuid
from typing import Any

from wsdash.core.protocol import GOLDEN_EVENTS

Step = tuple[Any, ...]

SIMPLE = ("golden", "nested", "reorder", "duplicate", "unpaired-tool", "swapped-tool", "malformed", "bad-utf8", "stall",
          "unfinished", "drop", "auth-reject")
PARAMETRIC = ("missing:<event>", "slow-first:<seconds>", "close:<code>", "burst:<n>")
SENDABLE_CLOSE = lambda code: code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014) or 3000 <= code <= 4999  # noqa: E731


class ScenarioError(ValueError):
    pass


def validate(name: str) -> str:
    """Raise ScenarioError with the list of scenarios when `name` is not one."""
    head, _, arg = name.partition(":")
    if name in SIMPLE:
        return name
    try:
        if head == "missing" and arg in GOLDEN_EVENTS:
            return name
        if head == "slow-first" and float(arg) >= 0:
            return name
        if head == "close" and SENDABLE_CLOSE(int(arg)):
            return name
        if head == "burst" and int(arg) >= 0:
            return name
    except ValueError:
        pass
    raise ScenarioError(
        f"unknown scenario {name!r}: choose one of {', '.join(SIMPLE + PARAMETRIC)} "
        f"(events: {', '.join(GOLDEN_EVENTS)}; close codes a server may send: 1000–1003, 1007–1014, 3000–4999)"
    )


def golden_steps(message: str, user_id: str, agent: str = "supervisor_agent") -> list[Step]:
    run_id = f"run-{uuid.uuid4().hex[:10]}"
    thread_id = f"thread-{uuid.uuid4().hex[:8]}"
    exec_id = f"exec-{uuid.uuid4().hex[:8]}"
    ids = {"run_id": run_id, "thread_id": thread_id, "user_id": user_id, "agent_name": agent}
    return [
        ("event", "agent_started", {**ids, "task_description": message, "message": f"{agent} is on it"}),
        ("event", "agent_thinking", {**ids, "reasoning": "Reading the request and planning which data to pull.", "step_number": 1, "progress_percentage": 20}),
        ("event", "tool_executing", {**ids, "tool_name": "cost_analyzer", "execution_id": exec_id,
                                     "parameters": {"period": "month_to_date", "group_by": "model"}}),
        ("event", "tool_completed", {**ids, "tool_name": "cost_analyzer", "execution_id": exec_id, "success": True, "status": "success",
                                     "duration": 0.42, "execution_time_ms": 420,
                                     "results": {"total_usd": 1834.27, "top_model": "gpt-4o", "trend": "+12% vs last month"}}),
        ("event", "agent_thinking", {**ids, "reasoning": "Spend is up 12%, driven by gpt-4o; preparing recommendations.", "step_number": 2, "progress_percentage": 80}),
        ("event", "agent_completed", {**ids, "status": "completed", "execution_time_ms": 1250,
                                      "final_response": "Month-to-date AI spend is $1,834.27 (+12%). Most of it is gpt-4o; "
                                                        "routing summaries to a smaller model would save about $410."}),
    ]


def nested_steps(message: str, user_id: str) -> list[Step]:
    outer = golden_steps(message, user_id, "supervisor_agent")
    inner = golden_steps(message, user_id, "triage_agent")
    # supervisor starts and thinks, the triage sub-agent runs its tool, then the supervisor finishes
    return outer[:2] + [inner[0]] + inner[2:4] + [inner[5]] + outer[4:]


def script(name: str, message: str, user_id: str) -> list[Step]:
    head, _, arg = name.partition(":")
    steps = golden_steps(message, user_id)
    if name == "golden":
        return steps
    if name == "nested":
        return nested_steps(message, user_id)
    if head == "missing":
        return [s for s in steps if s[1] != arg]
    if name == "reorder":  # the first thinking arrives before agent_started
        return [steps[1], steps[0]] + steps[2:]
    if name == "duplicate":  # a second, identical agent_completed after the first
        return steps + [steps[-1]]
    if name == "unpaired-tool":  # a completion for a tool that never started
        ghost = dict(steps[3][2], tool_name="web_search", execution_id="exec-ghost")
        return steps[:4] + [("event", "tool_completed", ghost)] + steps[4:]
    if name == "swapped-tool":  # a second tool call whose completion arrives before its start
        second = {**steps[2][2], "tool_name": "report_builder", "execution_id": "exec-second"}
        done = {**steps[3][2], "tool_name": "report_builder", "execution_id": "exec-second"}
        return steps[:4] + [("event", "tool_completed", done), ("event", "tool_executing", second)] + steps[4:]
    if name == "malformed":
        bad: list[Step] = [
            ("raw", '{"type": "agent_thinking", "reasoning": '),  # truncated JSON
            ("raw", b"\x00\x01\x02binary"),
            ("raw", "[1, 2, 3]"),
            ("raw", '"just a string"'),
            ("raw", '{"type": "quantum_flux", "data": {"level": 9}}'),  # unknown type
        ]
        return steps[:1] + bad[:2] + steps[1:3] + bad[2:] + steps[3:]
    if name == "bad-utf8":  # a text frame in Latin-1, not UTF-8: the client must close with 1007
        return steps[:2] + [("raw-text", b'{"type": "agent_thinking", "data": {"reasoning": "caf\xe9 costs"}}')] + steps[2:]
    if head == "slow-first":
        return [("sleep", float(arg))] + steps
    if name == "stall":
        return steps[:-1] + [("stall",)]
    if name == "unfinished":  # the sub-agent completes, the outermost agent never does
        return nested_steps(message, user_id)[:-1] + [("stall",)]
    if name == "drop":
        return steps[:2] + [("drop",)]
    if head == "close":
        return steps[:2] + [("close", int(arg))]
    if head == "burst":
        thinking = steps[1]
        return steps[:1] + [("burst", int(arg), thinking[2])] + steps[2:4] + steps[5:]
    raise ScenarioError(f"unknown scenario {name!r}")
