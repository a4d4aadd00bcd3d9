"""Test tiers: what a tier produced (TestResult, TierResult) and the verdict (what a tier is: spec.py).

Everything here is plain data and pure functions, so the CLI, the JSON output, the JUnit writer
and the dashboard all judge a run the same way. No asyncio, no subprocess: see runner.py.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from wsdash.core import exit_codes
from wsdash.services.tiers.skips import SkipReport
from wsdash.services.tiers.spec import KIND_COMMAND, TierSpec

# Outcomes are pytest's own summary categories, so counts compare 1:1 with its summary line.
PASSED, FAILED, SKIPPED, XFAILED, XPASSED, ERROR = "passed", "failed", "skipped", "xfailed", "xpassed", "error"
OUTCOMES = (PASSED, FAILED, SKIPPED, XFAILED, XPASSED, ERROR)
FAILING_OUTCOMES = frozenset({FAILED, ERROR})

# Tier statuses.
ST_PASSED, ST_FAILED, ST_BLOCKED, ST_ERROR, ST_CANCELLED, ST_TIMEOUT = (
    "passed", "failed", "blocked", "error", "cancelled", "timeout",
)
STATUSES = (ST_PASSED, ST_FAILED, ST_BLOCKED, ST_ERROR, ST_CANCELLED, ST_TIMEOUT)

# pytest.ExitCode, spelled out so that this module need not import pytest.
PYTEST_EXIT_MEANINGS = {
    0: "all tests passed",
    1: "tests failed",
    2: "interrupted or collection error",
    3: "pytest internal error",
    4: "pytest usage error",
    5: "no tests collected",
}

# --------------------------------------------------------------------------------------------
# Results


@dataclass
class TestResult:
    """One report pytest counts: a test's outcome, or a setup/teardown/collection error.

    A test that passes and then errors in teardown yields two results (passed, then error),
    exactly as pytest counts it ("1 passed, 1 error").
    """

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str
    phase: str = "call"  # setup | call | teardown | collect
    # The phase's duration; on a test's first result it becomes the whole test's (setup + call
    # + teardown) once the test has finished.
    duration_s: float = 0.0
    message: str = ""  # one line: exception, skip or xfail reason
    longrepr: str = ""  # traceback (failures and errors only, truncated)
    output: str = ""  # captured stdout/stderr/log (failures and errors only, truncated)
    finished_at: float | None = None  # time.time() in pytest when it sent the result
    received_at: float | None = None  # time.time() in wsdash when the result arrived
    no_skip: bool = False  # carries the tier's no-skip marker (set on skipped results only)

    @property
    def failing(self) -> bool:
        """A failure, an error, or a no_skip test that skipped (it validated nothing it must)."""
        return self.outcome in FAILING_OUTCOMES or (self.no_skip and self.outcome == SKIPPED)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "nodeid": self.nodeid,
            "outcome": self.outcome,
            "phase": self.phase,
            "duration_s": round(self.duration_s, 6),
            "message": self.message,
        }
        if self.outcome in FAILING_OUTCOMES:
            d["traceback"] = self.longrepr
            d["output"] = self.output
        if self.no_skip:
            d["no_skip"] = True
        return d


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(OUTCOMES, 0)


def pass_rate(counts: Mapping[str, int], no_skip_failures: int = 0) -> float | None:
    """passed / (passed + failed + error + no_skip tests that did not run); other skips, xfails
    and xpasses do not count (what ran is shown next to it); None if 0/0."""
    denominator = counts.get(PASSED, 0) + counts.get(FAILED, 0) + counts.get(ERROR, 0) + no_skip_failures
    if denominator == 0:
        return None
    return counts.get(PASSED, 0) / denominator


def target_met(rate: float | None, target: float) -> bool | None:
    # A tiny epsilon: 19/20 is 0.95 but float division may land just below it.
    return None if rate is None else rate + 1e-12 >= target


# Windows reports a process killed by an exception as its NTSTATUS code, unsigned
# (GetExitCodeProcess): 0xC0000005 is returncode 3221225477. No POSIX exit code is that large.
NTSTATUS_NAMES = {
    0xC0000005: "access violation",
    0xC0000006: "in-page error",
    0xC000000D: "invalid parameter",
    0xC0000017: "out of memory",
    0xC000001D: "illegal instruction",
    0xC000007B: "invalid image format",
    0xC0000094: "integer divide by zero",
    0xC00000FD: "stack overflow",
    0xC0000135: "DLL not found",
    0xC0000139: "entry point not found",
    0xC000013A: "Ctrl+C or Ctrl+Break",
    0xC0000142: "DLL initialization failed",
    0xC0000374: "heap corruption",
    0xC0000409: "stack buffer overrun / fail-fast",
    0x80000003: "breakpoint",
    0xE06D7363: "unhandled C++ exception",
}


def ntstatus(rc: int | None) -> str | None:
    """The name and code of a Windows crash ("access violation (0xC0000005)"), else None."""
    if rc is None or rc < 0x80000000:
        return None
    code = rc & 0xFFFFFFFF
    name = NTSTATUS_NAMES.get(code)
    if name is None and not 0xC0000000 <= code <= 0xCFFFFFFF:  # sys.exit(-1) is 0xFFFFFFFF: no crash
        return None
    return f"{name or 'NTSTATUS error'} (0x{code:08X})"


def is_crash(rc: int | None) -> bool:
    """Killed by a signal (POSIX) or by an exception (Windows NTSTATUS)."""
    return rc is not None and (rc < 0 or ntstatus(rc) is not None)


def describe_returncode(rc: int | None) -> str:
    if rc is None:
        return "did not exit"
    if rc < 0:
        try:
            return f"killed by signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    status = ntstatus(rc)
    if status is not None:
        return f"killed by {status}"
    return f"exit code {rc}"


@dataclass
class TierResult:
    name: str
    title: str
    kind: str
    status: str
    target: float
    counts: dict[str, int] = field(default_factory=empty_counts)
    pass_rate: float | None = None
    target_met: bool | None = None
    duration_s: float = 0.0
    exit_code: int | None = None  # pytest's exit status (or the command's return code)
    returncode: int | None = None  # the process's own return code (negative: killed by signal)
    collected: int | None = None
    deselected: int = 0
    tests: list[TestResult] = field(default_factory=list)
    blocked_by: str | None = None
    message: str | None = None
    crashed: bool = False
    last_output: list[str] = field(default_factory=list)
    only_nodeids: list[str] | None = None  # set for a rerun of selected (failed) tests
    running: list[str] = field(default_factory=list)  # started, never finished (crash, stop)
    argv: list[str] = field(default_factory=list)
    started: bool = False  # a process was started (False: blocked, cancelled before its turn, spawn failed)
    session_ended: bool = False  # pytest reported the end of its session (not crashed or killed first)
    skips: SkipReport | None = None  # what ran and what skipped, why (pytest tiers that started)
    on_target: str | None = None  # run with --target: the target the tier was pointed at

    @property
    def ran(self) -> int | None:
        return self.skips.ran if self.skips is not None else None

    @property
    def skipped(self) -> int:
        return self.counts.get(SKIPPED, 0)

    @property
    def failed_nodeids(self) -> list[str]:
        """Node ids with a failed or error report, or a no_skip test that skipped, in the order
        they happened (for rerun)."""
        seen: dict[str, None] = {}
        for t in self.tests:
            if t.failing:
                seen.setdefault(t.nodeid, None)
        return list(seen)

    @property
    def ok_nodeids(self) -> set[str]:
        """Node ids that got a verdict and none of it failing."""
        failing = set(self.failed_nodeids)
        return {t.nodeid for t in self.tests} - failing

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "status": self.status,
            "target": self.target,
            "pass_rate": None if self.pass_rate is None else round(self.pass_rate, 6),
            "target_met": self.target_met,
            "counts": dict(self.counts),
            "collected": self.collected,
            "deselected": self.deselected,
            "duration_s": round(self.duration_s, 3),
            "exit_code": self.exit_code,
            "returncode": self.returncode,
            "crashed": self.crashed,
            "ran": self.ran,
            "skipped": self.skipped,
            "total": self.skips.total if self.skips is not None else None,
            "skips": self.skips.to_dict() if self.skips is not None else None,
            "tests": [t.to_dict() for t in self.tests],
        }
        if self.on_target is not None:
            d["on_target"] = self.on_target
        if self.blocked_by is not None:
            d["blocked_by"] = self.blocked_by
        if self.message:
            d["message"] = self.message
        if self.only_nodeids is not None:
            d["rerun_of"] = list(self.only_nodeids)
        if self.running:
            d["running"] = list(self.running)
        if self.status in (ST_ERROR, ST_TIMEOUT, ST_CANCELLED) or (self.kind == KIND_COMMAND and self.status == ST_FAILED):
            d["last_output"] = list(self.last_output)
        return d


def not_run(spec: TierSpec, status: str, message: str, *, blocked_by: str | None = None) -> TierResult:
    """A tier that did not start: blocked by a required target, or cancelled before its turn."""
    return TierResult(
        name=spec.name, title=spec.title, kind=spec.kind, status=status, target=spec.target,
        blocked_by=blocked_by, message=message,
    )


# --------------------------------------------------------------------------------------------
# TierVerdict


@dataclass(frozen=True)
class TierVerdict:
    status: str
    target_met: bool | None
    message: str | None
    crashed: bool = False


def verdict(
    *,
    kind: str,
    target: float,
    counts: Mapping[str, int],
    returncode: int | None,
    exit_status: int | None,
    plugin_connected: bool,
    stopped_by: str | None = None,
    timeout_s: float | None = None,
    running: Sequence[str] = (),
    skips: SkipReport | None = None,
) -> TierVerdict:
    """Judge a finished tier run.

    `returncode` is the process's return code; `exit_status` is pytest's own exit status from
    the session-end event (None when pytest never got there: crash, kill, early failure).
    `stopped_by` is "cancel" or "timeout" when wsdash stopped the run. `skips` (what ran) fails
    a tier that broke its skip limits or whose no_skip tests did not run.

    The target is "met" only by a tier that passed: a timeout, a crash or a skipped suite never
    reads "target met", whatever the share of the results that did arrive.
    """
    v = _verdict(kind, target, counts, returncode, exit_status, plugin_connected, stopped_by, timeout_s, running, skips)
    if v.status != ST_PASSED and v.target_met:
        v = TierVerdict(v.status, False, v.message, v.crashed)
    return v


def _verdict(
    kind: str, target: float, counts: Mapping[str, int], returncode: int | None, exit_status: int | None,
    plugin_connected: bool, stopped_by: str | None, timeout_s: float | None, running: Sequence[str], skips: SkipReport | None,
) -> TierVerdict:
    rate = pass_rate(counts, skips.no_skip_count if skips is not None else 0)
    met = target_met(rate, target)
    finished = sum(counts.values())
    while_running = f" while running {running[0]}" + (f" (and {len(running) - 1} more)" if len(running) > 1 else "") if running else ""
    if stopped_by == "cancel":
        return TierVerdict(ST_CANCELLED, None, f"cancelled after {finished} result(s){while_running}")
    if stopped_by == "timeout":
        limit = f" of {timeout_s:g} s" if timeout_s else ""
        return TierVerdict(ST_TIMEOUT, None, f"timeout{limit} reached after {finished} result(s){while_running}; process tree stopped")

    if kind == KIND_COMMAND:
        if returncode == 0:
            return TierVerdict(ST_PASSED, True, None)
        return TierVerdict(ST_FAILED, False, f"command failed: {describe_returncode(returncode)}", crashed=is_crash(returncode))

    if exit_status is None:
        if is_crash(returncode):
            return TierVerdict(ST_ERROR, None, f"pytest crashed: {describe_returncode(returncode)}{while_running}", crashed=True)
        if plugin_connected:
            # Started the session, never ended it: os._exit, a segfault turned exit code, ...
            return TierVerdict(ST_ERROR, None, f"pytest crashed: {describe_returncode(returncode)} before the end of the session{while_running}", crashed=True)
        if returncode in (2, 3, 4, 5):
            return TierVerdict(ST_ERROR, None, f"pytest failed to start: {PYTEST_EXIT_MEANINGS[returncode]} (exit code {returncode})")
        return TierVerdict(
            ST_ERROR, None,
            f"no live results from pytest ({describe_returncode(returncode)}): the wsdash plugin did not load or connect",
            crashed=returncode not in (0, 1),
        )

    code = exit_status
    base = _judged(code, counts, rate, met)
    violations = list(skips.violations) if skips is not None else []
    if base.status in (ST_PASSED, ST_FAILED) and violations:
        said = "; ".join([*violations, *([base.message] if base.message and base.status == ST_FAILED else [])])
        return TierVerdict(ST_FAILED, False, said)
    return base


def _judged(code: int, counts: Mapping[str, int], rate: float | None, met: bool | None) -> TierVerdict:
    """The verdict from pytest's exit status and the pass rate, before the skip rules."""
    failing = counts.get(FAILED, 0) + counts.get(ERROR, 0)
    if code == 0:
        if rate is None:
            return TierVerdict(ST_PASSED, None, "no test passed or failed (all skipped or xfailed): pass rate n/a")
        return TierVerdict(ST_PASSED if met else ST_FAILED, met, None)
    if code == 1:
        if rate is None or failing == 0:
            return TierVerdict(ST_FAILED, False if met is None else met, "pytest reported failure (exit code 1) without a failing test")
        if met:
            return TierVerdict(ST_PASSED, True, f"target met despite {failing} failing result(s)")
        return TierVerdict(ST_FAILED, False, None)
    if code == 2:
        ran_tests = counts.get(PASSED, 0) + counts.get(FAILED, 0) + counts.get(XFAILED, 0) + counts.get(XPASSED, 0)
        if counts.get(ERROR, 0) and not ran_tests:
            return TierVerdict(ST_ERROR, False, f"{counts[ERROR]} error(s) during collection: no test ran (exit code 2)")
        return TierVerdict(ST_ERROR, met, "pytest was interrupted (exit code 2)")
    if code in PYTEST_EXIT_MEANINGS:
        return TierVerdict(ST_ERROR, met, f"{PYTEST_EXIT_MEANINGS[code]} (exit code {code})")
    return TierVerdict(ST_ERROR, met, f"unexpected pytest exit status {code}")


