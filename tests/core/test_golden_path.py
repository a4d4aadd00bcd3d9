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
    # The mismatching id arrives while tool t (e1) is still open: a name match would close it.
    seq = GOLDEN[:3] + [("tool_completed", 0.35, {"tool_name": "t", "execution_id": "e2"})] + GOLDEN[4:]
    v = judge(seq)
    assert codes(v) == [("unclosed_tool", "tool_executing"), ("unpaired_tool_completed", "tool_completed")]
    # both ids carried: e2 closes e2 although e1, of the same name, opened first
    two = GOLDEN[:2] + [("tool_executing", 0.3, {"tool_name": "t", "execution_id": "e1"}),
                        ("tool_executing", 0.31, {"tool_name": "t", "execution_id": "e2"}),
                        ("tool_completed", 0.32, {"tool_name": "t", "execution_id": "e2"})] + GOLDEN[4:]
    v = judge(two)
    assert codes(v) == [("unclosed_tool", "tool_executing")] and v.violations[0].detail == "tool t started but never completed"
    by_name = GOLDEN[:2] + [("tool_executing", 0.3, {"tool_name": "x"}), ("tool_completed", 0.4, {"tool_name": "x"})] + GOLDEN[4:]
    assert judge(by_name).ok
    one_id = GOLDEN[:2] + [("tool_executing", 0.3, {"tool_name": "x"}), ("tool_completed", 0.4, {"tool_name": "x", "execution_id": "e7"})] + GOLDEN[4:]
    assert judge(one_id).ok  # an id on one side only: the name pairs them
    other_name = GOLDEN[:2] + [("tool_executing", 0.3, {"tool_name": "x"}), ("tool_completed", 0.4, {"tool_name": "y"})] + GOLDEN[4:]
    assert codes(judge(other_name)) == [("unclosed_tool", "tool_executing"), ("unpaired_tool_completed", "tool_completed")]


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


def test_a_swapped_tool_is_out_of_order_whichever_tool_it_is() -> None:
    # docs/protocol.md §5.3: one rule for the first tool and the tenth
    second = [("tool_completed", 0.42, {"tool_name": "r", "execution_id": "e2"}),
              ("tool_executing", 0.44, {"tool_name": "r", "execution_id": "e2"})]
    v = judge(GOLDEN[:4] + second + GOLDEN[4:])
    assert codes(v) == [("out_of_order", "tool_completed")]
    assert v.violations[0].detail == "tool_completed for r arrived before its tool_executing (+440 ms)"


def test_an_unmatched_completion_is_judged_when_the_run_completes() -> None:
    c = Contract()
    c.message_sent(0.0)
    for t, at, *rest in GOLDEN[:4] + [("tool_completed", 0.45, {"tool_name": "ghost"})]:
        assert c.feed(ev(t, at, **(rest[0] if rest else {}))) == []  # held: its tool_executing may still come
    found = c.feed(ev("agent_completed", 0.5))
    assert [(x.code, x.detail) for x in found] == [("unpaired_tool_completed", "tool_completed for ghost has no tool_executing to match")]
    assert codes(c.finish(0.6)) == [("unpaired_tool_completed", "tool_completed")]  # reported once


def test_a_tool_executing_after_the_run_does_not_pair_a_held_completion() -> None:
    seq = GOLDEN[:4] + [("tool_completed", 0.45, {"tool_name": "late", "execution_id": "e3"}), GOLDEN[4],
                        ("tool_executing", 0.6, {"tool_name": "late", "execution_id": "e3"})]
    assert codes(judge(seq)) == [("out_of_order", "tool_executing"), ("unpaired_tool_completed", "tool_completed")]


