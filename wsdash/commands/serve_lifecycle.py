"""`wsdash serve`'s lifecycle on every OS: what stops it cleanly, and its secret files.

A server started without `--secret` keeps its generated secret in a user-only file beside a
`.pid` file naming the server's process. The files go when the server stops — Ctrl+C, SIGTERM or
SIGHUP on POSIX; Ctrl+C, Ctrl+Break or closing the console window on Windows — and a file left by
a server that died without stopping (killed, power cut) is removed by the next `wsdash serve`.

Windows has no `loop.add_signal_handler`: Ctrl+Break arrives as SIGBREAK through `signal.signal`
(the Proactor loop wakes for it), and closing the window as CTRL_CLOSE_EVENT, which only a console
control handler sees; Windows ends the process when that handler returns (and after 5 s at most),
so it waits for the cleanup to finish before returning.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable

CTRL_CLOSE_EVENT = 2
CLOSE_WAIT_S = 4.5  # of the 5 s Windows gives a CTRL_CLOSE_EVENT handler
PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
STILL_ACTIVE = 259
ERROR_INVALID_PARAMETER, ERROR_ACCESS_DENIED = 87, 5
SECRET_GLOB = "server-secret-*"


class Stopper:
    """The stop routes installed for one server; `cleaned()` once its files are gone."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.undo: list[Callable[[], None]] = []
        self.keep: list[Any] = []  # ctypes thunks: freed while registered, the process would crash

    def cleaned(self) -> None:
        self.done.set()
        for undo in reversed(self.undo):
            try:
                undo()
            except (OSError, ValueError, RuntimeError):
                pass


def _console_api() -> tuple[Any, Callable[[Callable[[int], bool]], Any]]:
    import ctypes
    from ctypes import wintypes

    k32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    handler_routine = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.DWORD)  # type: ignore[attr-defined]
    k32.SetConsoleCtrlHandler.argtypes = (handler_routine, wintypes.BOOL)
    k32.SetConsoleCtrlHandler.restype = wintypes.BOOL
    return k32, handler_routine


def install_stop(loop: asyncio.AbstractEventLoop, stop: Callable[[], None], *, platform: str | None = None,
                 signals: Any = signal, kernel32: Any = None, handler_type: Any = None) -> Stopper:
    """Route every "please stop" that is not Ctrl+C (asyncio.run turns that into cancellation) to
    `stop`, called in the loop's thread."""
    stopper = Stopper()

    def from_any_thread(*_: object) -> None:
        loop.call_soon_threadsafe(stop)

    if not (platform or sys.platform).startswith("win"):
        for name in ("SIGTERM", "SIGHUP"):
            sig = getattr(signals, name, None)
            if sig is not None:
                loop.add_signal_handler(sig, stop)
                stopper.undo.append(lambda sig=sig: loop.remove_signal_handler(sig))
        return stopper
    for name in ("SIGBREAK", "SIGTERM"):  # SIGTERM: registered for symmetry; Windows never sends it
        sig = getattr(signals, name, None)
        if sig is not None:
            previous = signals.signal(sig, from_any_thread)
            stopper.undo.append(lambda sig=sig, previous=previous: signals.signal(sig, previous))

    def on_console_event(event: int) -> bool:  # runs on a thread of its own (HandlerRoutine)
        if event != CTRL_CLOSE_EVENT:
            return False  # Ctrl+C / Ctrl+Break: the CRT turns them into SIGINT / SIGBREAK above
        from_any_thread()
        stopper.done.wait(CLOSE_WAIT_S)  # returning ends the process: let the cleanup finish first
        return True

    try:
        if kernel32 is None:
            kernel32, handler_type = _console_api()
        thunk = handler_type(on_console_event)
        stopper.keep.append(thunk)
        if kernel32.SetConsoleCtrlHandler(thunk, True):
            stopper.undo.append(lambda: kernel32.SetConsoleCtrlHandler(thunk, False))
    except (OSError, AttributeError, ValueError):
        pass  # no console (a service): nothing to close
    return stopper


# -- secret files ---------------------------------------------------------------------------------
def pid_file(secret_file: Path) -> Path:
    return secret_file.with_name(secret_file.name + ".pid")


def write_server_secret(secret_file: Path, secret: str) -> None:
    from wsdash.core.auth import write_secret_file

    write_secret_file(secret_file, secret)
    pid_file(secret_file).write_text(f"{os.getpid()}\n", encoding="ascii")


def remove_server_secret(secret_file: Path) -> None:
    for path in (secret_file, pid_file(secret_file)):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def pid_alive(pid: int, *, platform: str | None = None, winapi: Any = None) -> bool:
    """Is process `pid` running? Never signals it (os.kill(pid, 0) on Windows would end it)."""
    if (platform or sys.platform).startswith("win"):
        if winapi is None:
            import _winapi as winapi  # type: ignore[no-redef]
        try:
            handle = winapi.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        except OSError as exc:
            return getattr(exc, "winerror", None) == ERROR_ACCESS_DENIED  # 87: no such process
        try:
            return winapi.GetExitCodeProcess(handle) == STILL_ACTIVE
        finally:
            winapi.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def clean_stale_secrets(directory: Path, alive: Callable[[int], bool] = pid_alive) -> list[Path]:
    """Remove the secret files of servers that are gone; a file whose server cannot be told (no
    `.pid` beside it, from an older wsdash) is left alone. Returns what was removed."""
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for secret in sorted(directory.glob(SECRET_GLOB)):
        if secret.suffix == ".pid":
            continue
        try:
            pid = int(pid_file(secret).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not alive(pid):
            remove_server_secret(secret)
            removed.append(secret)
    return removed
