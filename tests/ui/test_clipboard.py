"""Clipboard copy says "copied" only when it was (issue 10 point 8): the Windows clipboard set
natively where OSC 52 is not honoured (conhost), OSC 52 where the terminal is asked.

The Win32 calls are stand-ins that behave like the API (the buffer GlobalLock returns is real
memory, written by the real ctypes.memmove); the prototypes are checked against the documented
signatures, since a missing restype truncates 64-bit handles."""

from __future__ import annotations

import ctypes
from ctypes import wintypes
from types import SimpleNamespace
from typing import Any

import pytest

from wsdash.ui import clipboard


class Win32:
    """user32 + kernel32 as the clipboard calls see them; `fail` names one call that fails."""

    def __init__(self, fail: str = "") -> None:
        self.fail, self.calls, self.buffers, self.clipboard = fail, [], {}, None
        self.user32 = SimpleNamespace(**{n: self._call(n) for n in (
            "CreateWindowExW", "DestroyWindow", "OpenClipboard", "EmptyClipboard", "SetClipboardData", "CloseClipboard")})
        self.kernel32 = SimpleNamespace(**{n: self._call(n) for n in ("GlobalAlloc", "GlobalLock", "GlobalUnlock", "GlobalFree")})

    def _call(self, name: str):
        def call(*args: Any) -> Any:
            self.calls.append(name)
            if name == self.fail:
                return 0
            if name == "CreateWindowExW":
                return 0x10010
            if name == "GlobalAlloc":
                buf = ctypes.create_string_buffer(args[1])
                self.buffers[0xC0DE] = buf
                return 0xC0DE
            if name == "GlobalLock":
                return ctypes.addressof(self.buffers[args[0]])  # a real, 64-bit address
            if name == "SetClipboardData":
                assert args[0] == clipboard.CF_UNICODETEXT
                self.clipboard = self.buffers[args[1]].raw
                return args[1]
            return 1
        return call


def test_text_lands_on_the_windows_clipboard_as_utf16() -> None:
    api = Win32()
    clipboard.windows_copy("frame ✓ 🚀", api.user32, api.kernel32)
    assert api.clipboard == "frame ✓ 🚀".encode("utf-16-le") + b"\x00\x00"  # the emoji is two UTF-16 units
    assert api.calls == ["CreateWindowExW", "OpenClipboard", "EmptyClipboard", "GlobalAlloc", "GlobalLock",
                         "GlobalUnlock", "SetClipboardData", "CloseClipboard", "DestroyWindow"]  # no GlobalFree: Windows owns it


@pytest.mark.parametrize("fail", ["SetClipboardData", "GlobalAlloc", "OpenClipboard"])
def test_a_failing_call_is_an_error_and_cleans_up(fail: str) -> None:
    api = Win32(fail)
    with pytest.raises(OSError, match=fail):
        clipboard.windows_copy("x", api.user32, api.kernel32, retry_s=0.05)
    assert api.calls[-1] == "DestroyWindow"
    assert ("CloseClipboard" in api.calls) is (fail != "OpenClipboard")
    assert ("GlobalFree" in api.calls) is (fail == "SetClipboardData")  # freed only when Windows did not take it


def test_the_prototypes_are_pointer_sized_where_windows_says_so() -> None:
    fns = {n: SimpleNamespace() for n in ("GlobalAlloc", "GlobalLock", "GlobalUnlock", "GlobalFree", "OpenClipboard",
                                          "EmptyClipboard", "SetClipboardData", "CloseClipboard", "CreateWindowExW", "DestroyWindow")}
    u32, k32 = clipboard.typed(SimpleNamespace(**fns), SimpleNamespace(**fns))
    assert fns["GlobalAlloc"].restype is wintypes.HGLOBAL and fns["GlobalAlloc"].argtypes == (wintypes.UINT, ctypes.c_size_t)
    assert fns["GlobalLock"].restype is wintypes.LPVOID and fns["GlobalFree"].restype is wintypes.HGLOBAL
    assert fns["SetClipboardData"].restype is wintypes.HANDLE and fns["CreateWindowExW"].restype is wintypes.HWND
    assert all(f.restype is not None and hasattr(f, "argtypes") for f in fns.values())
    for t in (wintypes.HGLOBAL, wintypes.LPVOID, wintypes.HANDLE, wintypes.HWND):
        assert ctypes.sizeof(t) == ctypes.sizeof(ctypes.c_void_p)


class App:
    def __init__(self) -> None:
        self.osc52: list[str] = []

    def copy_to_clipboard(self, text: str) -> None:
        self.osc52.append(text)


def test_windows_native_copy_says_copied() -> None:
    app, got = App(), []
    done = clipboard.copy_text(app, "t", platform="win32", env={}, native=got.append)
    assert done.ok and done.how == "copied to the clipboard" and got == ["t"] and app.osc52 == []


def test_conhost_without_a_clipboard_says_not_copied() -> None:
    def broken(text: str) -> None:
        raise OSError("OpenClipboard failed (Windows error 5)")

    app = App()
    done = clipboard.copy_text(app, "t", platform="win32", env={}, native=broken)
    assert not done.ok and "OpenClipboard failed" in done.how and "OSC 52" in done.how and app.osc52 == []
    wt = clipboard.copy_text(app, "t", platform="win32", env={"WT_SESSION": "1f2e"}, native=broken)
    assert wt.ok and "Windows Terminal" in wt.how and app.osc52 == ["t"]  # Windows Terminal takes OSC 52


def test_elsewhere_the_terminal_is_asked_and_the_message_says_so() -> None:
    app = App()
    done = clipboard.copy_text(app, "t", platform="linux", env={})
    assert done.ok and app.osc52 == ["t"] and "OSC 52" in done.how and "copied" not in done.how
