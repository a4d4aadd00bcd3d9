"""ui/full_writes.py: a screen update reaches the terminal whole, even when a signal interrupts
the writer thread while the terminal is behind — as `sys.__stderr__` under PYTHONUNBUFFERED=1 did
not (the inspector's box was left on the dashboard after Esc). A real pseudo-terminal, a slow
reader, and a real signal sent to the writing thread."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from typing import Any, Callable

import pytest

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX terminal and pthread_kill")

FRAMES = [f"<{i:04d}>" + ("x" * 119 + "\n") * 170 for i in range(60)]  # ~20 KB each, as a full 120×40 update
SENT = "".join(FRAMES).encode()


def _through_a_slow_terminal(make: Callable[[int], Any]) -> bytes:
    """Write FRAMES from a thread through `make(fd)` (the pty's slave) while the master is read
    slowly and SIGUSR1 is sent to the writing thread over and over; what the terminal received."""
    master, slave = os.openpty()
    import tty

    tty.setraw(slave)  # no \n → \r\n: the bytes arrive as written
    previous = signal.signal(signal.SIGUSR1, lambda *a: None)  # a handler: the signal interrupts, as SIGWINCH's does
    out = make(slave)
    done = threading.Event()

    def write() -> None:
        for frame in FRAMES:
            out.write(frame)
            out.flush()
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    got = bytearray()
    try:
        while not (done.is_set() and len(got) >= len(SENT)):
            if writer.ident is not None and not done.is_set():
                signal.pthread_kill(writer.ident, signal.SIGUSR1)
            try:
                import select

                ready, _, _ = select.select([master], [], [], 0.5)
                if not ready:
                    if done.is_set():
                        break
                    continue
                got += os.read(master, 4096)
            except OSError:
                break
            time.sleep(0.0002)  # a terminal that is behind: the writer blocks
        writer.join(10)
    finally:
        signal.signal(signal.SIGUSR1, previous)
        os.close(master)
        os.close(slave)
    return bytes(got)


@posix_only
def test_every_byte_arrives_through_the_full_writer() -> None:
    from wsdash.ui.full_writes import FullWriter

    def full(fd: int) -> Any:
        return FullWriter(io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8", write_through=True))

    assert _through_a_slow_terminal(full) == SENT


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seen losing bytes on Linux; other kernels may restart the write")
def test_the_unbuffered_stream_it_replaces_loses_bytes_here() -> None:
    # What Python gives sys.__stderr__ under PYTHONUNBUFFERED=1: a text layer straight on the file.
    # If this ever stops losing bytes, the interruption above no longer happens and the test
    # above proves nothing.
    def unbuffered(fd: int) -> Any:
        return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8", write_through=True)

    assert len(_through_a_slow_terminal(unbuffered)) < len(SENT)


@posix_only
async def test_the_dashboards_driver_writes_through_it() -> None:
    from textual.app import App

    from wsdash.ui.full_writes import FullWriter
    from wsdash.ui.input_driver import PromptEscapeDriver

    driver = PromptEscapeDriver(App())
    assert isinstance(driver._file, FullWriter) and driver._file.fileno() == sys.__stderr__.fileno()
