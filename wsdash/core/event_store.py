"""A bounded store of recent events for the screen: ring buffer, filter, counters.

Workers append (cheap, no rendering); the screen reads a window of rows on its own timer. Memory
is bounded by `capacity` whatever the rate: the recording on disk is where everything is kept.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Any, Iterator

from wsdash.core.protocol import AGENT_COMPLETED, AGENT_STARTED, Event, parse_frame

DEFAULT_CAPACITY = 5000


class Row:
    """One row of the stream. A row taken from another process's store (`EventStore.take`) holds
    its frame's text and parses it when first read: a burst's rows mostly leave the ring unseen."""

    __slots__ = ("seq", "_event", "_frame", "offset", "run", "depth")

    def __init__(self, seq: int, event: Event | None, offset: float | None, run: int, depth: int = 0,
                 frame: tuple[str | bytes, float] | None = None) -> None:
        self.seq = seq
        self._event = event
        self._frame = frame  # (text, received at) while not parsed yet
        self.offset = offset  # seconds since the run's message was sent, when in a run
        self.run = run  # which run it belongs to (0: between runs)
        self.depth = depth  # nesting: 0 the outermost agent's events, 1 a sub-agent's it handed work to, …

    @property
    def event(self) -> Event:
        event = self._event
        if event is None:
            assert self._frame is not None
            event = self._event = parse_frame(*self._frame)
            self._frame = None
        return event


class EventFilter:
    """`/` filter: `type:agent_thinking`, or plain text matched against type, agent, tool, summary."""

    def __init__(self, text: str = "") -> None:
        self.text = text.strip()
        self._types: set[str] = set()
        self._needle = ""
        for word in self.text.split():
            if word.startswith("type:"):
                self._types.update(t for t in word[5:].split(",") if t)
            else:
                self._needle = (self._needle + " " + word).strip()
        self._needle = self._needle.lower()

    def __bool__(self) -> bool:
        return bool(self.text)

    def matches(self, event: Event) -> bool:
        if self._types and event.type not in self._types:
            return False
        if not self._needle:
            return True
        hay = f"{event.type} {event.raw_type or ''} {event.agent_name or ''} {event.tool_name or ''} {event.summary(200)}".lower()
        return self._needle in hay


class Nesting:
    """How deep each event of a run sits: 0 the outermost agent's, 1 a sub-agent's it handed work
    to, … — counted from agent_started / agent_completed, afresh for each run. One rule for both
    stores that number rows: the dashboard's and the stream worker's (`FrameRing`)."""

    __slots__ = ("_open", "_run")

    def __init__(self) -> None:
        self._open = 0  # agents started and not completed in the current run
        self._run = 0

    def depth(self, type_: str, run: int) -> int:
        if run != self._run:
            self._run, self._open = run, 0
        if type_ == AGENT_STARTED:
            self._open += 1
            return self._open - 1
        if type_ == AGENT_COMPLETED:
            self._open = max(0, self._open - 1)
            return self._open
        return self._open - 1 if self._open else 0


# A row as one store hands it to another: (seq, the frame's text, received at, offset, run, depth)
FrameRow = tuple[int, "str | bytes", float, "float | None", int, int]
# Rows in transit, column by column — seqs, texts, times, offsets, runs, depths — or () for none:
# unpickled four times faster than the rows as tuples, and zipped back into them in C.
FrameColumns = tuple[tuple[Any, ...], ...]


def _row(item: Row | FrameRow) -> Row:
    """A ring item as a Row: a row taken from another store stays its FrameRow until it is read."""
    if type(item) is Row:
        return item
    seq, text, at, offset, run, depth = item  # type: ignore[misc]
    return Row(seq, None, offset, run, depth, (text, at))


def _seq(item: Row | FrameRow) -> int:
    return item.seq if type(item) is Row else item[0]  # type: ignore[union-attr,index]


class EventStore:
    """The ring holds `Row`s (appended here) or `FrameRow`s (taken from the stream worker as they
    came, made Rows only when read: most of a burst's rows leave the ring unread)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._rows: deque[Row | FrameRow] = deque(maxlen=capacity)
        self._shown: deque[Row | FrameRow] = self._rows  # rows passing the filter: the same ring while there is none
        self.filter = EventFilter()
        self.received = 0  # every event ever appended
        self.dropped = 0  # fell out of the ring buffer
        self.version = 0  # bumps on every change, so the screen knows when to redraw
        self._nesting = Nesting()

    def append(self, event: Event, offset: float | None = None, run: int = 0) -> None:
        # Every frame of a burst comes through here: the unfiltered case appends once.
        self.received = seq = self.received + 1
        rows = self._rows
        if len(rows) == self.capacity:
            self.dropped += 1
        row = Row(seq, event, offset, run, self._nesting.depth(event.type, run))
        rows.append(row)
        shown = self._shown
        if shown is not rows and self.filter.matches(event):
            shown.append(row)
        self.version += 1

    def take(self, columns: FrameColumns, received: int) -> None:
        """Rows a `FrameRing` numbered and nested (the stream worker's: its `append` ran there, on
        every frame), as `FrameRing.frames_since` gives them, oldest first; `received`: every frame
        that ring was given. Only the newest `capacity` rows can stay."""
        ring = self._rows
        shown = self._shown
        if shown is ring:
            ring.extend(zip(*columns))
        else:
            matches = self.filter.matches
            for item in zip(*columns):
                row = _row(item)
                ring.append(row)
                if matches(row.event):
                    shown.append(row)
        if received != self.received:
            self.dropped = max(0, received - len(ring))
            self.received = received
            self.version += 1

    def set_filter(self, text: str) -> None:
        self.filter = EventFilter(text)
        if self.filter:
            self._shown = deque((r for r in map(_row, self._rows) if self.filter.matches(r.event)), maxlen=self.capacity)
        else:
            self._shown = self._rows
        self.version += 1

    @property
    def shown(self) -> int:
        return len(self._shown)

    def __len__(self) -> int:
        return len(self._shown)

    def row(self, index: int) -> Row:
        return _row(self._shown[index])

    def window(self, start: int, count: int) -> Iterator[Row]:
        """Rows [start, start+count) of the filtered view."""
        end = min(len(self._shown), start + count)
        for i in range(max(0, start), end):
            yield _row(self._shown[i])

    def index_of_seq(self, seq: int) -> int | None:
        """Where row `seq` sits in the filtered view now (rows shift as old ones drop)."""
        shown = self._shown
        if not shown:
            return None
        i = seq - _seq(shown[0])
        if 0 <= i < len(shown) and _seq(shown[i]) == seq:
            return i
        for i, r in enumerate(shown):  # filtered views are not contiguous
            if _seq(r) == seq:
                return i
        return None


class FrameRing:
    """The stream worker's side of the dashboard's `EventStore`: every frame numbered and nested
    as the dashboard's store would, but kept only as the `FrameRow` the dashboard takes — the
    frame's text, not its parsed `Event`. A burst's parsed frames are then freed as soon as they
    are judged instead of living on in the ring (bench/ui.py: the worker's per-frame cost)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, received: int = 0) -> None:
        self.capacity = capacity
        self._rows: deque[FrameRow] = deque(maxlen=capacity)
        # A restarted worker numbers on from the dashboard's store: a row's seq is what the
        # dashboard keys its drawn rows and its paused view by, so it must never come round again.
        self.received = received
        self._nesting = Nesting()

    def append(self, event: Event, offset: float | None = None, run: int = 0) -> None:
        self.received = seq = self.received + 1
        self._rows.append((seq, event.raw, event.received, offset, run, self._nesting.depth(event.type, run)))

    def frames_since(self, seq: int) -> FrameColumns:
        """The rows after row `seq` still in the ring, oldest first, in columns (`EventStore.take`):
        what the dashboard has not taken yet (at most `capacity`)."""
        new = min(self.received - seq, len(self._rows))
        if new <= 0:
            return ()
        rows = self._rows
        return tuple(zip(*islice(rows, len(rows) - new, None)))
