"""Take the text messages a WebSocket has already received, without `recv()`'s machinery per frame.

In a burst, one read from the socket brings hundreds of frames; websockets parses them all at once
and queues them, and each `await ws.recv()` then walks three coroutines, a concurrency guard and
a join to hand over one of them — a fifth of what a burst frame costs wsdash (bench/ingest.py,
bench/ui.py). After a `recv()` returns, `take()` hands over the next queued message when it is
plainly a whole, valid text message, exactly as `recv()` would have: the frame's bytes decoded,
the reader resumed below the low-water mark as `recv()` does. Anything else — a binary frame, a
fragmented message, invalid UTF-8 (which `recv()` answers by failing the connection with 1007),
an empty queue — is left where it is, and `take()` returns None: the next `recv()` deals with it
as it always did.

This reads websockets' own connection internals (`recv_messages`, its frame queue), which are not
a documented interface: where they are not as expected (another websockets), `take` always returns
None and every frame goes through `recv()`. tests/core/test_ready_frames.py fails if the installed
websockets no longer matches, so the speed is never lost in silence.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

TakeText = Callable[[], "str | None"]


def never() -> str | None:
    """The `take()` of a connection whose internals are not as expected: nothing, ever."""
    return None


def ready_texts(ws: Any) -> TakeText:
    """A `take()` for this connection (see the module's text); `never` where it cannot take any."""
    from websockets.frames import Opcode

    assembler = getattr(ws, "recv_messages", None)
    queue = getattr(getattr(assembler, "frames", None), "queue", None)
    resume = getattr(assembler, "maybe_resume", None)
    if not isinstance(queue, deque) or not callable(resume) or not hasattr(assembler, "get_in_progress"):
        return never

    text_opcode = Opcode.TEXT

    def take() -> str | None:
        if not queue or assembler.get_in_progress:
            return None
        frame = queue[0]
        if frame.opcode is not text_opcode or not frame.fin:
            return None
        try:
            text = str(frame.data, "utf-8")  # bytes or bytearray, as recv() decodes them
        except UnicodeDecodeError:
            return None
        queue.popleft()
        resume()
        return text

    return take
