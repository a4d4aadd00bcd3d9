"""Every byte of a screen update reaches the terminal, even when a signal interrupts its write.

Textual's POSIX driver writes each update to `sys.__stderr__` from a writer thread. Under
`PYTHONUNBUFFERED=1` (set in many container images and CI jobs) that stream has no buffer, and its
`write` makes one `write(2)` and drops whatever the kernel did not take. A write to a terminal that
is behind blocks, and returns short when a signal reaches the writing thread (a resize's SIGWINCH,
a profiler's or debugger's ptrace stop): the rest of the update was lost and the screen kept a
stale mix — the inspector's box left over the dashboard after Esc — until something repainted it.
`FullWriter` writes the rest, and waits when the terminal is not ready.
"""

from __future__ import annotations

import os
import select
from typing import TextIO


class FullWriter:
    """What Textual's WriterThread needs of a file (`write`, `flush`, `fileno`), writing it all."""

    def __init__(self, stream: TextIO) -> None:
        stream.flush()  # anything already buffered goes first, in order
        self._fd = stream.fileno()
        self._encoding = stream.encoding or "utf-8"
        self._errors = stream.errors or "strict"

    def write(self, text: str) -> int:
        data = memoryview(text.encode(self._encoding, self._errors))
        while data:
            try:
                data = data[os.write(self._fd, data):]  # EINTR with nothing written is retried (PEP 475)
            except BlockingIOError:  # someone made the terminal non-blocking: wait until it takes more
                select.select([], [self._fd], [])
        return len(text)

    def flush(self) -> None:
        """Nothing is held here."""

    def fileno(self) -> int:
        return self._fd
