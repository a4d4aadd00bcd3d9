"""Windows: a tier's process tree in a Job Object, and Ctrl+Break sent to its process group.

Why a job: `taskkill /T /PID` walks the tree from a parent that must still be alive (after pytest
exited it reaches nothing, or a reused pid), and nothing at all runs when wsdash itself is killed.
A job with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE and no breakaway flag holds every descendant; the
system kills them all when wsdash's handle to it closes, however wsdash ends (Task Manager,
`taskkill /F`, a crash), and TerminateJobObject ends the tree on demand.

Race-free: the child starts CREATE_SUSPENDED, joins the job, and only then runs (every thread of
it is resumed through a Toolhelp32 snapshot, the documented way: subprocess discards the primary
thread's handle). A venv's `Scripts\\python.exe` is a launcher that starts the real interpreter:
suspended, it cannot do so before it is in the job.

Ctrl+Break is sent with GenerateConsoleCtrlEvent through ctypes, not os.kill: os.kill falls
through to TerminateProcess when the event fails (CPython gh-58689: SystemError and a dead pid).

Struct layouts use fixed-width types (DWORD = c_uint32, SIZE_T = c_size_t), so they are built and
checked anywhere; the DLL is loaded only on Windows. Sources: /work/wt/windows-research.md items
1-2 (winnt.h JOBOBJECT_*_LIMIT_INFORMATION, tlhelp32.h THREADENTRY32, the MS Learn pages of each
function).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

CTRL_BREAK_EVENT = 1
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_SUSPENDED = 0x00000004
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9  # JobObjectExtendedLimitInformation
PROCESS_TERMINATE = 0x0001
PROCESS_SET_QUOTA = 0x0100  # AssignProcessToJobObject needs both
TH32CS_SNAPTHREAD = 0x00000004
THREAD_SUSPEND_RESUME = 0x0002
RESUME_FAILED = 0xFFFFFFFF  # ResumeThread's (DWORD)-1
INVALID_HANDLE_VALUE = ctypes.c_void_p(-1).value
KILLED_EXIT_CODE = 1  # what TerminateProcess by Task Manager / taskkill /F gives too

_DWORD = ctypes.c_uint32
_BOOL = ctypes.c_int32
_HANDLE = ctypes.c_void_p


class IO_COUNTERS(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
        "ReadTransferCount", "WriteTransferCount", "OtherTransferCount",
    )]


class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", _DWORD),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", _DWORD),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", _DWORD),
        ("SchedulingClass", _DWORD),
    ]


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION),
        ("IoInfo", IO_COUNTERS),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


class THREADENTRY32(ctypes.Structure):
    _fields_ = [
        ("dwSize", _DWORD),
        ("cntUsage", _DWORD),
        ("th32ThreadID", _DWORD),
        ("th32OwnerProcessID", _DWORD),
        ("tpBasePri", ctypes.c_int32),
        ("tpDeltaPri", ctypes.c_int32),
        ("dwFlags", _DWORD),
    ]


# name: (restype, argtypes). Every one set: without a restype ctypes truncates 64-bit handles.
_SIGNATURES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "CreateJobObjectW": (_HANDLE, (ctypes.c_void_p, ctypes.c_wchar_p)),
    "SetInformationJobObject": (_BOOL, (_HANDLE, ctypes.c_int, ctypes.c_void_p, _DWORD)),
    "AssignProcessToJobObject": (_BOOL, (_HANDLE, _HANDLE)),
    "TerminateJobObject": (_BOOL, (_HANDLE, ctypes.c_uint32)),
    "OpenProcess": (_HANDLE, (_DWORD, _BOOL, _DWORD)),
    "TerminateProcess": (_BOOL, (_HANDLE, ctypes.c_uint32)),
    "CloseHandle": (_BOOL, (_HANDLE,)),
    "CreateToolhelp32Snapshot": (_HANDLE, (_DWORD, _DWORD)),
    "Thread32First": (_BOOL, (_HANDLE, ctypes.c_void_p)),
    "Thread32Next": (_BOOL, (_HANDLE, ctypes.c_void_p)),
    "OpenThread": (_HANDLE, (_DWORD, _BOOL, _DWORD)),
    "ResumeThread": (_DWORD, (_HANDLE,)),
    "GenerateConsoleCtrlEvent": (_BOOL, (_DWORD, _DWORD)),
}

_kernel32: Any = None


def kernel32() -> Any:
    """kernel32 with every function's signature set (Windows only; loaded once)."""
    global _kernel32
    if _kernel32 is None:
        dll = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        for name, (restype, argtypes) in _SIGNATURES.items():
            func = getattr(dll, name)
            func.restype, func.argtypes = restype, argtypes
        _kernel32 = dll
    return _kernel32


