"""POSIX: kill a tier's process group when wsdash dies, whatever kills it (kill -9 included).

process.py runs this file as a script (``python -I -S lifeline.py``: standard library only, in a
session of its own so the terminal's signals miss it) with a pipe on stdin whose write end only
wsdash holds, and writes the tier's process-group id to it. However wsdash ends, the kernel closes
that end: the read returns EOF and the group gets SIGKILL. When the tier ends normally wsdash
writes ``done`` first and nothing is killed.

Why a pipe and not prctl(PR_SET_PDEATHSIG) in the child: the death signal follows the *thread*
that forked (it fires when that thread exits, even though wsdash lives on: asyncio spawns from
whichever thread runs the loop), reaches only the direct child (pytest, not its grandchildren,
which a SIGKILLed pytest cannot pass on), and exists on Linux only. A pipe's end belongs to the
process: it closes exactly when the last holder dies, on every POSIX system. os.pipe() is
non-inheritable (PEP 446), so no other child of wsdash keeps it open.
"""

from __future__ import annotations

import os
import sys

try:
    # The C module behind `signal`: the same calls without the enums, whose import (enum,
    # functools, collections) is a third of this process's start-up, paid on every tier run.
    import _signal as signal
except ImportError:  # not CPython
    import signal  # type: ignore[no-redef]

DONE = b"done"


def watch(fd: int = 0) -> int | None:
    """Read group ids (one a line) until EOF; return the last one unless ``done`` came after it."""
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
    pgid: int | None = None
    for line in data.split(b"\n"):
        line = line.strip()
        if line == DONE:
            pgid = None
        elif line.isdigit():
            pgid = int(line)
    return pgid


def main() -> None:
    for name in ("SIGINT", "SIGHUP", "SIGTSTP"):  # only the pipe's EOF ends this process
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    pgid = watch(0)
    if pgid is not None and pgid > 1:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:  # the group is gone already
            pass
    sys.exit(0)


if __name__ == "__main__":
    main()
