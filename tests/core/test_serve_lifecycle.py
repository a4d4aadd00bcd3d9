"""`wsdash serve` removes its secret file whatever stops it, and the next server removes the files
of servers that died (issue 10 point 8). Windows' stop routes — Ctrl+Break as SIGBREAK through
signal.signal (no add_signal_handler there), closing the window as CTRL_CLOSE_EVENT through a
console control handler — are driven here with Windows' values (SIGBREAK = 21, event 2) through
the same code; a real `wsdash serve` process shows the POSIX routes and the stale-file cleanup."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import isolated_dirs
from wsdash.commands import serve_lifecycle as life


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def winerr(code: int) -> OSError:
    exc = OSError(22, "OpenProcess failed")
    exc.winerror = code  # type: ignore[attr-defined]
    return exc


# -- Windows stop routes -------------------------------------------------------------------------
class WinSignals:
    """The signal module as Windows has it: SIGINT, SIGBREAK (21), SIGTERM, no SIGHUP."""

    SIGINT, SIGBREAK, SIGTERM = 2, 21, 15

    def __init__(self) -> None:
        self.handlers: dict[int, Any] = {}

    def signal(self, sig: int, handler: Any) -> Any:
        previous, self.handlers[sig] = self.handlers.get(sig, "default"), handler
        return previous


class Console:
    def __init__(self) -> None:
        self.handlers: list[Any] = []

    def SetConsoleCtrlHandler(self, handler: Any, add: bool) -> int:  # noqa: N802 - the Win32 name
        (self.handlers.append if add else self.handlers.remove)(handler)
        return 1


async def test_ctrl_break_stops_the_server_on_windows() -> None:
    loop, stopped = asyncio.get_running_loop(), asyncio.Event()
    signals, console = WinSignals(), Console()
    stopper = life.install_stop(loop, stopped.set, platform="win32", signals=signals, kernel32=console, handler_type=lambda f: f)
    assert set(signals.handlers) == {21, 15}  # SIGBREAK (and SIGTERM); never add_signal_handler
    signals.handlers[21](21, None)  # what the CRT does on Ctrl+Break
    await asyncio.wait_for(stopped.wait(), 2)
    stopper.cleaned()
    assert signals.handlers == {21: "default", 15: "default"} and console.handlers == []  # undone


async def test_closing_the_console_waits_for_the_cleanup() -> None:
    loop, stopped = asyncio.get_running_loop(), asyncio.Event()
    console = Console()
    stopper = life.install_stop(loop, stopped.set, platform="win32", signals=WinSignals(), kernel32=console, handler_type=lambda f: f)
    [handler] = console.handlers
    assert handler(0) is False and handler(1) is False  # Ctrl+C / Ctrl+Break: left to the CRT → SIGINT / SIGBREAK
    answer: list[bool] = []
    closing = threading.Thread(target=lambda: answer.append(handler(life.CTRL_CLOSE_EVENT)))  # Windows' own thread
    closing.start()
    await asyncio.wait_for(stopped.wait(), 2)
    await asyncio.sleep(0.2)
    assert closing.is_alive(), "returned before the cleanup: Windows would end the process now"
    stopper.cleaned()  # the secret file is gone
    await asyncio.to_thread(closing.join, 2)
    assert answer == [True]


def test_closing_the_console_gives_up_before_windows_kills_anyway() -> None:
    assert life.CLOSE_WAIT_S < 5.0


# -- which servers are alive -----------------------------------------------------------------------
def test_pid_alive_on_windows_from_openprocess() -> None:
    def winapi(open_error: int | None = None, exit_code: int = life.STILL_ACTIVE) -> Any:
        def open_process(access: int, inherit: bool, pid: int) -> int:
            assert access == 0x1000 and inherit is False
            if open_error is not None:
                raise winerr(open_error)
            return 0x44
        return SimpleNamespace(OpenProcess=open_process, GetExitCodeProcess=lambda h: exit_code, CloseHandle=lambda h: None)

    assert life.pid_alive(4242, platform="win32", winapi=winapi())
    assert not life.pid_alive(4242, platform="win32", winapi=winapi(exit_code=0))  # exited, handle still held
    assert not life.pid_alive(4242, platform="win32", winapi=winapi(open_error=87))  # no such process
    assert life.pid_alive(4242, platform="win32", winapi=winapi(open_error=5))  # another user's: alive


def test_pid_alive_here() -> None:
    assert life.pid_alive(os.getpid()) and not life.pid_alive(dead_pid())


def test_stale_secrets_of_dead_servers_are_removed(tmp_path: Path) -> None:
    dead, live, unknown = tmp_path / "server-secret-8002", tmp_path / "server-secret-8003", tmp_path / "server-secret-8004"
    for path, pid in ((dead, dead_pid()), (live, os.getpid() + 0), (unknown, None)):
        path.write_text("s3cret\n")
        if pid is not None:
            life.pid_file(path).write_text(f"{pid}\n")
    assert life.clean_stale_secrets(tmp_path, alive=lambda pid: pid != int(life.pid_file(dead).read_text())) == [dead]
    assert not dead.exists() and not life.pid_file(dead).exists()
    assert live.exists() and unknown.exists()  # running, or cannot be told: left alone


# -- a real server ---------------------------------------------------------------------------------
def start_serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-m", "wsdash", "serve", "--port", "0", "--pace", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)
    lines = [proc.stdout.readline() for _ in range(4)]  # type: ignore[union-attr]
    command = next(line for line in lines if "golden-path" in line).split()
    return proc, Path(command[command.index("--secret-file") + 1])


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals; the Windows routes are driven above")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_serve_removes_its_secret_on_every_stop(tmp_path: Path, sig: str) -> None:
    env = {**os.environ, **isolated_dirs(tmp_path), "PYTHONUNBUFFERED": "1"}
    proc, secret = start_serve(env)
    try:
        assert secret.is_file() and life.pid_file(secret).read_text().strip() == str(proc.pid)
        proc.send_signal(getattr(signal, sig))
        assert proc.wait(15) == 0
    finally:
        proc.kill()
        proc.wait()
    assert not secret.exists() and not life.pid_file(secret).exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL; pid_alive's Windows branch is tested above")
def test_a_new_server_removes_the_files_of_a_killed_one(tmp_path: Path) -> None:
    env = {**os.environ, **isolated_dirs(tmp_path), "PYTHONUNBUFFERED": "1"}
    killed, left = start_serve(env)
    killed.kill()  # no cleanup possible
    killed.wait()
    assert left.is_file()
    second, own = start_serve(env)
    try:
        deadline = time.monotonic() + 5
        while left.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left.exists() and not life.pid_file(left).exists() and own.is_file()
    finally:
        second.terminate()
        second.wait(15)
