"""Windows: Ctrl+Break stops pytest like Ctrl-C.

wsdash starts pytest in a new process group (so that the user's Ctrl-C does not hit it
directly), and Windows delivers only CTRL_BREAK_EVENT to such a group. The C runtime turns it
into SIGBREAK, but a Python SIGBREAK handler runs only between blocking calls: a test in
time.sleep or a socket read would sit out wsdash's grace period and be killed, losing pytest's
partial summary. CPython wakes a main-thread time.sleep for SIGINT only, and
signal.raise_signal(SIGINT) from another thread does wake it (_thread.interrupt_main does
not). So a console control handler (run by Windows on a thread of its own, before the C
runtime's) raises SIGINT and says the event is handled; SIGBREAK → KeyboardInterrupt is the
fallback when Windows refuses the handler.

PYTEST_DONT_REWRITE: part of the plugin (see __init__.py), not a test module.
"""

from __future__ import annotations

import signal
from typing import Any

CTRL_C_EVENT, CTRL_BREAK_EVENT = 0, 1
_CONSOLE_HANDLER: Any = None  # the ctypes callback: kept alive for good, or Windows calls freed memory


def on_console_event(event: int) -> int:
    """The console control handler: TRUE (1) for Ctrl+C/Ctrl+Break after raising SIGINT; FALSE
    (0) for the rest (close, logoff, shutdown), which the next handler deals with."""
    if event in (CTRL_C_EVENT, CTRL_BREAK_EVENT):
        signal.raise_signal(signal.SIGINT)
        return 1
    return 0


def install_console_handler(kernel32: Any = None, functype: Any = None) -> bool:
    """Windows: register on_console_event with SetConsoleCtrlHandler. False elsewhere or when
    Windows refuses (then install_break_handler is the fallback). Both arguments are for tests."""
    global _CONSOLE_HANDLER
    if _CONSOLE_HANDLER is not None:  # once per process (pytest may be configured again in-process)
        return True
    if kernel32 is None:
        import sys

        if sys.platform != "win32":
            return False
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        functype = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.DWORD)  # type: ignore[attr-defined]
        kernel32.SetConsoleCtrlHandler.argtypes = (functype, wintypes.BOOL)
        kernel32.SetConsoleCtrlHandler.restype = wintypes.BOOL
    handler = functype(on_console_event)
    if not kernel32.SetConsoleCtrlHandler(handler, True):
        return False
    _CONSOLE_HANDLER = handler
    return True


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def install_break_handler(signal_module: Any = signal) -> bool:
    """Windows fallback: SIGBREAK → KeyboardInterrupt (between blocking calls only, see above)."""
    sigbreak = getattr(signal_module, "SIGBREAK", None)
    if sigbreak is None:
        return False
    try:
        signal_module.signal(sigbreak, _raise_keyboard_interrupt)
    except ValueError:  # not the main thread (pytest embedded somewhere): leave it alone
        return False
    return True


def install() -> None:
    """Ctrl+Break → SIGINT where Windows allows, else the SIGBREAK fallback; nothing on POSIX."""
    if not install_console_handler():
        install_break_handler()
