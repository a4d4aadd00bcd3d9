"""The normaliser, frame by frame (docs/protocol.md §4), and that no input ever raises."""

from __future__ import annotations

import json
import os

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


# scripts/mutation.py scales the examples down: it runs these once per mutant
SCALE = float(os.environ.get("WSDASH_EXAMPLES_SCALE", "1"))

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


@settings(max_examples=max(10, round(300 * SCALE)), deadline=None)
@given(st.binary(max_size=200))
def test_no_bytes_raise(data: bytes) -> None:
    assert isinstance(parse_frame(data), Event)
    text = data.decode("utf-8", "replace")
    event = parse_frame(text)
    event.summary()


@settings(max_examples=max(10, round(300 * SCALE)), deadline=None)
@given(json_values)
def test_no_json_value_raises(value) -> None:
    event = parse_frame(json.dumps(value))
    event.summary(), event.agent_name, event.tool_name, event.execution_id, event.error_code()


@settings(max_examples=max(10, round(400 * SCALE)), deadline=None)
@given(frame_like)
def test_no_frame_shaped_value_raises(value) -> None:
    event = normalise(value, "")
    event.summary(), event.agent_name, event.tool_name, event.execution_id, event.run_id


# ---- exact readings (what the stream, the inspector and the verdict print) ---------------------------
# Pinned one by one: scripts/mutation.py showed each of these could change unnoticed (docs/testing.md).

@pytest.mark.parametrize("frame, expected", [
    ({"type": "error_message", "error_code": "AUTH_FAILED", "error_message": "bad token"}, "bad token"),
    ({"type": "error", "code": "auth_failed", "message": "expired"}, "expired"),  # any case, either field
    ({"type": "agent_error", "error_code": "AUTH_FAILED"}, "authentication failed"),
    ({"type": "error_message", "error_code": "AUTH_FAILED", "error_message": None, "message": "m"}, "m"),
    ({"type": "error_message", "error_code": "SERVICE_INIT_FAILED", "error_message": "x"}, None),
    ({"type": "error_message", "error_message": "no code"}, None),
    ({"type": "heartbeat", "error_code": "AUTH_FAILED", "message": "not an error frame"}, None),
])
def test_auth_failure_reads_the_servers_words(frame, expected) -> None:
    from wsdash.core.protocol import auth_failure

    assert auth_failure(parse_frame(json.dumps(frame))) == expected


