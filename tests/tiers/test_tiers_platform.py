"""Process-group and signal choices per platform (the Windows branch is exercised here by
faking the platform and kernel32), and how Windows exit codes read. The plugin's side of
Ctrl+Break is in test_tiers_plugin.py."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import pytest

from wsdash.services.tiers import process, winjob


def test_popen_kwargs_per_platform() -> None:
    assert process.popen_kwargs("linux") == {"start_new_session": True}
    assert process.popen_kwargs("darwin") == {"start_new_session": True}
    # CREATE_NEW_PROCESS_GROUP | CREATE_SUSPENDED: resumed only once it is in its job.
    assert process.popen_kwargs("win32") == {"creationflags": 0x00000200 | 0x00000004}


def test_interrupt_and_kill_per_platform() -> None:
    assert process.interrupt_call("win32")[1] == 1  # CTRL_BREAK_EVENT to the group
    assert process.kill_call("win32") == ["taskkill", "/F", "/T", "/PID"]  # only without a job
    if hasattr(os, "killpg"):
        assert process.interrupt_call("linux") == (os.killpg, signal.SIGINT)
        assert process.kill_call("linux") == (os.killpg, signal.SIGKILL)


def test_posix_stop_path_tolerates_a_vanished_group(monkeypatch: pytest.MonkeyPatch) -> None:
    def gone(pid: int, sig: int) -> None:
        raise ProcessLookupError

    monkeypatch.setattr(process.os, "killpg", gone, raising=False)
    assert process.interrupt_tree(4242, "linux") is False
    process.kill_tree(4242, "linux")


# --------------------------------------------------------------------------------------------
# Windows: the Job Object and Ctrl+Break, against a kernel32 that records its calls


class FakeKernel32:
    """kernel32 as winjob calls it: real constant values checked, handles made up, the structs
    passed by pointer read back (as Windows would read them)."""

    JOB, PROCESS, SNAPSHOT = 0x1000, 0x2000, 0x3000

    def __init__(self, *, threads: list[tuple[int, int]] | None = None, assign_ok: bool = True, break_ok: bool = True) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.threads = threads if threads is not None else [(77, 4242), (78, 999)]  # (thread id, owner pid)
        self.assign_ok = assign_ok
        self.break_ok = break_ok
        self.limit_flags: int | None = None
        self._cursor = 0

    def CreateJobObjectW(self, attrs: Any, name: Any) -> int:
        self.calls.append(("CreateJobObjectW", attrs, name))
        return self.JOB

    def SetInformationJobObject(self, job: int, cls: int, info: Any, size: int) -> int:
        self.limit_flags = info.contents.BasicLimitInformation.LimitFlags
        self.calls.append(("SetInformationJobObject", job, cls, size))
        return 1

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int:
        self.calls.append(("OpenProcess", access, inherit, pid))
        return self.PROCESS

    def AssignProcessToJobObject(self, job: int, process: int) -> int:
        self.calls.append(("AssignProcessToJobObject", job, process))
        return 1 if self.assign_ok else 0

    def CloseHandle(self, handle: int) -> int:
        self.calls.append(("CloseHandle", handle))
        return 1

    def CreateToolhelp32Snapshot(self, flags: int, pid: int) -> int:
        self.calls.append(("CreateToolhelp32Snapshot", flags, pid))
        self._cursor = 0
        return self.SNAPSHOT

    def _fill(self, entry: Any) -> int:
        assert entry.contents.dwSize == 28  # sizeof(THREADENTRY32), set before every call
        if self._cursor >= len(self.threads):
            return 0  # ERROR_NO_MORE_FILES
        entry.contents.th32ThreadID, entry.contents.th32OwnerProcessID = self.threads[self._cursor]
        self._cursor += 1
        return 1

    def Thread32First(self, snapshot: int, entry: Any) -> int:
        return self._fill(entry)

    def Thread32Next(self, snapshot: int, entry: Any) -> int:
        return self._fill(entry)

    def OpenThread(self, access: int, inherit: bool, tid: int) -> int:
        self.calls.append(("OpenThread", access, inherit, tid))
        return 0x4000 + tid

    def ResumeThread(self, thread: int) -> int:
        self.calls.append(("ResumeThread", thread))
        return 1  # the previous suspend count

    def TerminateJobObject(self, job: int, code: int) -> int:
        self.calls.append(("TerminateJobObject", job, code))
        return 1

    def TerminateProcess(self, process: int, code: int) -> int:
        self.calls.append(("TerminateProcess", process, code))
        return 1

    def GenerateConsoleCtrlEvent(self, event: int, group: int) -> int:
        self.calls.append(("GenerateConsoleCtrlEvent", event, group))
        return 1 if self.break_ok else 0

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


def test_windows_structs_have_the_documented_layout() -> None:
    import ctypes

    pointer_size = ctypes.sizeof(ctypes.c_void_p)
    assert ctypes.sizeof(winjob.JOBOBJECT_BASIC_LIMIT_INFORMATION) == (64 if pointer_size == 8 else 48)
    assert ctypes.sizeof(winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION) == (144 if pointer_size == 8 else 112)
    assert winjob.JOBOBJECT_BASIC_LIMIT_INFORMATION.LimitFlags.offset == 16
    assert ctypes.sizeof(winjob.THREADENTRY32) == 28
    # Every function winjob calls has its signature declared (no truncated 64-bit handles).
    called = {name for name in dir(FakeKernel32) if name[0].isupper() and name not in ("JOB", "PROCESS", "SNAPSHOT")}
    assert called <= set(winjob._SIGNATURES)
    assert all(restype is not None for restype, _ in winjob._SIGNATURES.values())


def test_windows_tree_joins_a_kill_on_close_job_before_it_runs() -> None:
    k32 = FakeKernel32()
    tree = process.ProcessTree("win32", k32=k32)
    assert tree.lifeline is None  # the job does its work on Windows
    tree.adopt(4242)
    assert k32.limit_flags == 0x2000  # JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, no breakaway flag
    assert k32.calls[:6] == [
        ("CreateJobObjectW", None, None),
        ("SetInformationJobObject", k32.JOB, 9, 144 if sys.maxsize > 2**32 else 112),  # JobObjectExtendedLimitInformation
        ("OpenProcess", 0x0100 | 0x0001, False, 4242),  # PROCESS_SET_QUOTA | PROCESS_TERMINATE
        ("AssignProcessToJobObject", k32.JOB, k32.PROCESS),
        ("CloseHandle", k32.PROCESS),
        ("CreateToolhelp32Snapshot", 4, 0),  # TH32CS_SNAPTHREAD
    ]
    # Only the threads of our child are resumed (thread 78 belongs to another process).
    assert ("OpenThread", 2, False, 77) in k32.calls and ("ResumeThread", 0x4000 + 77) in k32.calls
    assert not any(c[0] == "OpenThread" and c[3] == 78 for c in k32.calls)
    assert k32.names().index("AssignProcessToJobObject") < k32.names().index("ResumeThread")

    k32.calls.clear()
    assert tree.interrupt() is True
    tree.kill()
    tree.close()
    assert k32.calls == [
        ("GenerateConsoleCtrlEvent", 1, 4242),  # CTRL_BREAK_EVENT to the group, not os.kill
        ("TerminateJobObject", k32.JOB, 1),  # the whole job, not taskkill by pid
        ("CloseHandle", k32.JOB),  # KILL_ON_JOB_CLOSE takes what is left
    ]


def test_windows_tree_without_a_job_still_runs_and_falls_back_to_taskkill(monkeypatch: pytest.MonkeyPatch) -> None:
    k32 = FakeKernel32(assign_ok=False)  # ERROR_ACCESS_DENIED: Windows 7 inside another job
    spawned: list[list[str]] = []
    monkeypatch.setattr(process.subprocess, "Popen", lambda argv, **kw: spawned.append(argv))
    tree = process.ProcessTree("win32", k32=k32)
    tree.adopt(4242)
    assert tree.job is None and tree.job_error is not None
    assert ("CloseHandle", k32.JOB) in k32.calls  # the unused job released
    assert ("ResumeThread", 0x4000 + 77) in k32.calls  # resumed all the same
    tree.kill()
    assert spawned == [["taskkill", "/F", "/T", "/PID", "4242"]]


def test_windows_child_that_cannot_be_resumed_is_killed_and_reported() -> None:
    k32 = FakeKernel32(threads=[(78, 999)])  # no thread of ours in the snapshot
    tree = process.ProcessTree("win32", k32=k32)
    with pytest.raises(OSError, match="resuming process 4242"):
        tree.adopt(4242)
    assert ("OpenProcess", 0x0001, False, 4242) in k32.calls and ("TerminateProcess", k32.PROCESS, 1) in k32.calls
    tree.close()


def test_windows_break_that_cannot_be_delivered_says_so() -> None:
    # No console shared with the child (ERROR_INVALID_HANDLE): the runner then kills at once
    # instead of waiting out the grace period for nothing.
    tree = process.ProcessTree("win32", k32=FakeKernel32(break_ok=False))
    tree.adopt(4242)
    assert tree.interrupt() is False


async def test_runner_kills_at_once_when_the_interrupt_is_not_delivered(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import time

    from wsdash.services.tiers.runner import run_tier
    from wsdash.services.tiers.spec import TierSpec

    monkeypatch.setattr(process.ProcessTree, "interrupt", lambda self: False)
    spec = TierSpec.from_table({"name": "c", "command": [sys.executable, "-c", "import time; time.sleep(120)"]})
    cancel = asyncio.Event()
    asyncio.get_running_loop().call_later(1.0, cancel.set)
    t0 = time.monotonic()
    result = await run_tier(spec, cancel=cancel, grace_s=60)
    assert result.status == "cancelled"
    assert time.monotonic() - t0 < 30  # not the 60 s grace: nothing would have come of it


# --------------------------------------------------------------------------------------------
# NTSTATUS: how Windows reports a crashed process (unsigned, as Popen.returncode has it)


@pytest.mark.parametrize(
    ("returncode", "words"),
    [
        (3221225477, "access violation (0xC0000005)"),
        (3221225725, "stack overflow (0xC00000FD)"),
        (3221225786, "Ctrl+C or Ctrl+Break (0xC000013A)"),
        (3221226505, "stack buffer overrun / fail-fast (0xC0000409)"),
        (3221226356, "heap corruption (0xC0000374)"),
        (3221225999, "NTSTATUS error (0xC000020F)"),  # an error code without a name of ours
    ],
)
def test_ntstatus_exit_codes_are_named_and_mark_a_crash(returncode: int, words: str) -> None:
    from wsdash.services.tiers.model import ST_ERROR, ST_FAILED, describe_returncode, is_crash, verdict

    assert describe_returncode(returncode) == f"killed by {words}"
    assert is_crash(returncode)
    common = dict(target=1.0, counts={"passed": 3}, returncode=returncode, exit_status=None)
    v = verdict(kind="pytest", plugin_connected=True, running=["t.py::test_x"], **common)  # type: ignore[arg-type]
    assert (v.status, v.crashed) == (ST_ERROR, True) and words in (v.message or "") and "t.py::test_x" in (v.message or "")
    v = verdict(kind="pytest", plugin_connected=False, **common)  # type: ignore[arg-type]
    assert (v.status, v.crashed) == (ST_ERROR, True) and (v.message or "").startswith("pytest crashed")
    v = verdict(kind="command", plugin_connected=False, **common)  # type: ignore[arg-type]
    assert (v.status, v.crashed) == (ST_FAILED, True) and words in (v.message or "")


@pytest.mark.parametrize("returncode", [0, 1, 2, 3, 255, 4294967295])  # 4294967295: sys.exit(-1) on Windows
def test_ordinary_exit_codes_are_not_crashes(returncode: int) -> None:
    from wsdash.services.tiers.model import describe_returncode, is_crash

    assert not is_crash(returncode) and describe_returncode(returncode) == f"exit code {returncode}"
