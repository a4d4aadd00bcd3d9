"""The normaliser, frame by frame (docs/protocol.md §4), and that no input ever raises."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsdash.core.protocol import GOLDEN, MALFORMED, OTHER, UNKNOWN, Event, normalise, parse_frame, parse_timestamp

ISO = "2025-09-01T12:00:00.500Z"
EPOCH = 1756728000.5


@pytest.mark.parametrize(
    "frame, type_, agent, tool, raw_type",
    [
        # nested
        ({"type": "agent_thinking", "run_id": "r", "agent_name": "triage", "timestamp": ISO,
          "data": {"reasoning": "hm", "step_number": 2}}, "agent_thinking", "triage", None, None),
        # flat
        ({"type": "tool_completed", "tool_name": "search", "results": {"n": 1}, "duration": 0.3,
          "timestamp": EPOCH, "critical": True}, "tool_completed", None, "search", None),
        # wrapped, data.event + data.payload
        ({"type": "agent_update", "data": {"event": "agent_started", "payload": {"agent_name": "sup"}}},
         "agent_started", "sup", None, "agent_update"),
        # wrapped, top-level event + payload
        ({"type": "system_message", "event": "tool_executing", "payload": {"tool": "calc", "tool_args": {"x": 1}}},
         "tool_executing", None, "calc", "system_message"),
        ({"type": "agent_progress", "data": {"event": "agent_thinking", "payload": {"thought": "x"}}},
         "agent_thinking", None, None, "agent_progress"),
        ({"type": "agent_response_complete", "event": "agent_completed", "payload": {"status": "completed"}},
         "agent_completed", None, None, "agent_response_complete"),
        # payload envelope
        ({"type": "agent_started", "payload": {"agent_name": "a", "run_id": "r"}}, "agent_started", "a", None, None),
        # demo socket: `agent` instead of `agent_name`
        ({"type": "agent_completed", "agent": "demo_agent", "result": "done", "timestamp": ISO},
         "agent_completed", "demo_agent", None, None),
        # the reasoning quirk
        ({"type": "reasoning", "reasoning": "thinking hard"}, "agent_thinking", None, None, "reasoning"),
        # old connection_established
        ({"type": "system_message", "data": {"event": "connection_established", "connection_id": "c"}},
         "connection_established", None, None, "system_message"),
    ],
)
def test_every_envelope_normalises(frame, type_, agent, tool, raw_type) -> None:
    event = parse_frame(json.dumps(frame), 1.0)
    assert event.type == type_
    assert event.agent_name == agent
    assert event.tool_name == tool
    assert event.raw_type == raw_type
    assert event.raw == json.dumps(frame)  # the raw frame is kept for display
    assert event.received == 1.0


def test_merge_order_later_wins() -> None:
    frame = {"type": "agent_thinking", "step_number": 1, "payload": {"step_number": 2},
             "data": {"step_number": 3, "payload": {"step_number": 4}}}
    assert parse_frame(json.dumps(frame)).fields["step_number"] == 4


def test_reasoning_quirk_is_named() -> None:
    event = parse_frame('{"type": "reasoning", "reasoning": "r"}')
    assert event.kind == GOLDEN and "reasoning" in (event.note or "")
    assert event.get("thought") == "r"


@pytest.mark.parametrize("value, expected", [
    (EPOCH, EPOCH), (int(EPOCH), int(EPOCH)), (EPOCH * 1000, EPOCH), (ISO, EPOCH),
    ("2025-09-01T12:00:00.500+00:00", EPOCH), ("2025-09-01T14:00:00.500+02:00", EPOCH),
    ("2025-09-01T12:00:00.500", EPOCH),  # naive ISO: the backend means UTC
    ("yesterday", None), (None, None), (True, None), (float("nan"), None), (10**400, None),
])
def test_both_timestamp_forms(value, expected) -> None:
    got = parse_timestamp(value)
    assert got == pytest.approx(expected) if expected is not None else got is None


def test_frame_timestamp_is_parsed() -> None:
    assert parse_frame(json.dumps({"type": "agent_started", "timestamp": ISO})).timestamp == pytest.approx(EPOCH)


@pytest.mark.parametrize("raw, note", [
    ('{"type": "agent_started", ', "invalid JSON"),
    (b"\x00\x01", "binary frame"),
    ("[1, 2]", "not an object"),
    ('"text"', "not an object"),
    ("null", "not an object"),
    ("", "invalid JSON"),
])
def test_malformed_frames_are_values(raw, note) -> None:
    event = parse_frame(raw)
    assert event.kind == MALFORMED and note in (event.note or "")
    assert event.summary()


def test_unknown_and_untyped_frames() -> None:
    unknown = parse_frame('{"type": "quantum_flux"}')
    assert unknown.kind == UNKNOWN and "quantum_flux" in unknown.summary()
    untyped = parse_frame('{"hello": 1}')
    assert untyped.kind == UNKNOWN and untyped.type == "untyped"


@pytest.mark.parametrize("type_", ["heartbeat", "pong", "handshake_response", "agent_error", "error_message", "stream_chunk", "backend_log"])
def test_other_frames_are_recognised(type_) -> None:
    assert parse_frame(json.dumps({"type": type_})).kind == OTHER


def test_error_frames_summarise_code_and_message() -> None:
    event = parse_frame(json.dumps({"type": "error_message", "error_code": "AUTH_FAILED", "error_message": "bad token"}))
    assert event.is_error and event.error_code() == "AUTH_FAILED"
    assert "AUTH_FAILED" in event.summary() and "bad token" in event.summary()


def test_summary_is_one_short_line() -> None:
    event = parse_frame(json.dumps({"type": "agent_thinking", "reasoning": "line one\nline two " + "x" * 500}))
    s = event.summary(80)
    assert "\n" not in s and len(s) <= 80


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
frame_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["agent_started", "tool_completed", "system_message", "agent_update", "reasoning", "x", ""]) | st.integers() | st.none()},
    optional={"data": json_values, "payload": json_values, "event": json_values, "timestamp": json_values,
              "agent_name": json_values, "tool_name": json_values, "execution_id": json_values},
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_no_bytes_raise(data: bytes) -> None:
    assert isinstance(parse_frame(data), Event)
    text = data.decode("utf-8", "replace")
    event = parse_frame(text)
    event.summary()


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_no_json_value_raises(value) -> None:
    event = parse_frame(json.dumps(value))
    event.summary(), event.agent_name, event.tool_name, event.execution_id, event.error_code()


@settings(max_examples=400, deadline=None)
@given(frame_like)
def test_no_frame_shaped_value_raises(value) -> None:
    event = normalise(value, "")
    event.summary(), event.agent_name, event.tool_name, event.execution_id, event.run_id
