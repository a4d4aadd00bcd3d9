"""The dashboard's bounded store: what the screen is shown, filtered or not, as the ring turns."""

from __future__ import annotations

import json

from wsdash.core.event_store import EventStore, FrameRing
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


def test_rows_taken_from_another_store_are_the_rows_it_kept() -> None:
    """The stream worker appends every frame to its ring and hands the dashboard's store the rows
    since the last batch (at most its capacity): numbers, nesting, offsets and counts come out as
    if the dashboard had appended them itself, the frames parsed only when a row is read."""
    frames = [json.dumps({"type": "agent_started", "agent_name": "a"}), json.dumps({"type": "agent_started", "agent_name": "b"})]
    frames += [frame(i) for i in range(45)] + [json.dumps({"type": "agent_completed", "agent_name": "b"}), "not json"]
    here, worker, there = EventStore(capacity=20), FrameRing(capacity=20), EventStore(capacity=20)
    here_filtered, there_plain = EventStore(capacity=20), EventStore(capacity=20)
    for store in (there, here_filtered):  # a filtered view keeps up to capacity rows of its own
        store.set_filter("type:tool_executing")
    sent = 0
    for i, text in enumerate(frames):
        for store in (here, worker, here_filtered):
            store.append(parse_frame(text, float(i)), i / 10, 2)
        if i % 7 == 6 or i == len(frames) - 1:  # batches, one of them larger than the ring
            rows = worker.frames_since(sent)
            assert len(rows) == 6 and len(rows[0]) <= 20  # six columns, at most the ring's rows
            there.take(rows, worker.received)
            there_plain.take(rows, worker.received)  # unfiltered: kept as they came, Rows when read
            sent = worker.received
    assert (there.received, there.dropped) == (here.received, here.dropped) == (len(frames), len(frames) - 20)
    there_filtered = [r.seq for r in there.window(0, 20)]
    there.set_filter("")
    def rows(store: EventStore) -> list[tuple]:
        return [(r.seq, r.offset, r.run, r.depth, r.event) for r in store.window(0, 20)]
    assert rows(there) == rows(here) and max(r.depth for r in here.window(0, 20)) == 1
    assert there_filtered == [r.seq for r in here_filtered.window(0, 20)] and len(there_filtered) > 5
    assert worker.frames_since(worker.received) == ()
    assert rows(there_plain) == rows(here) and there_plain.index_of_seq(here.row(7).seq) == 7
    for store in (there_plain, here):  # a filter set now, over rows never read yet: what the ring holds
        store.set_filter("type:tool_executing")
    assert [r.seq for r in there_plain.window(0, 20)] == [r.seq for r in here.window(0, 20)] == [33, 38, 43]