def test_only_an_inner_agent_completed_is_missing_the_outermost() -> None:
    seq = [("agent_started", 0.1, {"agent_name": "sup"}), ("agent_thinking", 0.2), ("agent_started", 0.3, {"agent_name": "triage"}),
           ("tool_executing", 0.4, {"tool_name": "t"}), ("tool_completed", 0.5, {"tool_name": "t"}),
           ("agent_completed", 0.6, {"agent_name": "triage"})]
    v = judge(seq, end=3.0, ended_by="timeout")
    assert not v.completed and codes(v) == [("missing", "agent_completed")]
    assert v.checkpoints["agent_completed"] is None  # no tick for a completion the run never had
    assert v.violations[0].detail == ("agent_completed never arrived for the outermost agent (sup): only inner agents completed "
                                      "(1 agent_completed) (nothing more arrived before the timeout, 3000 ms after the message)")
    assert not judge(seq[:-1] + [("agent_completed", 0.6), ("agent_completed", 0.7)]).violations


# ---- every sentence the verdict says, exactly (docs/protocol.md §5; scripts/mutation.py) ---------------

def details(verdict):
    return [(v.code, v.event, v.detail) for v in verdict.violations]


def test_details_of_order_and_budgets() -> None:
    v = judge([("agent_thinking", 0.1), ("agent_started", 0.2)] + GOLDEN[2:], Budgets(first_event_s=0.05, run_s=0.25, gap_s=0.15))
    assert details(v) == [
        ("first_event_late", "agent_thinking", "the first agent event (agent_thinking) came 100 ms after the message, over the 50 ms budget"),
        ("out_of_order", "agent_thinking", "agent_thinking arrived before agent_started (which came at +200 ms): agent_started must be the first agent event"),
        ("run_too_long", "agent_completed", "the run took 500 ms, over the 250 ms budget"),
    ]
    v = judge(GOLDEN[:2] + [(t, at + 1, *r) for t, at, *r in GOLDEN[2:]] + [("agent_thinking", 1.75)], Budgets(gap_s=0.15))
    assert details(v) == [
        ("gap_too_long", "tool_executing", "1100 ms passed between agent_thinking and tool_executing, over the 150 ms limit"),
        ("out_of_order", "agent_thinking", "agent_thinking arrived at +1750 ms, after the run had completed at +1500 ms"),
    ]
    assert details(judge([("agent_started", 0.1), ("agent_completed", 0.2)]))[0] == (
        "no_progress", "agent_completed", "the agent completed without any agent_thinking or tool event in between")


def test_budgets_are_limits_not_targets() -> None:
    # exactly on a budget is within it (binary-exact times, so no rounding decides)
    on = [("agent_started", 0.25), ("agent_thinking", 0.5), ("tool_executing", 0.75, {"tool_name": "t"}),
          ("tool_completed", 1.0, {"tool_name": "t"}), ("agent_completed", 1.25)]
    assert judge(on, Budgets(first_event_s=0.25, run_s=1.25, gap_s=0.25)).ok
    assert codes(judge(on, Budgets(first_event_s=0.125, run_s=1.0, gap_s=0.125))) == [
        ("first_event_late", "agent_started"), ("gap_too_long", "agent_completed"), ("gap_too_long", "agent_thinking"),
        ("gap_too_long", "tool_completed"), ("gap_too_long", "tool_executing"), ("run_too_long", "agent_completed")]
    c = Contract(Budgets(connect_s=0.5))
    c.connected(0.5)
    assert c.violations == [] and c.connect_s == 0.5
    c.connected(0.75)
    assert details(c) == [("connect_slow", None, "connecting took 750 ms, over the 500 ms budget")]
    assert c.finish(1.0).connect_s == 0.75


