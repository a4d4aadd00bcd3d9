"""Server frames → `Event` values, and the client messages. docs/protocol.md §3–§4.

Strict about what is checked, tolerant about shape: every envelope (nested, flat, wrapped,
payload, demo) normalises to one `Event`. Malformed and unknown frames become values too —
this module never raises on input.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

AGENT_STARTED = "agent_started"
AGENT_THINKING = "agent_thinking"
TOOL_EXECUTING = "tool_executing"
TOOL_COMPLETED = "tool_completed"
AGENT_COMPLETED = "agent_completed"
GOLDEN_EVENTS: tuple[str, ...] = (AGENT_STARTED, AGENT_THINKING, TOOL_EXECUTING, TOOL_COMPLETED, AGENT_COMPLETED)
_GOLDEN = frozenset(GOLDEN_EVENTS)

WRAPPERS = frozenset({"system_message", "agent_progress", "agent_update", "agent_response_complete"})
ERROR_TYPES = frozenset({"error_message", "error", "agent_error", "agent_death", "agent_timeout_failure", "tool_error"})
OTHER_TYPES = frozenset({
    "connection_established", "handshake_response", "handshake_complete", "heartbeat", "pong",
    "heartbeat_ack", "agent_timeout_warning", "progress_update", "partial_result", "final_report",
    "agent_response", "agent_response_chunk", "stream_chunk", "agent_fallback", "thread_update",
    "cleanup_started", "cleanup_complete", "backend_log", "system_message", "agent_progress",
    "agent_update", "agent_response_complete",
}) | ERROR_TYPES
KNOWN_TYPES = _GOLDEN | OTHER_TYPES

# Kinds of Event
GOLDEN = "golden"
OTHER = "other"
UNKNOWN = "unknown"
MALFORMED = "malformed"

_CONTAINERS = ("payload", "data")


@dataclass(slots=True)
class Event:
    """One server frame, normalised. `raw` is kept for display, exactly as received."""

    kind: str  # golden | other | unknown | malformed
    type: str  # normalised event name ("malformed" for malformed frames)
    raw: str | bytes
    received: float = 0.0  # monotonic seconds
    raw_type: str | None = None  # wire type where it differs from `type`
    fields: dict[str, Any] = field(default_factory=dict)
    note: str | None = None  # a quirk or the reason a frame is malformed

    @property
    def timestamp(self) -> float | None:
        """The frame's own timestamp, epoch seconds. Parsed when read (the inspector), not for
        every frame of a burst: nothing judges by it."""
        return parse_timestamp(self.fields.get("timestamp"))

    @property
    def is_golden(self) -> bool:
        return self.kind == GOLDEN

    @property
    def is_error(self) -> bool:
        return self.type in ERROR_TYPES

    def get(self, *names: str) -> Any:
        for name in names:
            value = self.fields.get(name)
            if value is not None:
                return value
        return None

    @property
    def agent_name(self) -> str | None:
        # get("agent_name", "agent", "sub_agent_name"), unrolled: read for every frame
        f = self.fields
        value = f.get("agent_name")
        if value is None:
            value = f.get("agent")
            if value is None:
                value = f.get("sub_agent_name")
                if value is None:
                    return None
        return str(value)

    @property
    def tool_name(self) -> str | None:
        # get("tool_name", "tool"), unrolled: read for every frame
        f = self.fields
        value = f.get("tool_name")
        if value is None:
            value = f.get("tool")
        return str(value) if isinstance(value, (str, int, float)) else None

    @property
    def execution_id(self) -> str | None:
        value = self.get("execution_id", "tool_call_id", "call_id")
        return str(value) if value is not None else None

    @property
    def run_id(self) -> str | None:
        value = self.get("run_id")
        return str(value) if value is not None else None

    def error_code(self) -> str | None:
        value = self.get("error_code", "code")
        return str(value) if value is not None else None

    def summary(self, width: int = 100) -> str:
        """One line a person can read in the event stream."""
        text = _summary(self)
        text = " ".join(text.split())
        return text if len(text) <= width else text[: width - 1] + "…"


def parse_timestamp(value: Any) -> float | None:
    """Float epoch seconds (or milliseconds) or ISO 8601 → epoch seconds; anything else → None."""
    if type(value) is str:  # the common case first (every ISO-stamped frame); same rules as below
        return _parse_iso(value) if value else None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            v = float(value)
        except OverflowError:
            return None
        if not math.isfinite(v):
            return None
        return v / 1000.0 if v > 1e11 else v  # milliseconds since the epoch
    if isinstance(value, str) and value:
        return _parse_iso(value)
    return None


def _parse_iso(value: str) -> float | None:
    try:
        dt = _fromisoformat(value)  # Python 3.11+ reads a trailing "Z" itself
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return dt.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


_fromisoformat = datetime.fromisoformat


def _merge(frame: dict[str, Any]) -> dict[str, Any]:
    """Fields from the frame, then payload, then data, then data.payload (later wins)."""
    merged = frame.copy()  # C-speed copy; popping the containers keeps the other keys' order
    payload = merged.pop("payload", None)
    data = merged.pop("data", None)
    if isinstance(payload, dict):
        merged.update(payload)
    if isinstance(data, dict):
        if "payload" in data:
            merged.update({k: v for k, v in data.items() if k != "payload"})
            inner = data["payload"]
            if isinstance(inner, dict):
                merged.update(inner)
        else:
            merged.update(data)
    return merged


def normalise(frame: Any, raw: str | bytes = "", received: float = 0.0) -> Event:
    """A decoded JSON value → Event. Never raises."""
    if not isinstance(frame, dict):
        return Event(MALFORMED, MALFORMED, raw, received, note=f"JSON {type(frame).__name__}, not an object")
    wire = frame.get("type")
    wire_type = wire if isinstance(wire, str) else None
    name = wire_type
    note = None
    if name in WRAPPERS:
        data = frame.get("data")
        inner = frame.get("event")
        if not isinstance(inner, str) and isinstance(data, dict):
            inner = data.get("event")
        if isinstance(inner, str) and inner:
            name = inner
    elif name == "reasoning":
        name = AGENT_THINKING
        note = "server bug: agent_thinking sent with type 'reasoning'"
    fields = _merge(frame)
    if "reasoning" in fields and name == AGENT_THINKING:
        fields.setdefault("thought", fields["reasoning"])
    if name is None:
        return Event(UNKNOWN, "untyped", raw, received, None, fields, note="object without a 'type' field")
    kind = GOLDEN if name in _GOLDEN else OTHER if name in OTHER_TYPES else UNKNOWN
    return Event(kind, name, raw, received, wire_type if wire_type != name else None, fields, note)


_scan = json.JSONDecoder().scan_once  # the (C) scanner json.loads ends in, when given no options


def parse_frame(data: str | bytes, received: float = 0.0) -> Event:
    """A WebSocket message as received → Event. Binary and invalid JSON are malformed values."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return Event(MALFORMED, MALFORMED, bytes(data), received, note=f"binary frame ({len(data)} bytes)")
    try:
        # json.loads without its wrappers (a third of what it costs a burst frame): one JSON value
        # from the first character to the last. Anything else (whitespace around it, a BOM, extra
        # data, nothing the scanner can start on) goes through json.loads, its rules and its errors.
        try:
            decoded, end = _scan(data, 0) if type(data) is str else (None, -1)
        except StopIteration:
            end = -1
        if end != len(data):
            decoded = json.loads(data)
    except (ValueError, RecursionError) as exc:
        return Event(MALFORMED, MALFORMED, data, received, note=f"invalid JSON: {str(exc)[:80]}")
    return normalise(decoded, data, received)


