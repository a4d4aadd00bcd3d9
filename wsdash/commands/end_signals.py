"""SIGTERM (a CI runner's timeout, `kill`), SIGHUP (a closed terminal) and Windows' SIGBREAK end a
headless command the way Ctrl+C does: what arrived is judged and said, and the run goes to the
history. Without this they killed `golden-path` and `watch` on the spot — no verdict, no
partial run, no summary, nothing in the history.

`as_ctrl_c()` hands each to the SIGINT handler while it is active, so asyncio.run's own Ctrl+C
handling (cancel the main task at its next await, then KeyboardInterrupt) is the one path for all
of them — also where SIGINT itself is ignored, as in a script's background job. `cli.main` holds it
around every command, so whatever a command does on Ctrl+C — `check` killing a Docker CLI that
hangs, `serve` removing its secret files — it also does when the terminal closes or a CI job times
out (a SIGTERM used to leave `check`'s `docker` running). `golden-path` and `watch` hold it too,
around the part whose partial result they print; `tiers run` and the dashboard install handlers of
their own (the tier's process tree hears about it once)."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any, Iterator

SIGNALS = ("SIGTERM", "SIGHUP", "SIGBREAK")


def _as_sigint(signum: int, frame: Any) -> None:
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)  # asyncio.run's (cancel the main task) or Python's (KeyboardInterrupt)
    else:
        # SIGINT ignored (a background job of a script, nohup): SIGTERM must still end the run.
        raise KeyboardInterrupt


@contextmanager
def as_ctrl_c() -> Iterator[None]:
    previous: dict[int, Any] = {}
    for name in SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            previous[sig] = signal.signal(sig, _as_sigint)
        except (ValueError, OSError):  # not the main thread (a test calling in): left as it is
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
