"""The dashboard's bounded store: what the screen is shown, filtered or not, as the ring turns."""

from __future__ import annotations

import json

from wsdash.core.event_store import EventStore
from wsdash.core.protocol import parse_frame


def frame(i: int) -> str:
    kind = "tool_executing" if i % 5 == 0 else "agent_thinking"
    return json.dumps({"type": kind, "tool_name": "t", "reasoning": f"n{i}"})


def test_the_view_follows_the_filter_as_it_is_set_and_cleared() -> None:
    store = EventStore(capacity=20)
    for i in range(30):
        store.append(parse_frame(frame(i)), None, 1)
    assert store.received == 30 and store.dropped == 10 and store.shown == 20
    assert [r.seq for r in store.window(0, 20)] == list(range(11, 31))

    store.set_filter("type:tool_executing")
    assert [r.seq for r in store.window(0, 20)] == [11, 16, 21, 26]
    for i in range(30, 40):
        store.append(parse_frame(frame(i)), None, 1)
    assert [r.seq for r in store.window(0, 20)] == [11, 16, 21, 26, 31, 36]  # a filtered view holds up to capacity of its own
    assert store.received == 40 and store.dropped == 20

    store.set_filter("")
    assert store.shown == 20 and [r.seq for r in store.window(0, 20)] == list(range(21, 41))
    store.append(parse_frame(frame(40)), None, 1)
    assert store.shown == 20 and store.row(19).seq == 41 and store.index_of_seq(41) == 19
