"""The contract as properties (docs/protocol.md §5.3 "one rule, wherever it happens"), on generated runs:

(a) every run in golden order passes (golden_runs.py generates them): any number of tools (nested
    or interleaved, with or without execution ids), sub-agents nested to any depth, agent_thinking
    anywhere, in any envelope;
(b) a fault gets the same codes wherever it is put: a swapped tool pair, a completion without a
    start, a missing event, events after the outermost agent_completed, no progress;
(c) a run is judged the same live (a `Run` fed frames), from its recording (`Recorder`, then
    `recording.replay`) and in the dashboard's replay (`ReplayPlayer`), and the same in every envelope;
(d) the normaliser never raises, on any bytes, any text, any JSON value.

A failing example is printed by hypothesis as the smallest run that breaks the rule.
"""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsdash.core.contract import Budgets, Contract
from wsdash.core.judged_run import Run, RunResult
from wsdash.core.protocol import (
    AGENT_COMPLETED, AGENT_STARTED, AGENT_THINKING, GOLDEN_EVENTS, MALFORMED, TOOL_COMPLETED, TOOL_EXECUTING,
    Event, auth_failure, normalise, parse_frame,
)
from wsdash.core.recording import Recorder, replay
from wsdash.services.agent_server.envelopes import ENVELOPES, FORMATTERS
from wsdash.services.session.replay import ReplayPlayer
from tests.core.golden_runs import PROGRESS, Ev, calls_of, examples, golden_runs

SETTINGS = settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- judging ------------------------------------------------------------------------------------

def frames(run: list[Ev], envelope: str) -> list[str]:
    return [json.dumps(FORMATTERS[envelope](t, f)) for t, f in run]


def judge(run: list[Ev], envelope: str = "flat", *, completed: bool = True) -> list[tuple[str, str | None]]:
    """The violations (code, event), sorted, of `run` fed to the contract one frame every 10 ms."""
    c = Contract(Budgets())
    c.connected(0.01)
    c.message_sent(0.0)
    for i, text in enumerate(frames(run, envelope), 1):
        c.feed(parse_frame(text, i * 0.01))
    verdict = c.finish((len(run) + 1) * 0.01, ended_by=None if completed else "timeout")
    assert verdict.ok == (not verdict.violations)
    return sorted((v.code, v.event) for v in verdict.violations)


envelopes = st.sampled_from(ENVELOPES)


# ---- (a) golden order passes ------------------------------------------------------------------

@SETTINGS
@given(golden_runs(), envelopes)
def test_any_run_in_golden_order_passes(run: list[Ev], envelope: str) -> None:
    assert judge(run, envelope) == []


@SETTINGS
@given(golden_runs(nested=True))
def test_nested_runs_complete_only_with_the_outermost_agent(run: list[Ev]) -> None:
    c = Contract()
    c.message_sent(0.0)
    done_at = []
    for i, text in enumerate(frames(run, "nested")):
        c.feed(parse_frame(text, i * 0.01))
        done_at.append(c.done)
    assert done_at == [False] * (len(run) - 1) + [True]
    assert c.checkpoints["agent_completed"] == (len(run) - 1) * 0.01  # the outermost completion's, not an inner one's


# ---- (b) a fault gets the same codes wherever it is ------------------------------------------

@SETTINGS
@given(golden_runs(), st.data())
def test_a_swapped_tool_pair_is_out_of_order_at_any_position(run: list[Ev], data: Any) -> None:
    i, j = data.draw(st.sampled_from(calls_of(run)), label="call")
    run[i], run[j] = run[j], run[i]  # its tool_completed now comes where its tool_executing was
    assert judge(run) == [("out_of_order", TOOL_COMPLETED)]


@SETTINGS
@given(golden_runs(), st.data())
def test_a_completion_without_a_start_is_unpaired_at_any_position(run: list[Ev], data: Any) -> None:
    at = data.draw(st.integers(1, len(run) - 1), label="position")
    ghost = data.draw(st.sampled_from([{"execution_id": "exec-ghost", "tool_name": "search"}, {"tool_name": "ghost"}]))
    run.insert(at, (TOOL_COMPLETED, ghost))
    assert judge(run) == [("unpaired_tool_completed", TOOL_COMPLETED)]


@SETTINGS
@given(golden_runs(), st.data())
def test_one_tool_call_losing_an_event(run: list[Ev], data: Any) -> None:
    calls = calls_of(run)
    i, j = data.draw(st.sampled_from(calls), label="call")
    lost = data.draw(st.sampled_from((TOOL_EXECUTING, TOOL_COMPLETED)), label="lost")
    del run[i if lost == TOOL_EXECUTING else j]
    if len(calls) == 1:  # the event type never arrived at all
        assert judge(run) == [("missing", lost)]
    elif lost == TOOL_EXECUTING:
        assert judge(run) == [("unpaired_tool_completed", TOOL_COMPLETED)]
    else:
        assert judge(run) == [("unclosed_tool", TOOL_EXECUTING)]


