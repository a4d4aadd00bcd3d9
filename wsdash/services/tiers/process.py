"""Platform process control: how a tier's process tree is started (flags, environment), stopped,
and kept from outliving wsdash.

One `ProcessTree` per tier run. POSIX: the child leads a new session (``killpg`` reaches every
descendant, the terminal's signals reach only wsdash), and a lifeline process (lifeline.py) kills
the group if wsdash dies without cleaning up (kill -9). Windows: a new process group (the only
target Ctrl+Break can have) inside a kill-on-close Job Object (winjob.py), which the system
empties when wsdash's handle closes, however wsdash ends.

A tier's processes end with the tier: when pytest exits, whatever it left running in its
group or job (a server a fixture forgot) is killed too, so nothing survives wsdash either.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Callable, Mapping

from wsdash.services.tiers import lifeline, winjob

if TYPE_CHECKING:
    from wsdash.services.tiers.spec import TierSpec

# Windows constants, spelled out so that the Windows branch can be built and tested anywhere.
CREATE_NEW_PROCESS_GROUP = winjob.CREATE_NEW_PROCESS_GROUP
CREATE_SUSPENDED = winjob.CREATE_SUSPENDED
CTRL_BREAK_EVENT = winjob.CTRL_BREAK_EVENT


def is_windows(platform: str | None = None) -> bool:
    return (platform or sys.platform).startswith("win")


def popen_kwargs(platform: str | None = None) -> dict[str, Any]:
    """Start the child as the leader of its own process group.

    POSIX: a new session (so ``killpg`` reaches every descendant and the terminal's Ctrl-C
    does not). Windows: a new process group, the only target CTRL_BREAK_EVENT can have, and
    suspended until it is in its job (ProcessTree.adopt resumes it).
    """
    if is_windows(platform):
        return {"creationflags": CREATE_NEW_PROCESS_GROUP | CREATE_SUSPENDED}
    return {"start_new_session": True}


def interrupt_call(platform: str | None = None) -> tuple[Callable[[int, int], Any], int]:
    """(function, signal) that asks the whole group to stop like Ctrl-C: f(pid, sig)."""
    if is_windows(platform):
        # The plugin's console handler turns the break into SIGINT (KeyboardInterrupt).
        return (lambda pid, _sig: winjob.send_ctrl_break(pid)), CTRL_BREAK_EVENT
    return getattr(os, "killpg"), int(signal.SIGINT)


def kill_call(platform: str | None = None) -> tuple[Callable[[int, int], None], int] | list[str]:
    """How to kill a group without a job: (killpg, SIGKILL) on POSIX, a taskkill argv on Windows."""
    if is_windows(platform):
        return ["taskkill", "/F", "/T", "/PID"]
    return getattr(os, "killpg"), int(getattr(signal, "SIGKILL", 9))


def interrupt_tree(pid: int, platform: str | None = None) -> bool:
    """Ctrl-C for the group led by `pid`; False when it could not be delivered."""
    func, sig = interrupt_call(platform)
    try:
        return func(pid, sig) is not False
    except OSError:  # ProcessLookupError, PermissionError, a Windows error
        return False


def kill_tree(pid: int, platform: str | None = None) -> None:
    how = kill_call(platform)
    if isinstance(how, list):
        # Windows without a job (it could not be created): /T takes the children too, as long as
        # the parent is still there. Started, not awaited: waiting for taskkill here would
        # freeze the event loop (and the dashboard).
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


# Disarmed lifelines on their way out: reaped (poll) at the next start, never waited for in the
# event loop, and referenced until then (a collected running Popen warns).
_exiting: list[subprocess.Popen[bytes]] = []


def start_lifeline() -> subprocess.Popen[bytes] | None:
    """The POSIX lifeline (lifeline.py), or None where it cannot start (then only kill -9 of
    wsdash itself can leave the tree behind)."""
    _exiting[:] = [p for p in _exiting if p.poll() is None]
    if not sys.executable:
        return None
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-S", lifeline.__file__],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None


class ProcessTree:
    """Start flags, stop and clean-up of one tier's process tree.

    Use: ``tree = ProcessTree()``, spawn with ``**tree.popen_kwargs()``, then ``tree.adopt(pid)``
    at once; ``interrupt()``/``kill()`` to stop it; ``close()`` when the tier is over (always).
    """

    def __init__(self, platform: str | None = None, *, k32: Any = None) -> None:
        self.platform = platform
        self.windows = is_windows(platform)
        self.k32 = k32  # kernel32 override (tests); None: the real one, on Windows only
        self.pid: int | None = None
        self.job: winjob.Job | None = None
        self.job_error: OSError | None = None  # why the tree is not in a job (Windows)
        # Before the child exists: a wsdash killed right after the spawn must still find it armed.
        self.lifeline = None if self.windows else start_lifeline()

    def popen_kwargs(self) -> dict[str, Any]:
        return popen_kwargs(self.platform)

    def adopt(self, pid: int) -> None:
        """Right after the spawn. Windows: into the job, then resumed. Raises OSError (the child
        killed) only when it cannot be resumed."""
        self.pid = pid
        if not self.windows:
            if self.lifeline is not None and self.lifeline.stdin is not None:
                with suppress(OSError):
                    self.lifeline.stdin.write(b"%d\n" % pid)
                    self.lifeline.stdin.flush()
            return
        try:
            self.job = winjob.Job(self.k32)
            self.job.assign(pid)
        except OSError as exc:  # no job: stopping falls back to taskkill by pid
            self.job_error = exc
            if self.job is not None:
                self.job.close()
                self.job = None
        try:
            winjob.resume_process(pid, self.k32)
        except OSError:
            winjob.terminate_process(pid, self.k32)
            raise

    def interrupt(self) -> bool:
        """Ask the tree to stop like Ctrl-C (pytest prints its partial summary); False when the
        request could not be delivered (then waiting for it is pointless)."""
        if self.pid is None:
            return False
        if self.windows:
            try:
                return winjob.send_ctrl_break(self.pid, self.k32)
            except OSError:
                return False
        return interrupt_tree(self.pid, self.platform)

    def kill(self) -> None:
        """End the whole tree now."""
        if self.pid is None:
            return
        if self.job is not None:
            self.job.terminate()
        else:
            kill_tree(self.pid, self.platform)

    def close(self) -> None:
        """The tier is over: kill what it left behind, release the job, disarm the lifeline."""
        if self.pid is not None:
            if self.job is not None:
                self.job.close()  # KILL_ON_JOB_CLOSE takes whatever is left
                self.job = None
            elif not self.windows:
                # After the leader exited the group id stays reserved while any member lives.
                kill_tree(self.pid, self.platform)
        lifeline_proc, self.lifeline = self.lifeline, None
        if lifeline_proc is not None:
            with suppress(OSError, ValueError):
                assert lifeline_proc.stdin is not None
                lifeline_proc.stdin.write(lifeline.DONE + b"\n")
                lifeline_proc.stdin.close()
            if lifeline_proc.poll() is None:  # it exits at the EOF just written
                _exiting.append(lifeline_proc)


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
