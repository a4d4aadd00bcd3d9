"""Platform process control: how a tier's process tree is started (flags, environment) and stopped."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    from wsdash.services.tiers.spec import TierSpec

# Windows constants, spelled out so that the Windows branch can be built and tested anywhere.
CREATE_NEW_PROCESS_GROUP = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x00000200)
CTRL_BREAK_EVENT = getattr(signal, "CTRL_BREAK_EVENT", 1)


def is_windows(platform: str | None = None) -> bool:
    return (platform or sys.platform).startswith("win")


def popen_kwargs(platform: str | None = None) -> dict[str, Any]:
    """Start the child as the leader of its own process group.

    POSIX: a new session (so ``killpg`` reaches every descendant and the terminal's Ctrl-C
    does not). Windows: a new process group, the only target CTRL_BREAK_EVENT can have.
    """
    if is_windows(platform):
        return {"creationflags": CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def interrupt_call(platform: str | None = None) -> tuple[Callable[[int, int], None], int]:
    """(function, signal) that asks the whole group to stop like Ctrl-C: f(pid, sig)."""
    if is_windows(platform):
        # os.kill with CTRL_BREAK_EVENT calls GenerateConsoleCtrlEvent for the group `pid`;
        # the plugin turns SIGBREAK into KeyboardInterrupt.
        return os.kill, CTRL_BREAK_EVENT
    return getattr(os, "killpg"), int(signal.SIGINT)


def kill_call(platform: str | None = None) -> tuple[Callable[[int, int], None], int] | list[str]:
    """How to kill the tree for good: (killpg, SIGKILL) on POSIX, a taskkill argv on Windows."""
    if is_windows(platform):
        return ["taskkill", "/F", "/T", "/PID"]
    return getattr(os, "killpg"), int(getattr(signal, "SIGKILL", 9))


def interrupt_tree(pid: int, platform: str | None = None) -> None:
    func, sig = interrupt_call(platform)
    with suppress(ProcessLookupError, PermissionError, OSError):
        func(pid, sig)


def kill_tree(pid: int, platform: str | None = None) -> None:
    how = kill_call(platform)
    if isinstance(how, list):
        # Windows: /T takes the children too, as long as the parent is still there. Started, not
        # awaited: waiting for taskkill here would freeze the event loop (and the dashboard).
        with suppress(OSError, subprocess.SubprocessError):
            subprocess.Popen([*how, str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return
    func, sig = how
    # ProcessLookupError: the group is gone already. PermissionError: macOS says so for a
    # group whose only members are zombies.
    with suppress(ProcessLookupError, PermissionError):
        func(pid, sig)


def resolve_program(program: str, cwd: str | None, env: Mapping[str, str]) -> str:
    """argv[0] found the way POSIX exec finds it, on every OS: a bare name through the child's PATH
    (on Windows with PATHEXT, so `npm` is `npm.cmd`, which CreateProcess alone would not find), a
    relative path from the tier's working directory (CreateProcess would take wsdash's own)."""
    if os.path.isabs(program):
        return program
    if os.sep in program or (os.altsep is not None and os.altsep in program):
        return os.path.normpath(os.path.join(cwd or os.getcwd(), program))
    return shutil.which(program, path=env.get("PATH", os.defpath)) or program


def build_env(spec: TierSpec, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ, then the tier's env; UTF-8 and unbuffered output unless the tier says otherwise."""
    env = dict(os.environ if base is None else base)
    env.update(spec.env)
    # wsdash decodes the child's output as UTF-8; without this a Windows pipe is cp1252 and a
    # unicode test id crashes pytest's terminal writer.
    env.setdefault("PYTHONIOENCODING", "utf-8")
    # Unbuffered: the last lines before a crash (os._exit, SIGKILL) are the ones that matter.
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env

