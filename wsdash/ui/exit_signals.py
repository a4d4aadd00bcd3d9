"""SIGTERM (`kill`), SIGHUP (the terminal closed, SSH dropped) and a SIGINT sent from outside (the
terminal's own Ctrl+C is a key here, raw mode) end the app like `q` does: the running tier's tree
is killed and the terminal restored, instead of Python dying on the spot and leaving pytest running. Windows has neither signal nor `add_signal_handler`: there the tier's Job
Object ends the tree with wsdash."""

from __future__ import annotations

import asyncio
import signal
from typing import Callable


def install(loop: asyncio.AbstractEventLoop, on_signal: Callable[[], None]) -> list[int]:
    """Route SIGTERM, SIGHUP and SIGINT to `on_signal`; the signals handled, for `remove`."""
    handled = []
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, on_signal)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            pass
    return handled


def remove(loop: asyncio.AbstractEventLoop, handled: list[int]) -> None:
    for sig in handled:
        loop.remove_signal_handler(sig)
    handled.clear()