@SETTINGS
@given(golden_runs(), st.sampled_from((AGENT_THINKING, TOOL_EXECUTING, TOOL_COMPLETED)))
def test_an_event_type_that_never_arrives_is_missing(run: list[Ev], lost: str) -> None:
    assert judge([e for e in run if e[0] != lost]) == [("missing", lost)]


@SETTINGS
@given(golden_runs(nested=False))
def test_a_missing_agent_started_is_missing(run: list[Ev]) -> None:
    assert judge(run[1:]) == [("missing", AGENT_STARTED)]


@SETTINGS
@given(st.one_of(golden_runs(nested=True), golden_runs()))
def test_a_run_whose_outermost_agent_never_completes_is_missing_agent_completed(run: list[Ev]) -> None:
    # inner agents may have completed: that does not finish the run (docs/protocol.md §5.1)
    assert judge(run[:-1], completed=False) == [("missing", AGENT_COMPLETED)]


late_events = st.lists(st.sampled_from(GOLDEN_EVENTS), min_size=1, max_size=4)


@SETTINGS
@given(golden_runs(), late_events)
def test_events_after_the_outermost_completion_are_out_of_order(run: list[Ev], late: list[str]) -> None:
    fields = {TOOL_EXECUTING: {"tool_name": "late", "execution_id": "exec-late"},
              TOOL_COMPLETED: {"tool_name": "late", "execution_id": "exec-late"}}
    assert judge(run + [(t, fields.get(t, {})) for t in late]) == sorted(("out_of_order", t) for t in late)


@SETTINGS
@given(golden_runs(), st.data())
def test_no_progress_wherever_the_empty_sub_agents_are(run: list[Ev], data: Any) -> None:
    # The outermost agent starts and completes with only empty sub-agents in between; the progress
    # comes after it completed. Same codes wherever the sub-agents sit.
    empty = [(AGENT_STARTED, {"agent_name": "triage_agent"}), (AGENT_COMPLETED, {"agent_name": "triage_agent"})]
    frame = [run[0], run[-1]]
    for _ in range(data.draw(st.integers(0, 3), label="sub-agents")):
        at = data.draw(st.integers(1, len(frame) - 1))
        frame[at:at] = empty
    after = [e for e in run[1:-1] if e[0] in PROGRESS]
    expected = sorted([("no_progress", AGENT_COMPLETED)] + [("out_of_order", t) for t, _ in after])
    assert judge(frame + after) == expected


# ---- (c) live = recording = replay, in every envelope ----------------------------------------

NOISE = [
    b"\x00\x01binary",
    '{"type": "agent_thinking", ',  # truncated JSON
    '{"type": "heartbeat", "data": {"server_time": "2025-09-14T10:02:03Z"}}',
    '{"type": "quantum_flux", "data": {"level": 9}}',
    '{"type": "error_message", "error_code": "SERVICE_INIT_FAILED", "error_message": "agent service not ready"}',
    "[1, 2]",
]


@st.composite
def any_runs(draw: Any) -> list[Ev]:
    """A golden run, or one with a fault, or a shuffle: whatever the judge must agree with itself on."""
    run = draw(golden_runs())
    fault = draw(st.sampled_from(("none", "swap", "drop", "late", "shuffle", "cut")))
    if fault == "swap":
        i, j = draw(st.sampled_from(calls_of(run)))
        run[i], run[j] = run[j], run[i]
    elif fault == "drop":
        del run[draw(st.integers(0, len(run) - 1))]
    elif fault == "late":
        run.append(draw(st.sampled_from(run)))
    elif fault == "shuffle":
        run = draw(st.permutations(run))
    elif fault == "cut":
        run = run[: draw(st.integers(0, len(run)))]
    return run


def live(run: list[Ev], envelope: str, noise: list[tuple[int, str | bytes]], path: Path, timed_out: bool) -> RunResult:
    """What `golden-path --record` does with these frames: a Run with a Recorder listening."""
    texts: list[str | bytes] = list(frames(run, envelope))
    for at, extra in sorted(noise, key=lambda x: x[0], reverse=True):
        texts.insert(min(at, len(texts)), extra)
    with Recorder(path) as rec:
        r = Run("ws://127.0.0.1:8002/ws", Budgets(gap_s=0.05), listener=rec)
        t = 1000.0
        r.start(t)
        r.opened(t + 0.003, 0.003, {"tcp_ms": 1.0, "upgrade_ms": 2.0})
        r.sent(t + 0.004, json.dumps({"type": "user_message"}), is_message=True)
        for i, text in enumerate(texts, 1):
            r.received(t + 0.004 + i * 0.011, text)
        return r.finish(t + 0.004 + (len(texts) + 1) * 0.011, timed_out=timed_out)


