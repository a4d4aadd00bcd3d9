"""Shape one logical event as each server generation put it on the wire (docs/protocol.md §4.1)."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timezone
from typing import Any, Callable

ENVELOPES = ("nested", "flat", "wrapped", "payload", "demo")
_WRAPPERS = itertools.cycle(("system_message", "agent_progress", "agent_update"))
_IDS = ("run_id", "user_id", "thread_id", "agent_name")


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def nested(type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    top = {k: fields[k] for k in _IDS if k in fields}
    data = {k: v for k, v in fields.items() if k not in top}
    return {"type": type_, **top, "timestamp": iso_now(), "data": data}


def flat(type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_, **fields, "timestamp": time.time(), "critical": True}


def wrapped(type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    wrapper = next(_WRAPPERS)
    if wrapper == "system_message":  # the flat wrapper variant
        return {"type": wrapper, "event": type_, "payload": fields, "timestamp": time.time()}
    return {"type": wrapper, "data": {"event": type_, "payload": fields}, "timestamp": iso_now()}


def payload(type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_, "payload": fields, "timestamp": time.time()}


def demo(type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    body = {("agent" if k == "agent_name" else k): v for k, v in fields.items()}
    return {"type": type_, **body, "timestamp": iso_now()}


FORMATTERS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "nested": nested, "flat": flat, "wrapped": wrapped, "payload": payload, "demo": demo,
}


def connection_established(envelope: str, connection_id: str, user_id: str) -> dict[str, Any]:
    data = {
        "connection_id": connection_id,
        "user_id": user_id,
        "golden_path_events": ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"],
    }
    if envelope == "wrapped":  # older servers announced it as a system message
        return {"type": "system_message", "data": {"event": "connection_established", **data}}
    return {"type": "connection_established", "data": data, "timestamp": time.time()}
