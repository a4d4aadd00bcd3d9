"""Terminal output that Windows shows right (issue 10 point 8): VT processing turned on before any
escape sequence, plain lines where the console cannot (legacy conhost), and `--json` that Windows
PowerShell 5.1's ConvertFrom-Json reads unmangled.

The console calls cannot run here: kernel32 is a stand-in that answers as the Windows console does
(GetConsoleMode fails on a redirected handle; the legacy console rejects the VT flag with
ERROR_INVALID_PARAMETER), and the output is checked byte for byte.
"""

from __future__ import annotations

import ctypes
import io
import json
import subprocess
import sys
from typing import Any

import pytest

from wsdash.commands import term
from wsdash.commands.tiers_progress import HumanReporter


class Console:
    """kernel32's GetConsoleMode/SetConsoleMode for one console handle."""

    def __init__(self, mode: int | None, accepts_vt: bool = True) -> None:
        self.mode, self.accepts_vt, self.set_calls = mode, accepts_vt, []

    def GetConsoleMode(self, handle: int, mode_ref: Any) -> int:  # noqa: N802 - the Win32 name
        if self.mode is None:
            return 0  # not a console: redirected to a file or a pipe
        mode_ref._obj.value = self.mode
        return 1

    def SetConsoleMode(self, handle: int, mode: int) -> int:  # noqa: N802
        self.set_calls.append((handle, mode))
        if mode & term.ENABLE_VIRTUAL_TERMINAL_PROCESSING and not self.accepts_vt:
            return 0  # legacy conhost: ERROR_INVALID_PARAMETER (87)
        self.mode = mode
        return 1


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def windows_console(monkeypatch: pytest.MonkeyPatch):
    """Make `term` believe it writes to a Windows console handle (7) served by `console`."""
    def install(console: Console) -> Console:
        monkeypatch.setattr(term.sys, "platform", "win32")
        monkeypatch.setattr(term, "_os_handle", lambda stream: 7)
        monkeypatch.setattr(term, "_kernel32", lambda: console)
        monkeypatch.setattr(term, "_VT", {})
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        return console
    return install


def test_vt_is_turned_on_once_before_colour(windows_console) -> None:
    console = windows_console(Console(mode=0x3))  # PROCESSED_OUTPUT | WRAP_AT_EOL, as cmd.exe leaves it
    paint = term.painter(Tty())
    assert paint.enabled and paint("ok", "green") == "\x1b[32mok\x1b[0m"
    assert console.set_calls == [(7, 0x3 | 0x4)]
    term.painter(Tty())
    assert len(console.set_calls) == 1  # the console keeps the mode: asked once


def test_legacy_console_gets_plain_lines_not_raw_escapes(windows_console) -> None:
    console = windows_console(Console(mode=0x3, accepts_vt=False))
    out = Tty()
    assert not term.painter(out).enabled
    reporter = HumanReporter(out)
    assert not reporter.live and not reporter.style.color  # progress dots and plain verdicts
    reporter.note("tiers: unit")
    assert "\x1b" not in out.getvalue() and "\r" not in out.getvalue()
    assert console.set_calls == [(7, 0x7)]


def test_a_console_that_has_vt_already_is_left_alone(windows_console) -> None:
    console = windows_console(Console(mode=0x7))
    assert term.can_redraw(Tty()) and HumanReporter(Tty()).live
    assert console.set_calls == []


def test_redirected_output_is_not_a_console(windows_console) -> None:
    console = windows_console(Console(mode=None))
    assert term.enable_vt(Tty()) and console.set_calls == []
    assert not term.painter(io.StringIO()).enabled  # not a TTY: no colour anyway


def test_real_console_mode_structures_are_typed() -> None:
    """The ctypes prototypes the Windows path uses: a HANDLE is pointer-sized, the mode a DWORD."""
    from ctypes import wintypes

    if sys.platform.startswith("win"):
        k32 = term._kernel32()
        assert k32.GetConsoleMode.argtypes == (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
        assert k32.SetConsoleMode.restype is wintypes.BOOL
    else:
        assert ctypes.sizeof(wintypes.HANDLE) == ctypes.sizeof(ctypes.c_void_p)


def test_json_output_is_ascii_and_reads_back_the_same(tmp_path) -> None:
    """Windows PowerShell 5.1 decodes a program's output with the console code page: any byte
    over 0x7F in `--json` is mangled before ConvertFrom-Json sees it; \\u escapes are not."""
    cfg = tmp_path / "wsdash.toml"
    cfg.write_text('[targets.local]\nws_url = "ws://127.0.0.1:9/ws?token=sk-live-abcdef0123456789"\n', encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "wsdash", "--config", str(cfg), "config", "show", "--json"],
                         capture_output=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    assert max(out.stdout) < 0x80, "non-ASCII byte in --json output"
    assert b"\\u2022\\u2022\\u2022(redacted)" in out.stdout  # •••(redacted), escaped
    values = {v["key"]: v["value"] for v in json.loads(out.stdout.decode("cp1252"))["values"]}  # any code page reads it
    assert values["targets.local.ws_url"] == "ws://127.0.0.1:9/ws?token=•••(redacted)"



def test_the_dashboard_asks_the_console_api_not_isatty(monkeypatch: pytest.MonkeyPatch) -> None:
    """NUL is a character device, so isatty() says yes (bpo-28654); GetConsoleMode says no."""
    monkeypatch.setattr(term, "_fd_handle", lambda fd: 7)
    monkeypatch.setattr(term, "_kernel32", lambda: Console(mode=None))  # NUL, a pipe, a file
    assert not term._console(0)
    assert term.dashboard_terminal_problem(platform="win32", environ={}) is not None
    monkeypatch.setattr(term, "_kernel32", lambda: Console(mode=0x1F7))  # a console's input mode
    assert term._console(0) and term.dashboard_terminal_problem(platform="win32", environ={}) is None