async def dashboard_replay(path: Path) -> RunResult:
    player = ReplayPlayer(path, speed=math.inf)  # the recorded budgets, as a replay judges
    task = asyncio.create_task(player.run_forever())
    try:
        async with asyncio.timeout(30):
            while not player.results:
                await asyncio.sleep(0.001)
    finally:
        task.cancel()
    return player.results[0]


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(any_runs(), envelopes, st.lists(st.tuples(st.integers(0, 40), st.sampled_from(NOISE)), max_size=4), st.booleans())
def test_live_recording_and_replay_judge_alike(tmp_path: Path, run: list[Ev], envelope: str, noise, timed_out: bool) -> None:
    path = tmp_path / "run.jsonl"
    now = live(run, envelope, noise, path, timed_out).to_json()
    assert replay(path).to_json() == now  # with the budgets the recording carries
    assert asyncio.run(dashboard_replay(path)).to_json() == now


def verdict_of(result: RunResult) -> dict[str, Any]:
    data = result.to_json()
    return {k: data[k] for k in ("ok", "completed", "checkpoints", "violations", "timings")}


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(any_runs(), st.booleans())
def test_every_envelope_gets_the_same_verdict(tmp_path: Path, run: list[Ev], timed_out: bool) -> None:
    verdicts = {e: verdict_of(live(run, e, [], tmp_path / f"{e}.jsonl", timed_out)) for e in ENVELOPES}
    assert all(v == verdicts["flat"] for v in verdicts.values()), verdicts


# ---- (d) the normaliser never raises ------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=15,
)
TYPES = st.sampled_from(sorted({*GOLDEN_EVENTS, "system_message", "agent_progress", "agent_update", "agent_response_complete",
                                "reasoning", "error_message", "error", "heartbeat", "quantum_flux", ""})) | json_values
KEYS = ("data", "payload", "event", "timestamp", "agent_name", "agent", "sub_agent_name", "tool_name", "tool", "execution_id",
        "tool_call_id", "call_id", "run_id", "error_code", "code", "error_message", "message", "reasoning", "thought",
        "step_number", "progress_percentage", "parameters", "results", "duration", "status", "final_response")
frame_values = st.builds(lambda t, rest: {"type": t, **rest}, TYPES, st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5))
nested_frames = st.recursive(frame_values, lambda inner: st.builds(
    lambda t, data, payload: {"type": t, "data": data, "payload": payload},
    TYPES, inner | st.builds(lambda e, p: {"event": e, "payload": p}, TYPES, inner), inner), max_leaves=4)


def read_everything(event: Event) -> None:
    """Every reading the stream, the inspector, the judge and the recorder make of an event."""
    assert isinstance(event, Event) and isinstance(event.type, str) and event.kind in ("golden", "other", "unknown", MALFORMED)
    event.summary(), event.summary(10), event.timestamp, event.agent_name, event.tool_name, event.execution_id
    event.run_id, event.error_code(), event.is_error, event.is_golden, auth_failure(event)
    c = Contract()
    c.message_sent(0.0)
    c.feed(event)
    c.finish(1.0)


@settings(max_examples=examples(400), deadline=None)
@given(st.binary(max_size=300))
def test_no_bytes_raise(data: bytes) -> None:
    read_everything(parse_frame(data, 1.0))
    read_everything(parse_frame(bytearray(data), 1.0))
    for text in (data.decode("utf-8", "replace"), data.decode("latin-1"), "\ufeff" + data.decode("utf-8", "replace")):
        read_everything(parse_frame(text, 1.0))


@settings(max_examples=examples(400), deadline=None)
@given(st.text(max_size=300))
def test_no_text_raises(text: str) -> None:
    read_everything(parse_frame(text, 1.0))


@settings(max_examples=examples(150), deadline=None)  # generating nested frames is the slow part
@given(json_values | frame_values | nested_frames)
def test_no_json_value_raises(value: Any) -> None:
    read_everything(normalise(value, "", 1.0))
    text = json.dumps(value)
    event = parse_frame(text, 1.0)
    read_everything(event)
    assert (event.kind == MALFORMED) == (not isinstance(value, dict))  # JSON that parses is never malformed unless not an object


EXTREME = {
    "deeper than any recursion limit": "[" * 100_000 + "]" * 100_000,
    "deep id": '{"type": "tool_executing", "execution_id": ' + "[" * 900 + "]" * 900 + "}",
    "past int's digit limit": '{"type": "agent_started", "n": ' + "9" * 5000 + "}",
    "non-finite numbers": '{"type": "agent_started", "timestamp": 1e400, "step_number": NaN, "x": -Infinity}',
    "odd field types": '{"type": "tool_completed", "tool_name": 1e308, "execution_id": {"a": [1]}, "timestamp": "9999-12-31T23:59:59+14:00"}',
    "far-future timestamp": '{"type": "agent_thinking", "timestamp": 1e300}',
    "wrapper naming a list": '{"type": "agent_update", "data": {"event": ["not", "a", "name"], "payload": 3}}',
    "error with an object code": '{"type": "error", "code": {"nested": true}, "message": null}',
    "lone surrogate": "\ud800",
}


@pytest.mark.parametrize("text", list(EXTREME.values()), ids=list(EXTREME))
def test_extreme_frames_are_values(text: str) -> None:
    read_everything(parse_frame(text, 1.0))