def test_details_of_run_endings() -> None:
    assert details(judge([], end=3.0, ended_by="timeout")) == [("timeout", None, "no agent event arrived within 3000 ms of sending the message")]
    assert details(judge([], end=3.0, ended_by="closed")) == []  # no run: the error says why (§5.9)
    assert details(judge([], end=3.0)) == [(  "missing", e, f"{e} never arrived") for e in
                                           ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")]
    for ended_by, why in [("timeout", " (nothing more arrived before the timeout, 3000 ms after the message)"),
                          ("closed", " (the connection closed before it arrived)"),
                          ("error", " (the run ended with an error before it arrived)"), (None, "")]:
        assert details(judge(GOLDEN[:4], end=3.0, ended_by=ended_by)) == [("missing", "agent_completed", f"agent_completed never arrived{why}")]
    two_inner = [("agent_started", 0.1, {"agent_name": "sup"}), ("agent_started", 0.11), ("agent_completed", 0.12),
                 ("agent_started", 0.13)] + GOLDEN[1:]
    assert details(judge(two_inner, ended_by="timeout", end=1.0))[0][2] == (
        "agent_completed never arrived for the outermost agent (sup): only inner agents completed (2 agent_completed) "
        "(nothing more arrived before the timeout, 1000 ms after the message)")
    unnamed = [("agent_started", 0.1), ("agent_thinking", 0.15), ("agent_started", 0.2)] + GOLDEN[2:]
    assert details(judge(unnamed, ended_by="closed")) == [
        ("missing", "agent_completed", "agent_completed never arrived for the outermost agent: only inner agents completed "
                                       "(1 agent_completed) (the connection closed before it arrived)")]


def test_details_of_tool_pairing() -> None:
    seq = GOLDEN[:2] + [("tool_completed", 0.25, {"execution_id": "e5"}), ("tool_executing", 0.3, {"execution_id": "e5"}),
                        ("tool_completed", 0.32, {"tool_name": "t", "execution_id": "e6"}), ("tool_completed", 0.33, {}),
                        ("tool_completed", 0.34, {"execution_id": "e8"}),
                        ("tool_executing", 0.35, {"execution_id": "e9"}), ("tool_executing", 0.36, {"tool_name": "slow"}),
                        ("tool_executing", 0.37, {})] + GOLDEN[4:]
    assert details(judge(seq)) == [
        ("out_of_order", "tool_completed", "tool_completed for e5 arrived before its tool_executing (+300 ms)"),
        ("unpaired_tool_completed", "tool_completed", "tool_completed for t has no tool_executing to match"),
        ("unpaired_tool_completed", "tool_completed", "tool_completed for a tool has no tool_executing to match"),
        ("unpaired_tool_completed", "tool_completed", "tool_completed for e8 has no tool_executing to match"),
        ("unclosed_tool", "tool_executing", "tool e9, slow, ? started but never completed"),
    ]
    nameless = GOLDEN[:2] + [("tool_completed", 0.25, {}), ("tool_executing", 0.3, {})] + GOLDEN[4:]
    assert codes(judge(nameless)) == [("unclosed_tool", "tool_executing"), ("unpaired_tool_completed", "tool_completed")]  # nothing to pair by
    empty = GOLDEN[:2] + [("tool_completed", 0.25, {"tool_name": ""}), ("tool_executing", 0.3, {"tool_name": ""})] + GOLDEN[4:]
    assert details(judge(empty)) == [("out_of_order", "tool_completed", "tool_completed for a tool arrived before its tool_executing (+300 ms)")]
    named = GOLDEN[:2] + [("tool_completed", 0.25, {"tool_name": "n"}), ("tool_executing", 0.3, {"tool_name": "n"})] + GOLDEN[4:]
    assert details(judge(named)) == [("out_of_order", "tool_completed", "tool_completed for n arrived before its tool_executing (+300 ms)")]
    # a completion pairs with the earliest matching open call, once
    twice = GOLDEN[:2] + [("tool_executing", 0.3, {"tool_name": "t"}), ("tool_executing", 0.31, {"tool_name": "t"}),
                          ("tool_completed", 0.32, {"tool_name": "t"}), ("tool_completed", 0.33, {"tool_name": "t"}),
                          ("tool_completed", 0.34, {"tool_name": "t"})] + GOLDEN[4:]
    assert codes(judge(twice)) == [("unpaired_tool_completed", "tool_completed")]


def test_no_unpaired_without_any_tool_executing_and_no_unclosed_without_any_completion() -> None:
    only_done = GOLDEN[:2] + [("tool_completed", 0.3, {"tool_name": "t"})] + GOLDEN[4:]
    assert codes(judge(only_done)) == [("missing", "tool_executing")]
    assert codes(judge(only_done[:-1], end=2.0, ended_by="timeout")) == [("missing", "agent_completed"), ("missing", "tool_executing")]
    only_started = GOLDEN[:3] + GOLDEN[4:]
    assert codes(judge(only_started)) == [("missing", "tool_completed")]
    # a run that never completed leaves its open tools to `missing agent_completed`
    assert codes(judge(GOLDEN[:4] + [("tool_executing", 0.45, {"tool_name": "x"})], end=2.0, ended_by="timeout")) == [("missing", "agent_completed")]


def test_error_frame_details() -> None:
    seq = GOLDEN[:1] + [("error_message", 0.15, {"error_code": "SERVICE_INIT_FAILED", "error_message": "agent service not ready"}),
                        ("error", 0.16, {"code": "X" * 130})] + GOLDEN[1:]
    assert details(judge(seq)) == [
        ("error_frame", "error_message", "the server sent error_message: SERVICE_INIT_FAILED: agent service not ready"),
        ("error_frame", "error", f"the server sent error ({'X' * 130}): {'X' * 119}…"),  # the cut summary lost the code
    ]


def test_the_verdict_is_a_snapshot_with_its_times() -> None:
    c = Contract()
    c.feed(ev("agent_started", 5.0))  # no message sent: offsets count from zero
    v = c.finish(6.0)
    assert v.first_event_s == 0.0 and v.total_s is None and v.connect_s is None and v.checkpoints["agent_started"] == 0.0
    c = Contract()
    c.message_sent(10.0)
    for t, at, *rest in GOLDEN:
        c.feed(ev(t, 10.0 + at, **(rest[0] if rest else {})))
    v = c.finish(20.0)
    assert v.first_event_s == pytest.approx(0.1) and v.total_s == pytest.approx(0.5)  # to the outermost completion, not the end
    assert v.checkpoints == pytest.approx({"agent_started": 0.1, "agent_thinking": 0.2, "tool_executing": 0.3, "tool_completed": 0.4, "agent_completed": 0.5})
    c.feed(ev("agent_thinking", 10.9))
    assert v.checkpoints["agent_thinking"] == pytest.approx(0.2) and len(v.violations) == 0  # later events do not change it
    unfinished = judge(GOLDEN[:4], end=3.0, ended_by="timeout")
    assert unfinished.total_s == pytest.approx(3.0) and not unfinished.completed and not unfinished.ok
    late_first = judge([("agent_completed", 0.1), ("agent_thinking", 0.3)])
    assert late_first.checkpoints["agent_thinking"] == pytest.approx(0.3)  # a late event is recorded where it came


def test_violation_json() -> None:
    from wsdash.core.contract import Violation

    assert Violation("missing", "agent_started", "d").to_json() == {"code": "missing", "event": "agent_started", "detail": "d"}


def test_feed_returns_only_what_this_event_caused() -> None:
    c = Contract(Budgets(gap_s=0.05))
    c.message_sent(0.0)
    assert c.feed(ev("agent_thinking", 0.1)) == []
    assert [v.code for v in c.feed(ev("agent_started", 0.2))] == ["gap_too_long", "out_of_order"]
    assert c.feed(ev("heartbeat", 0.9)) == [] and c.feed(parse_frame("[1]", 0.9)) == []
    assert [v.code for v in c.feed(ev("error", 0.95, message="x"))] == ["error_frame"]
    assert len(c.violations) == 3
