"""What the dashboard's stream worker and the dashboard say to each other over the worker's pipes.

Messages are pickled Python values behind a 4-byte length, one way on the worker's stdin, the other
on its stdout: plain pipes, which Windows and POSIX both have. Both ends are this package, started
by the same interpreter: pickle is not an interface to anything else.

The worker → dashboard message that matters is the `Batch`: what the screen reads, coalesced, about
ten times a second (and at once when a run ends). It carries the session's state, a view of the
run being judged, the results finished since the last batch, and the newest rows of the event
stream — no more than the dashboard's ring holds, as the frames' own text (parsed again only when a
row is shown: `EventStore.take`).
"""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass, field
from typing import IO, Any

from wsdash.core.contract import Violation
from wsdash.core.event_store import FrameColumns
from wsdash.core.judged_run import FrameCounts, RunResult
from wsdash.core.run_rows import EventRow

_LEN = struct.Struct("<I")
MAX_MESSAGE = 1 << 30  # a length past this is a broken pipe's garbage, not a message

# dashboard → worker
RUN, RECONNECT, STOP, TOKEN = "run", "reconnect", "stop", "token"
# worker → dashboard: TOKEN (asks for one), BATCH, TELL (a message for the screen), FAILED (the worker's own crash),
# STOPPED: the session is stopped, its last run finished and recorded, in the batch sent before it
BATCH, TELL, FAILED, STOPPED = "batch", "tell", "failed", "stopped"


def pack(kind: str, payload: Any = None) -> bytes:
    body = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    return _LEN.pack(len(body)) + body


def unpack(body: bytes) -> tuple[str, Any]:
    kind, payload = pickle.loads(body)
    return kind, payload


def length(head: bytes) -> int:
    (n,) = _LEN.unpack(head)
    if n > MAX_MESSAGE:
        raise ValueError(f"a message of {n} bytes: the pipe is out of step")
    return n


HEADER = _LEN.size


def read_message(stream: IO[bytes]) -> tuple[str, Any] | None:
    """Blocking: the next message, or None at EOF (the other end is gone)."""
    head = stream.read(HEADER)
    if len(head) < HEADER:
        return None
    body = stream.read(length(head))
    if len(body) < length(head):
        return None
    return unpack(body)


def reached(run: Any) -> int:
    """How many checkpoints a run (the worker's `Run`, or the `RunView` of it) has reached: each one
    is news a screen shows at once — the tracker lights it — not at its next tick."""
    return 0 if run is None else sum(1 for at in run.contract.checkpoints.values() if at is not None)


@dataclass
class ContractView:
    """What the screen reads of a run's judge while it runs."""

    checkpoints: dict[str, float | None]
    violations: list[Violation]
    done: bool
    sent_at: float | None = None  # when the message went out (the monotonic clock, which both processes share)


@dataclass
class RowsView:
    kept: list[EventRow]

    def rows(self) -> list[EventRow]:
        return self.kept


@dataclass
class RunView:
    """The running run as the screen reads it (`run.contract`, `run.frames`, `run.rows.rows()`),
    taken in the worker at the batch's moment."""

    contract: ContractView
    frames: FrameCounts
    rows: RowsView


@dataclass
class Batch:
    status: Any  # live.LiveStatus
    run: RunView | None
    results: list[RunResult]  # finished since the last batch
    rows: FrameColumns  # the newest, at most the ring's capacity, column by column
    received: int  # every frame the worker's store was given
    run_requested: bool
    token_info: Any = None
    last_recording: str | None = None
    tells: list[tuple[str, str, float]] = field(default_factory=list)  # (message, severity, timeout)
