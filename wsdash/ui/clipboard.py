"""Copy text to the user's clipboard, and say truthfully whether it was.

Textual copies with OSC 52, an escape sequence the terminal may or may not honour (Windows
Terminal does; conhost — the console of Windows 10 and most of 11 — ignores it; macOS Terminal
too). On Windows wsdash sets the clipboard itself through the Win32 API, so "copied" is true;
elsewhere it can only ask the terminal, and says so.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

CF_UNICODETEXT = 13
GMEM_MOVEABLE = 0x0002


@dataclass(frozen=True)
class Copied:
    ok: bool
    how: str  # "copied to the clipboard", "sent to the terminal (OSC 52)…", or why it failed


def _win32() -> tuple[Any, Any]:
    import ctypes

    return typed(ctypes.WinDLL("user32", use_last_error=True),  # type: ignore[attr-defined]
                 ctypes.WinDLL("kernel32", use_last_error=True))  # type: ignore[attr-defined]


def typed(u32: Any, k32: Any) -> tuple[Any, Any]:
    """user32 and kernel32 with every prototype typed: without restype, ctypes returns a C int and
    cuts a 64-bit HGLOBAL/pointer in half (memmove then writes to a wrong address)."""
    import ctypes
    from ctypes import wintypes

    for dll, name, restype, argtypes in (
        (k32, "GlobalAlloc", wintypes.HGLOBAL, (wintypes.UINT, ctypes.c_size_t)),
        (k32, "GlobalLock", wintypes.LPVOID, (wintypes.HGLOBAL,)),
        (k32, "GlobalUnlock", wintypes.BOOL, (wintypes.HGLOBAL,)),
        (k32, "GlobalFree", wintypes.HGLOBAL, (wintypes.HGLOBAL,)),
        (u32, "OpenClipboard", wintypes.BOOL, (wintypes.HWND,)),
        (u32, "EmptyClipboard", wintypes.BOOL, ()),
        (u32, "SetClipboardData", wintypes.HANDLE, (wintypes.UINT, wintypes.HANDLE)),
        (u32, "CloseClipboard", wintypes.BOOL, ()),
        (u32, "CreateWindowExW", wintypes.HWND, (wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.DWORD,
                                                 ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, wintypes.HWND,
                                                 wintypes.HMENU, wintypes.HINSTANCE, wintypes.LPVOID)),
        (u32, "DestroyWindow", wintypes.BOOL, (wintypes.HWND,)),
    ):
        fn = getattr(dll, name)
        fn.restype, fn.argtypes = restype, argtypes
    return u32, k32


def _last_error(what: str) -> OSError:
    import ctypes

    code = ctypes.get_last_error() if hasattr(ctypes, "get_last_error") else 0
    return OSError(f"{what} failed" + (f" (Windows error {code})" if code else ""))


def windows_copy(text: str, user32: Any = None, kernel32: Any = None, retry_s: float = 0.5) -> None:
    """Put `text` on the Windows clipboard as CF_UNICODETEXT; raises OSError saying what failed."""
    import ctypes

    if user32 is None or kernel32 is None:
        user32, kernel32 = _win32()
    data = text.encode("utf-16-le") + b"\x00\x00"  # UTF-16 code units (an emoji takes two), NUL-ended
    # A window of our own to own the clipboard: with NULL, EmptyClipboard leaves no owner and
    # SetClipboardData fails.
    hwnd = user32.CreateWindowExW(0, "STATIC", None, 0, 0, 0, 0, 0, None, None, None, None)
    try:
        deadline = time.monotonic() + retry_s
        while not user32.OpenClipboard(hwnd):  # another program may hold it for a moment
            if time.monotonic() > deadline:
                raise _last_error("OpenClipboard")
            time.sleep(0.01)
        try:
            user32.EmptyClipboard()
            handle = kernel32.GlobalAlloc(GMEM_MOVEABLE, len(data))
            if not handle:
                raise _last_error("GlobalAlloc")
            pointer = kernel32.GlobalLock(handle)
            if not pointer:
                kernel32.GlobalFree(handle)
                raise _last_error("GlobalLock")
            ctypes.memmove(pointer, data, len(data))
            kernel32.GlobalUnlock(handle)
            if not user32.SetClipboardData(CF_UNICODETEXT, handle):
                kernel32.GlobalFree(handle)  # only on failure: after success the system owns it
                raise _last_error("SetClipboardData")
        finally:
            user32.CloseClipboard()
    finally:
        if hwnd:
            user32.DestroyWindow(hwnd)


def copy_text(app: Any, text: str, *, platform: str | None = None, env: Any = None,
              native: Any = windows_copy) -> Copied:
    """Copy through the OS where wsdash can (Windows), else ask the terminal (OSC 52)."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    if platform.startswith("win"):
        try:
            native(text)
            return Copied(True, "copied to the clipboard")
        except (OSError, AttributeError, ValueError) as exc:
            if env.get("WT_SESSION"):  # Windows Terminal honours OSC 52
                app.copy_to_clipboard(text)
                return Copied(True, "sent to Windows Terminal's clipboard")
            return Copied(False, f"could not set the Windows clipboard ({exc}), and this console does not take OSC 52")
    app.copy_to_clipboard(text)
    return Copied(True, "sent to the terminal's clipboard (OSC 52: most terminals honour it; macOS Terminal does not)")