def _says_why(line: str) -> bool:
    """pytest's reason for giving up: "ERROR: file or directory not found: …", or argparse's
    "…: error: unrecognized arguments: …" (not the "ERROR: usage: …" synopsis before it)."""
    return (line.startswith("ERROR:") and not line.startswith("ERROR: usage:")) or ": error: " in line


def with_pytest_words(message: str | None, tail: Sequence[str], connected: bool) -> str | None:
    """An error verdict's message with why in the headline: pytest's own "ERROR: file or
    directory not found: …" line, or, when it never got going, its last words ("No module named pytest")."""
    said = next((line.strip() for line in tail if _says_why(line.strip())), None)
    if said is None and not connected:
        said = next((line.strip() for line in reversed(tail) if line.strip()), None)
    return f"{message} — {said[:300]}" if said else message


def exit_code_for(results: Sequence[TierResult]) -> int:
    """0 only when every tier passed (met its target) except blocked ones, and one at least ran.

    A blocked tier ran nothing, so it neither passes nor fails the run (its status says why);
    a tier cancelled before its turn or that could not start does fail it.
    """
    considered = [r for r in results if r.status != ST_BLOCKED]
    if not considered:
        return exit_codes.FAILED
    return exit_codes.OK if all(r.status == ST_PASSED for r in considered) else exit_codes.FAILED
