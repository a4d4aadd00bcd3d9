"""Plain-terminal output for the headless commands: colour only on a TTY and without NO_COLOR, and
escape sequences (colour, `\\r\\x1b[2K` redraws) only where the terminal shows them.

Windows consoles interpret escape sequences only with ENABLE_VIRTUAL_TERMINAL_PROCESSING on, and
cmd.exe turns it off for the programs it starts (bpo-30075): wsdash turns it on for its own output
handle (SetConsoleMode), and where that fails — the legacy console of Windows before 10 1511
answers ERROR_INVALID_PARAMETER — it writes plain lines instead of raw escape codes.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from typing import Any, Iterable, TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2", "bold": "1"}
ENABLE_VIRTUAL_TERMINAL_PROCESSING = 0x0004
_VT: dict[int, bool] = {}  # console handle → VT on (the mode belongs to the console: set it once)


def _kernel32() -> Any:
    """kernel32 with the two console calls typed (restype/argtypes: a HANDLE is 64-bit)."""
    import ctypes
    from ctypes import wintypes

    k32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    k32.GetConsoleMode.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
    k32.GetConsoleMode.restype = wintypes.BOOL
    k32.SetConsoleMode.argtypes = (wintypes.HANDLE, wintypes.DWORD)
    k32.SetConsoleMode.restype = wintypes.BOOL
    return k32


def _os_handle(stream: TextIO) -> int | None:
    try:
        return _fd_handle(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


def _fd_handle(fd: int) -> int | None:
    """The Windows handle behind a descriptor; None elsewhere or when there is none."""
    try:
        import msvcrt  # Windows only

        return msvcrt.get_osfhandle(fd)  # type: ignore[attr-defined]
    except (ImportError, AttributeError, OSError, ValueError):
        return None


def enable_vt(stream: TextIO | None = None, *, platform: str | None = None, kernel32: Any = None,
              handle: int | None = None) -> bool:
    """Can escape sequences be written to `stream`? Elsewhere than Windows, yes. On Windows, turn
    on VT processing for its console (once) and say whether that worked; a stream that is not a
    console (a pipe, a file) is left alone and reported True — its reader decides."""
    if not (platform or sys.platform).startswith("win"):
        return True
    stream = stream or sys.stdout
    handle = _os_handle(stream) if handle is None else handle
    if handle is None:
        return True  # no OS handle (a test's StringIO): nothing to switch
    if handle in _VT and kernel32 is None:
        return _VT[handle]
    try:
        import ctypes
        from ctypes import wintypes

        k32 = kernel32 or _kernel32()
        mode = wintypes.DWORD()
        if not k32.GetConsoleMode(handle, ctypes.byref(mode)):
            return True  # redirected: not a console
        ok = bool(mode.value & ENABLE_VIRTUAL_TERMINAL_PROCESSING) or bool(
            k32.SetConsoleMode(handle, mode.value | ENABLE_VIRTUAL_TERMINAL_PROCESSING))
    except (OSError, AttributeError, ValueError):
        ok = False
    if kernel32 is None:
        _VT[handle] = ok
    return ok


def use_color(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return enable_vt(stream)
    return hasattr(stream, "isatty") and stream.isatty() and enable_vt(stream)


def can_redraw(stream: TextIO) -> bool:
    """A live line redrawn in place (`\\r\\x1b[2K`): a terminal that shows escape sequences."""
    return bool(getattr(stream, "isatty", lambda: False)()) and enable_vt(stream)


class Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


def painter(stream: TextIO | None = None) -> Painter:
    return Painter(use_color(stream))


def isatty(fd: int) -> bool:
    """False, not an error, for a descriptor whose terminal hung up."""
    try:
        return os.isatty(fd)
    except OSError:
        return False


def silence(fds: Iterable[int]) -> None:
    """Point these descriptors at the null device (the terminal behind them hung up)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.dup2(null, fd)
    finally:
        os.close(null)


# The dashboard reads keys from standard input and draws on standard error (Textual's POSIX driver)
# or standard output (its Windows console driver).
_DASHBOARD_STREAMS = {"posix": ((0, "standard input (where it reads keys)"), (2, "standard error (where it draws)")),
                      "win": ((0, "standard input (where it reads keys)"), (1, "standard output (where it draws)"))}


def _console(fd: int) -> bool:
    """Windows: a console, asked of the console API. The C runtime's isatty() is true for any
    character device, the null device included (bpo-28654)."""
    handle = _fd_handle(fd)
    if handle is None:
        return False
    try:
        import ctypes
        from ctypes import wintypes

        return bool(_kernel32().GetConsoleMode(handle, ctypes.byref(wintypes.DWORD())))
    except (AttributeError, OSError, ValueError):
        return False


def _what(fd: int, windows: bool) -> str:
    try:
        st = os.fstat(fd)
    except OSError:
        return "closed"
    if stat.S_ISFIFO(st.st_mode):
        return "a pipe"
    if stat.S_ISREG(st.st_mode):
        return "a file"
    if stat.S_ISSOCK(st.st_mode):
        return "a socket"
    if stat.S_ISCHR(st.st_mode):
        if windows:  # a character device that is not a console: NUL (fstat gives no inode to compare)
            return "the null device"
        with contextlib.suppress(OSError):
            if os.path.samestat(st, os.stat(os.devnull)):
                return "the null device"
    return "not a terminal"


def dashboard_terminal_problem(*, platform: str | None = None, environ: dict[str, str] | os._Environ[str] = os.environ,
                               console: Any = None) -> str | None:
    """Why the dashboard cannot open here, or None. Without a terminal to read keys from, it would
    draw into a file and spin on an input that says end-of-file, at a full core, until killed.
    `console(fd)` answers "is it a terminal" (a test's stand-in; by default the platform's own)."""
    if environ.get("TEXTUAL_DRIVER"):
        return None  # a driver of its own (textual-serve's web driver: the browser is the terminal)
    windows = (platform or sys.platform).startswith("win")
    is_terminal = console or (_console if windows else isatty)
    for fd, name in _DASHBOARD_STREAMS["win" if windows else "posix"]:
        if not is_terminal(fd):
            what = _what(fd, windows)
            hint = (" (Git Bash's mintty gives programs pipes: run `winpty wsdash …`, or use Windows Terminal)"
                    if windows and what == "a pipe" else "")
            return f"{name} is {what}{hint}"
    return None