def _last_error(what: str) -> OSError:
    code = ctypes.get_last_error() if sys.platform == "win32" else 0
    return OSError(f"{what} failed (Windows error {code})")


class Job:
    """A kill-on-close Job Object holding one tier's tree. `k32` is injectable for tests."""

    def __init__(self, k32: Any = None) -> None:
        self.k32 = k32 if k32 is not None else kernel32()
        handle = self.k32.CreateJobObjectW(None, None)  # unnamed, not inheritable
        if not handle:
            raise _last_error("CreateJobObjectW")
        self.handle: int | None = handle
        info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
        # KILL_ON_JOB_CLOSE and nothing else: no BREAKAWAY_OK / SILENT_BREAKAWAY_OK, so every
        # descendant stays in (a nested job of the venv launcher's included).
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        if not self.k32.SetInformationJobObject(handle, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS, ctypes.pointer(info), ctypes.sizeof(info)):
            error = _last_error("SetInformationJobObject")
            self.close()
            raise error

    def assign(self, pid: int) -> None:
        process = self.k32.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, False, pid)
        if not process:
            raise _last_error(f"OpenProcess({pid})")
        try:
            if not self.k32.AssignProcessToJobObject(self.handle, process):
                # ERROR_ACCESS_DENIED (5): Windows 7 and a parent job without nesting.
                raise _last_error("AssignProcessToJobObject")
        finally:
            self.k32.CloseHandle(process)

    def terminate(self, exit_code: int = KILLED_EXIT_CODE) -> bool:
        """Kill every process in the job now (each exits with `exit_code`)."""
        if self.handle is None:
            return False
        return bool(self.k32.TerminateJobObject(self.handle, exit_code))

    def close(self) -> None:
        """Release the handle: whatever is still in the job dies with it (KILL_ON_JOB_CLOSE)."""
        if self.handle is not None:
            handle, self.handle = self.handle, None
            self.k32.CloseHandle(handle)


def resume_process(pid: int, k32: Any = None) -> int:
    """Resume every thread of a process started CREATE_SUSPENDED; the number resumed."""
    k32 = k32 if k32 is not None else kernel32()
    snapshot = k32.CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0)
    if not snapshot or snapshot == INVALID_HANDLE_VALUE:
        raise _last_error("CreateToolhelp32Snapshot")
    resumed = 0
    try:
        entry = THREADENTRY32()
        entry.dwSize = ctypes.sizeof(THREADENTRY32)
        more = k32.Thread32First(snapshot, ctypes.pointer(entry))
        while more:
            if entry.th32OwnerProcessID == pid:
                thread = k32.OpenThread(THREAD_SUSPEND_RESUME, False, entry.th32ThreadID)
                if thread:
                    try:
                        if k32.ResumeThread(thread) != RESUME_FAILED:
                            resumed += 1
                    finally:
                        k32.CloseHandle(thread)
            entry.dwSize = ctypes.sizeof(THREADENTRY32)
            more = k32.Thread32Next(snapshot, ctypes.pointer(entry))
    finally:
        k32.CloseHandle(snapshot)
    if not resumed:
        raise _last_error(f"resuming process {pid}")
    return resumed


def terminate_process(pid: int, k32: Any = None) -> None:
    """Kill one process by pid (a suspended child that could not be resumed)."""
    k32 = k32 if k32 is not None else kernel32()
    process = k32.OpenProcess(PROCESS_TERMINATE, False, pid)
    if process:
        try:
            k32.TerminateProcess(process, KILLED_EXIT_CODE)
        finally:
            k32.CloseHandle(process)


def send_ctrl_break(group_pid: int, k32: Any = None) -> bool:
    """CTRL_BREAK_EVENT to the process group led by `group_pid` (started CREATE_NEW_PROCESS_GROUP).

    False when it cannot be delivered: no console shared with the child (ERROR_INVALID_HANDLE 6,
    wsdash under pythonw or a service) or no such group (ERROR_INVALID_PARAMETER 87).
    """
    k32 = k32 if k32 is not None else kernel32()
    return bool(k32.GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, group_pid))