# ---- display -------------------------------------------------------------------------------

def _short(value: Any, limit: int = 60) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(e: Event) -> str:
    f = e.fields
    if e.kind == MALFORMED:
        return e.note or "malformed frame"
    if e.type == AGENT_STARTED:
        return _short(e.get("task_description", "message", "user_request")) or f"{e.agent_name or 'agent'} started"
    if e.type == AGENT_THINKING:
        step = e.get("step_number")
        pct = e.get("progress_percentage")
        prefix = f"step {step} " if step is not None else ""
        prefix += f"{pct}% " if pct is not None else ""
        return prefix + _short(e.get("thought", "reasoning", "message"), 80)
    if e.type == TOOL_EXECUTING:
        return _short(e.get("parameters", "tool_args", "args"), 80)
    if e.type == TOOL_COMPLETED:
        dur = e.get("duration", "execution_time_ms", "duration_ms")
        status = e.get("status", "success")
        head = f"{status} " if status is not None else ""
        head += f"in {dur} " if dur is not None else ""
        return head + _short(e.get("results", "result", "output"), 70)
    if e.type == AGENT_COMPLETED:
        return _short(e.get("final_response", "result", "response", "status"), 90)
    if e.is_error:
        code = e.error_code()
        msg = e.get("error_message", "message", "error", "detail")
        return (f"{code}: " if code else "") + _short(msg, 90)
    if e.kind == UNKNOWN:
        return f"unknown type {e.raw_type or e.type!r}"
    return _short(e.get("message", "status", "connection_id", "thread_id") or {k: v for k, v in f.items() if k not in ("type", "timestamp")}, 90)


def auth_failure(event: Event) -> str | None:
    """The server's words when `event` is an AUTH_FAILED error frame (docs/protocol.md §2), else None."""
    if event.type in ERROR_TYPES and str(event.error_code() or "").upper() == "AUTH_FAILED":
        return str(event.get("error_message", "message") or "authentication failed")
    return None


# ---- client messages (docs/protocol.md §3) ---------------------------------------------------------

def user_message(text: str, thread_id: str | None, run_id: str) -> dict[str, Any]:
    return {"type": "user_message", "payload": {"content": text, "thread_id": thread_id, "run_id": run_id}}


def handshake_acknowledged(thread_id: Any) -> dict[str, Any]:
    return {
        "type": "handshake_acknowledged",
        "thread_id": thread_id,
        "timestamp": datetime.now(timezone.utc).isoformat(),
    }