def test_client_messages_are_exact() -> None:
    from datetime import datetime

    from wsdash.core.protocol import handshake_acknowledged, user_message

    assert user_message("hi", "th-1", "r-1") == {"type": "user_message", "payload": {"content": "hi", "thread_id": "th-1", "run_id": "r-1"}}
    assert user_message("hi", None, "r-2")["payload"]["thread_id"] is None
    ack = handshake_acknowledged("th-9")
    assert set(ack) == {"type", "thread_id", "timestamp"} and ack["type"] == "handshake_acknowledged" and ack["thread_id"] == "th-9"
    stamp = datetime.fromisoformat(ack["timestamp"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0  # ISO 8601, in UTC
    assert abs(stamp.timestamp() - __import__("time").time()) < 60


@pytest.mark.parametrize("frame, summary", [
    ({"type": "agent_started", "task_description": "What did we spend?"}, "What did we spend?"),
    ({"type": "agent_started", "message": "m", "user_request": "u"}, "m"),
    ({"type": "agent_started", "user_request": "u"}, "u"),
    ({"type": "agent_started", "agent_name": "sup"}, "sup started"),
    ({"type": "agent_started"}, "agent started"),
    ({"type": "agent_thinking", "thought": "Hmm", "step_number": 2, "progress_percentage": 40}, "step 2 40% Hmm"),
    ({"type": "agent_thinking", "reasoning": "r", "message": "m"}, "r"),
    ({"type": "agent_thinking", "thought": None, "reasoning": "r", "message": "m"}, "r"),  # an explicit null thought
    ({"type": "agent_thinking", "message": "only a message"}, "only a message"),
    ({"type": "agent_thinking", "step_number": 0}, "step 0"),
    ({"type": "tool_executing", "tool_args": {"q": "é"}}, '{"q": "é"}'),
    ({"type": "tool_executing", "args": [1, 2]}, "[1, 2]"),
    ({"type": "tool_completed", "status": "ok", "duration_ms": 12, "output": "rows"}, "ok in 12 rows"),
    ({"type": "tool_completed", "success": True, "execution_time_ms": 5, "result": "r"}, "True in 5 r"),
    ({"type": "tool_completed", "results": {"n": 1}}, '{"n": 1}'),
    ({"type": "tool_completed", "duration": 1, "execution_time_ms": 2, "duration_ms": 3, "status": None}, "in 1"),
    ({"type": "agent_completed", "final_response": "f", "result": "done"}, "f"),
    ({"type": "agent_completed", "result": "done", "response": "x"}, "done"),
    ({"type": "agent_completed", "response": "resp"}, "resp"),
    ({"type": "agent_completed", "status": "completed"}, "completed"),
    ({"type": "error", "error": "boom", "detail": "d"}, "boom"),
    ({"type": "error", "detail": "d"}, "d"),
    ({"type": "error_message", "code": "C1", "message": "m"}, "C1: m"),
    ({"type": "quantum_flux"}, "unknown type 'quantum_flux'"),
    ({"type": "agent_update", "event": "quantum_flux"}, "unknown type 'agent_update'"),
    ({"type": "heartbeat", "status": "alive"}, "alive"),
    ({"type": "heartbeat", "message": "m", "status": "alive"}, "m"),
    ({"type": "connection_established", "connection_id": "c-1"}, "c-1"),
    ({"type": "thread_update", "thread_id": "t-1"}, "t-1"),
    ({"type": "heartbeat", "timestamp": 1.0, "data": {"load": 3}}, '{"load": 3}'),
])
def test_summaries_read_exactly(frame, summary) -> None:
    assert parse_frame(json.dumps(frame)).summary() == summary


def test_long_values_are_cut_with_an_ellipsis() -> None:
    started = parse_frame(json.dumps({"type": "agent_started", "task_description": "x" * 100}))
    assert started.summary() == "x" * 59 + "…"  # 60 characters at most
    exactly = parse_frame(json.dumps({"type": "agent_started", "task_description": "y" * 60}))
    assert exactly.summary() == "y" * 60
    thinking = parse_frame(json.dumps({"type": "agent_thinking", "thought": "z" * 100}))
    assert thinking.summary(200) == "z" * 79 + "…"
    assert thinking.summary(10) == "z" * 9 + "…"
    assert parse_frame(json.dumps({"type": "agent_thinking", "thought": "abc"})).summary(3) == "abc"  # exactly the width fits
    odd = parse_frame(json.dumps({"type": "tool_executing", "parameters": {"when": None}}))
    assert odd.summary() == '{"when": null}'


def test_malformed_notes_say_what_arrived() -> None:
    assert parse_frame("[1]").note == "JSON list, not an object"
    assert parse_frame("3").note == "JSON int, not an object"
    assert parse_frame(b"\x00\x01\x02").note == "binary frame (3 bytes)"
    assert parse_frame(bytearray(b"ab")).raw == b"ab" and parse_frame(memoryview(b"abc")).raw == b"abc"
    bad = parse_frame('{"type": ')
    assert bad.note.startswith("invalid JSON: Expecting value") and bad.raw == '{"type": ' and bad.summary() == bad.note
    assert len(parse_frame('{"a": "' + "x" * 500).note) <= len("invalid JSON: ") + 80
    assert parse_frame("\ufeff{}").kind == MALFORMED  # a BOM in a text frame is not JSON
    assert parse_frame("  {}  ").kind == UNKNOWN  # whitespace around an object is


def test_fields_and_their_aliases() -> None:
    e = parse_frame(json.dumps({"type": "tool_completed", "tool": "calc", "call_id": 7, "run_id": 12, "code": 500}))
    assert (e.tool_name, e.execution_id, e.run_id, e.error_code()) == ("calc", "7", "12", "500")
    e = parse_frame(json.dumps({"type": "tool_completed", "tool_name": "a", "tool": "b", "execution_id": "x", "tool_call_id": "y", "call_id": "z"}))
    assert (e.tool_name, e.execution_id) == ("a", "x")
    assert parse_frame(json.dumps({"type": "tool_completed", "tool_call_id": "y", "call_id": "z"})).execution_id == "y"
    assert parse_frame(json.dumps({"type": "tool_completed", "tool_name": None, "tool": 3.5})).tool_name == "3.5"
    assert parse_frame(json.dumps({"type": "tool_completed", "tool_name": {"n": 1}})).tool_name is None
    assert parse_frame(json.dumps({"type": "agent_started", "agent": "a", "sub_agent_name": "s"})).agent_name == "a"
    assert parse_frame(json.dumps({"type": "agent_started", "sub_agent_name": 5})).agent_name == "5"
    assert parse_frame(json.dumps({"type": "agent_started", "agent_name": "n", "agent": "a"})).agent_name == "n"
    e = parse_frame(json.dumps({"type": "agent_started"}))
    assert (e.agent_name, e.tool_name, e.execution_id, e.run_id, e.error_code(), e.timestamp) == (None,) * 6
    assert e.get("missing", "type") == "agent_started" and e.get() is None
    assert parse_frame(json.dumps({"type": "error", "error_code": "E", "code": "C"})).error_code() == "E"


@pytest.mark.parametrize("frame, type_, raw_type, kind", [
    ({"type": "system_message"}, "system_message", None, OTHER),  # a wrapper naming nothing stays itself
    ({"type": "agent_progress", "event": ""}, "agent_progress", None, OTHER),
    ({"type": "agent_progress", "event": 5, "data": {"event": "agent_thinking"}}, "agent_thinking", "agent_progress", GOLDEN),
    ({"type": "agent_progress", "event": "tool_executing", "data": {"event": "agent_thinking"}}, "tool_executing", "agent_progress", GOLDEN),
    ({"type": "agent_progress", "data": ["event"]}, "agent_progress", None, OTHER),
    ({"type": "heartbeat", "event": "agent_started"}, "heartbeat", None, OTHER),  # only wrappers name events
    ({"type": 5}, "untyped", None, UNKNOWN),
    ({"type": "agent_thinking"}, "agent_thinking", None, GOLDEN),
])
def test_event_names(frame, type_, raw_type, kind) -> None:
    e = parse_frame(json.dumps(frame))
    assert (e.type, e.raw_type, e.kind) == (type_, raw_type, kind)


def test_containers_merge_in_order_and_only_as_objects() -> None:
    e = parse_frame(json.dumps({"type": "x", "a": 1, "payload": {"a": 2, "b": 2}, "data": {"b": 3, "c": 3}}))
    assert (e.fields["a"], e.fields["b"], e.fields["c"]) == (2, 3, 3) and "payload" not in e.fields and "data" not in e.fields
    e = parse_frame(json.dumps({"type": "x", "payload": [1], "data": "text", "k": 1}))
    assert e.fields == {"type": "x", "k": 1}
    e = parse_frame(json.dumps({"type": "x", "data": {"payload": "not an object", "d": 1}}))
    assert e.fields == {"type": "x", "d": 1}
    e = parse_frame(json.dumps({"type": "x", "data": {"d": 1, "payload": {"d": 2}}}))
    assert e.fields == {"type": "x", "d": 2}


def test_reasoning_serves_as_the_thought_only_for_thinking() -> None:
    assert parse_frame(json.dumps({"type": "agent_thinking", "reasoning": "r", "thought": "t"})).fields["thought"] == "t"
    assert "thought" not in parse_frame(json.dumps({"type": "agent_started", "reasoning": "r"})).fields
    quirk = parse_frame(json.dumps({"type": "reasoning", "reasoning": "r"}))
    assert quirk.note == "server bug: agent_thinking sent with type 'reasoning'" and quirk.raw_type == "reasoning"
    assert parse_frame(json.dumps({"type": "agent_thinking", "reasoning": "r"})).note is None
    assert parse_frame("{}").note == "object without a 'type' field"


class Text(str):
    pass


@pytest.mark.parametrize("value, expected", [
    (1e11, 1e11), (1e11 + 1000, 1e8 + 1), (1e11 + 0.5, 1e8 + 0.0005), (0, 0.0), (-5, -5.0), ("", None), ([1], None), ({"t": 1}, None), (False, None),
    (float("inf"), None), (float("-inf"), None), (Text(ISO), EPOCH), (Text(""), None),
    ("2025-09-01T12:00:00.500z", None),  # only an upper-case Z is a zone
    ("Z", None), ("2025-09-01", 1756684800.0),
])
def test_timestamp_edges(value, expected) -> None:
    got = parse_timestamp(value)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.skipif(not hasattr(__import__("time"), "tzset"), reason="time.tzset is POSIX-only")
def test_a_naive_timestamp_is_utc_whatever_the_machines_zone(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "WSD+05")  # a POSIX zone string: five hours behind UTC, no tz database needed
    time.tzset()
    try:
        assert parse_timestamp("2025-09-01T12:00:00.500") == pytest.approx(EPOCH)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("frame, cut_at", [
    ({"type": "tool_executing", "parameters": "p" * 200}, 80),
    ({"type": "tool_completed", "results": "r" * 200}, 70),
    ({"type": "agent_completed", "final_response": "f" * 200}, 90),
    ({"type": "error", "message": "m" * 200}, 90),
    ({"type": "heartbeat", "message": "h" * 200}, 90),
    ({"type": "agent_started", "task_description": "t" * 200}, 60),
])
def test_each_kind_of_value_has_its_width(frame, cut_at) -> None:
    value = next(v for k, v in frame.items() if k != "type")
    assert parse_frame(json.dumps(frame)).summary(500) == value[: cut_at - 1] + "…"


def test_the_stream_line_is_a_hundred_characters_by_default() -> None:
    assert parse_frame(json.dumps({"type": "error", "code": "C" * 150})).summary() == "C" * 99 + "…"


@pytest.mark.parametrize("data", ["[1]", "7", '{"type": ', b"\x00bin", "", "{}", '{"type": "agent_started"}'])
def test_every_event_keeps_its_raw_frame_and_arrival_time(data) -> None:
    event = parse_frame(data, 2.5)
    assert event.received == 2.5 and event.raw == data
    if event.kind == MALFORMED:
        assert event.type == MALFORMED and event.fields == {} and event.raw_type is None
    assert parse_frame(data).received == 0.0
    if not isinstance(data, bytes) and event.kind != MALFORMED:
        assert normalise(json.loads(data)).raw == "" and normalise(json.loads(data)).received == 0.0
        assert normalise(json.loads(data), data, 3.0).received == 3.0 and normalise(json.loads(data), data).raw == data
    assert normalise([1]).raw == "" and normalise([1]).received == 0.0 and normalise([1], "[1]", 4.0).received == 4.0


def test_an_untyped_object_keeps_its_fields() -> None:
    e = parse_frame('{"hello": 1, "data": {"x": 2}}', 1.5)
    assert e.fields == {"hello": 1, "x": 2} and e.raw_type is None and e.received == 1.5


def test_invalid_json_notes_quote_the_decoder() -> None:
    assert "BOM" in parse_frame("\ufeff{}").note  # json's own words for a byte-order mark, not a generic error
    text = "{" + " " * 99_998 + "x"
    try:
        json.loads(text)
    except ValueError as exc:
        reason = str(exc)
    assert len(reason) > 81 and parse_frame(text).note == f"invalid JSON: {reason[:80]}"
