"""The contract on hand-made event sequences: each rule names exactly what broke."""

from __future__ import annotations

import json

import pytest

from wsdash.core.contract import Budgets, Contract
from wsdash.core.protocol import parse_frame


def ev(type_: str, at: float, **fields):
    return parse_frame(json.dumps({"type": type_, **fields}), at)


def judge(seq, budgets=Budgets(), end=None, ended_by=None):
    c = Contract(budgets)
    c.connected(0.01)
    c.message_sent(0.0)
    for type_, at, *rest in seq:
        c.feed(ev(type_, at, **(rest[0] if rest else {})))
    return c.finish(end if end is not None else (seq[-1][1] if seq else 1.0), ended_by=ended_by)


GOLDEN = [("agent_started", 0.1), ("agent_thinking", 0.2), ("tool_executing", 0.3, {"tool_name": "t", "execution_id": "e1"}),
          ("tool_completed", 0.4, {"tool_name": "t", "execution_id": "e1"}), ("agent_completed", 0.5)]


def codes(verdict):
    return sorted((v.code, v.event) for v in verdict.violations)


def test_golden_passes_with_offsets() -> None:
    v = judge(GOLDEN)
    assert v.ok and v.completed and codes(v) == []
    assert v.checkpoints["agent_started"] == pytest.approx(0.1)
    assert v.first_event_s == pytest.approx(0.1) and v.total_s == pytest.approx(0.5)


def test_missing_event() -> None:
    assert codes(judge([e for e in GOLDEN if e[0] != "agent_thinking"])) == [("missing", "agent_thinking")]


def test_out_of_order_start() -> None:
    seq = [GOLDEN[1], GOLDEN[0]] + GOLDEN[2:]
    assert codes(judge(seq)) == [("out_of_order", "agent_thinking")]


def test_event_after_completion_is_out_of_order() -> None:
    v = judge(GOLDEN + [("agent_thinking", 0.6)])
    assert codes(v) == [("out_of_order", "agent_thinking")]
    assert "after the run had completed" in v.violations[0].detail


def test_nested_agents_judged_on_the_outermost() -> None:
    seq = [("agent_started", 0.1, {"agent_name": "sup"}), ("agent_thinking", 0.2), ("agent_started", 0.3, {"agent_name": "triage"}),
           ("tool_executing", 0.4, {"tool_name": "t"}), ("tool_completed", 0.5, {"tool_name": "t"}),
           ("agent_completed", 0.6, {"agent_name": "triage"}), ("agent_thinking", 0.7), ("agent_completed", 0.8, {"agent_name": "sup"})]
    v = judge(seq)
    assert v.ok and v.total_s == pytest.approx(0.8)


def test_unpaired_tool_completed_matches_by_execution_id_then_name() -> None:
    seq = GOLDEN[:4] + [("tool_completed", 0.45, {"tool_name": "t", "execution_id": "e2"})] + GOLDEN[4:]
    assert codes(judge(seq)) == [("unpaired_tool_completed", "tool_completed")]
    by_name = GOLDEN[:2] + [("tool_executing", 0.3, {"tool_name": "x"}), ("tool_completed", 0.4, {"tool_name": "x"})] + GOLDEN[4:]
    assert judge(by_name).ok


def test_unclosed_tool() -> None:
    seq = GOLDEN[:4] + [("tool_executing", 0.45, {"tool_name": "slow", "execution_id": "e9"})] + GOLDEN[4:]
    v = judge(seq)
    assert codes(v) == [("unclosed_tool", "tool_executing")] and "slow" in v.violations[0].detail


def test_no_progress() -> None:
    v = judge([("agent_started", 0.1), ("agent_completed", 0.2), ("agent_thinking", 0.3),
               ("tool_executing", 0.35, {"tool_name": "t"}), ("tool_completed", 0.36, {"tool_name": "t"})])
    assert ("no_progress", "agent_completed") in codes(v)


def test_budgets() -> None:
    late = [(t, at + 6.0, *rest) for t, at, *rest in GOLDEN]
    assert codes(judge(late)) == [("first_event_late", "agent_started")]
    assert codes(judge(GOLDEN, Budgets(run_s=0.3))) == [("run_too_long", "agent_completed")]
    v = judge(GOLDEN[:2] + [(t, at + 1, *r) for t, at, *r in GOLDEN[2:]], Budgets(gap_s=0.15))
    assert codes(v) == [("gap_too_long", "tool_executing")]
    assert judge(GOLDEN[:2] + [(t, at + 1, *r) for t, at, *r in GOLDEN[2:]]).ok  # gap is opt-in


def test_slow_connect_is_named() -> None:
    c = Contract(Budgets(connect_s=0.5))
    c.connected(0.9)
    assert [v.code for v in c.violations] == ["connect_slow"]


def test_error_frames_are_violations() -> None:
    seq = GOLDEN[:2] + [("agent_error", 0.25, {"message": "boom"})] + GOLDEN[2:]
    v = judge(seq)
    assert codes(v) == [("error_frame", "agent_error")] and "boom" in v.violations[0].detail


def test_timeout_without_any_agent_event() -> None:
    v = judge([], end=3.0, ended_by="timeout")
    assert codes(v) == [("timeout", None)]


def test_partial_run_names_what_never_came() -> None:
    v = judge(GOLDEN[:4], end=3.0, ended_by="timeout")
    assert codes(v) == [("missing", "agent_completed")] and "timeout" in v.violations[0].detail
    assert not v.completed


def test_violations_are_reported_live() -> None:
    c = Contract()
    c.message_sent(0.0)
    assert c.feed(ev("agent_thinking", 0.1)) == []
    found = c.feed(ev("agent_started", 0.2))
    assert [v.code for v in found] == ["out_of_order"]


def test_completion_before_start_is_out_of_order_not_missing() -> None:
    v = judge([("agent_completed", 0.1), ("agent_started", 0.2), ("agent_thinking", 0.3),
               ("tool_executing", 0.4, {"tool_name": "t"}), ("tool_completed", 0.5, {"tool_name": "t"})])
    assert all(x.code == "out_of_order" for x in v.violations) and len(v.violations) == 4
    assert v.checkpoints["agent_started"] is not None


def test_tool_completed_before_its_executing_is_out_of_order() -> None:
    seq = GOLDEN[:2] + [("tool_completed", 0.3, {"tool_name": "t", "execution_id": "e1"}),
                        ("tool_executing", 0.4, {"tool_name": "t", "execution_id": "e1"})] + GOLDEN[4:]
    v = judge(seq)
    assert codes(v) == [("out_of_order", "tool_completed")] and "before its tool_executing" in v.violations[0].detail


def test_an_early_completion_never_matched_is_unpaired() -> None:
    seq = GOLDEN[:2] + [("tool_completed", 0.3, {"tool_name": "ghost"})] + GOLDEN[2:]
    assert codes(judge(seq)) == [("unpaired_tool_completed", "tool_completed")]
