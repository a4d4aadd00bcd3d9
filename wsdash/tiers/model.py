"""Test tiers: what a tier is (TierSpec), what it produced (TestResult, TierResult), the verdict.

Everything here is plain data and pure functions, so the CLI, the JSON output, the JUnit writer
and the dashboard all judge a run the same way. No asyncio, no subprocess: see runner.py.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

# Outcomes are pytest's own summary categories, so counts compare 1:1 with its summary line.
PASSED, FAILED, SKIPPED, XFAILED, XPASSED, ERROR = "passed", "failed", "skipped", "xfailed", "xpassed", "error"
OUTCOMES = (PASSED, FAILED, SKIPPED, XFAILED, XPASSED, ERROR)
FAILING_OUTCOMES = frozenset({FAILED, ERROR})

# Tier statuses.
ST_PASSED, ST_FAILED, ST_BLOCKED, ST_ERROR, ST_CANCELLED, ST_TIMEOUT = (
    "passed", "failed", "blocked", "error", "cancelled", "timeout",
)
STATUSES = (ST_PASSED, ST_FAILED, ST_BLOCKED, ST_ERROR, ST_CANCELLED, ST_TIMEOUT)

KIND_PYTEST, KIND_COMMAND = "pytest", "command"

# pytest.ExitCode, spelled out so that this module need not import pytest.
PYTEST_EXIT_MEANINGS = {
    0: "all tests passed",
    1: "tests failed",
    2: "interrupted or collection error",
    3: "pytest internal error",
    4: "pytest usage error",
    5: "no tests collected",
}

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KEYS = ("name", "title", "pytest", "command", "python", "cwd", "env", "target", "requires", "timeout_s")


# --------------------------------------------------------------------------------------------
# TierSpec


@dataclass(frozen=True)
class TierSpec:
    """One tier: a pytest selection (live per-test results) or an opaque command (exit code)."""

    name: str
    title: str
    pytest: tuple[str, ...] | None = None
    command: tuple[str, ...] | None = None
    python: str = field(default_factory=lambda: sys.executable)
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    target: float = 1.0
    requires: tuple[str, ...] = ()
    timeout_s: float | None = None

    @property
    def kind(self) -> str:
        return KIND_PYTEST if self.pytest is not None else KIND_COMMAND

    def argv(self) -> list[str]:
        """The command line, without wsdash's plugin arguments (for display and for running)."""
        if self.pytest is not None:
            return [self.python, "-m", "pytest", *self.pytest]
        assert self.command is not None
        return list(self.command)

    def display_command(self) -> str:
        if self.pytest is not None:
            return shlex.join(["pytest", *self.pytest])
        return shlex.join(self.argv())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "pytest": list(self.pytest) if self.pytest is not None else None,
            "command": list(self.command) if self.command is not None else None,
            "python": self.python,
            "cwd": self.cwd,
            "env": sorted(self.env),  # names only: values may be secrets
            "target": self.target,
            "requires": list(self.requires),
            "timeout_s": self.timeout_s,
        }

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None) -> TierSpec:
        """Build a tier from one ``[[tiers]]`` table; a relative `cwd` is taken from `base_dir`.

        Raises ValueError whose message names the tier and the key, and says what is expected.
        """
        if not isinstance(table, Mapping):
            raise ValueError(f"a tier must be a table, got {type(table).__name__}")
        raw_name = table.get("name")
        where = f"tier {raw_name!r}" if isinstance(raw_name, str) and raw_name else "tier"
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(_KEYS)}")
        if not isinstance(raw_name, str) or not _NAME_RE.match(raw_name):
            raise ValueError(
                f"{where}: 'name' is required: letters, digits, '-', '_' or '.', e.g. name = \"unit\" "
                f"(got {raw_name!r})"
            )
        name = raw_name
        title = table.get("title", name)
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"{where}: 'title' must be a non-empty string, got {title!r}")

        has_pytest, has_command = "pytest" in table, "command" in table
        if has_pytest == has_command:
            raise ValueError(
                f"{where}: give exactly one of 'pytest' (arguments for python -m pytest, e.g. "
                f"pytest = [\"tests/unit\"]) or 'command' (a program and its arguments)"
                + (" — not both" if has_pytest else "")
            )
        pytest_args = _str_list(table["pytest"], f"{where}: 'pytest'", allow_empty=True) if has_pytest else None
        command = _str_list(table["command"], f"{where}: 'command'", allow_empty=False) if has_command else None

        python = table.get("python", sys.executable)
        if not isinstance(python, str) or not python:
            raise ValueError(f"{where}: 'python' must be the path of an interpreter, got {python!r}")
        if has_command and "python" in table:
            raise ValueError(f"{where}: 'python' applies to pytest tiers only; put the interpreter in 'command'")

        cwd = table.get("cwd")
        if cwd is not None:
            if not isinstance(cwd, str) or not cwd:
                raise ValueError(f"{where}: 'cwd' must be a directory path, got {cwd!r}")
            cwd = os.path.expanduser(cwd)
            if base_dir is not None and not os.path.isabs(cwd):
                cwd = os.path.normpath(os.path.join(os.fspath(base_dir), cwd))

        env = table.get("env", {})
        if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise ValueError(f"{where}: 'env' must be a table of strings, e.g. env = {{ DEBUG = \"1\" }}")

        target = table.get("target", 1.0)
        if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0.0 <= float(target) <= 1.0:
            hint = ""
            if isinstance(target, (int, float)) and not isinstance(target, bool) and 1 < target <= 100:
                hint = f" (did you mean {target / 100:g}?)"
            raise ValueError(f"{where}: 'target' is a pass-rate between 0 and 1, got {target!r}{hint}")

        requires = table.get("requires", [])
        if isinstance(requires, str):
            raise ValueError(f"{where}: 'requires' must be a list of target names, e.g. requires = [{requires!r}]")
        requires_t = _str_list(requires, f"{where}: 'requires'", allow_empty=True)

        timeout = table.get("timeout_s")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ValueError(f"{where}: 'timeout_s' must be a positive number of seconds, got {timeout!r}")

        return cls(
            name=name,
            title=title,
            pytest=pytest_args,
            command=command,
            python=os.path.expanduser(python),
            cwd=cwd,
            env=dict(env),
            target=float(target),
            requires=requires_t,
            timeout_s=float(timeout) if timeout is not None else None,
        )


def _str_list(value: Any, where: str, *, allow_empty: bool) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ValueError(f"{where} must be a list of strings, e.g. {shlex.split(value) or [value]!r}")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of strings, got {value!r}")
    if not value and not allow_empty:
        raise ValueError(f"{where} must not be empty")
    return tuple(value)


BUILTIN_TIER_TABLES: tuple[dict[str, Any], ...] = (
    # PROTOCOL.md §9: the three tiers of the golden-path test plan.
    {"name": "unit", "title": "Unit & configuration", "pytest": ["tests/unit/websocket/"], "target": 1.0, "timeout_s": 300},
    {
        "name": "staging",
        "title": "Staging E2E",
        "pytest": ["tests/e2e/staging/", "-m", "websocket"],
        "target": 0.95,
        "requires": ["staging"],
        "timeout_s": 1200,
    },
    {
        "name": "mission-critical",
        "title": "Business-value protection",
        "pytest": ["tests/mission_critical/", "-m", "websocket"],
        "target": 1.0,
    },
)


def builtin_tiers() -> list[TierSpec]:
    return [TierSpec.from_table(t) for t in BUILTIN_TIER_TABLES]


def tiers_from_config(
    tables: Sequence[Mapping[str, Any]] | None, *, base_dir: str | os.PathLike[str] | None = None
) -> list[TierSpec]:
    """The tiers a configuration defines; None (no file defines any) means the built-in three.

    A file's list replaces the built-ins as a whole (no merging: a tier list is read as a plan).
    """
    if tables is None:
        return builtin_tiers()
    specs: list[TierSpec] = []
    seen: set[str] = set()
    for i, table in enumerate(tables, 1):
        try:
            spec = TierSpec.from_table(table, base_dir=base_dir)
        except ValueError as exc:
            raise ValueError(f"[[tiers]] #{i}: {exc}") from None
        if spec.name in seen:
            raise ValueError(f"[[tiers]] #{i}: tier name {spec.name!r} is used twice")
        seen.add(spec.name)
        specs.append(spec)
    if not specs:
        raise ValueError("the configuration defines an empty tier list; remove 'tiers' to use the built-in tiers")
    return specs


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
        return d


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(OUTCOMES, 0)


def pass_rate(counts: Mapping[str, int]) -> float | None:
    """passed / (passed + failed + error); skips, xfails and xpasses do not count; None if 0/0."""
    denominator = counts.get(PASSED, 0) + counts.get(FAILED, 0) + counts.get(ERROR, 0)
    if denominator == 0:
        return None
    return counts.get(PASSED, 0) / denominator


def target_met(rate: float | None, target: float) -> bool | None:
    # A tiny epsilon: 19/20 is 0.95 but float division may land just below it.
    return None if rate is None else rate + 1e-12 >= target


def describe_returncode(rc: int | None) -> str:
    if rc is None:
        return "did not exit"
    if rc < 0:
        try:
            return f"killed by signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
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

    @property
    def failed_nodeids(self) -> list[str]:
        """Node ids with a failed or error report, in the order they happened (for rerun)."""
        seen: dict[str, None] = {}
        for t in self.tests:
            if t.outcome in FAILING_OUTCOMES:
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
            "tests": [t.to_dict() for t in self.tests],
        }
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
# Verdict


@dataclass(frozen=True)
class Verdict:
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
) -> Verdict:
    """Judge a finished tier run.

    `returncode` is the process's return code; `exit_status` is pytest's own exit status from
    the session-end event (None when pytest never got there: crash, kill, early failure).
    `stopped_by` is "cancel" or "timeout" when wsdash stopped the run.
    """
    rate = pass_rate(counts)
    met = target_met(rate, target)
    finished = sum(counts.values())
    if stopped_by == "cancel":
        return Verdict(ST_CANCELLED, met, f"cancelled after {finished} result(s)")
    if stopped_by == "timeout":
        limit = f" of {timeout_s:g} s" if timeout_s else ""
        return Verdict(ST_TIMEOUT, met, f"timeout{limit} reached after {finished} result(s); process tree stopped")

    if kind == KIND_COMMAND:
        if returncode == 0:
            return Verdict(ST_PASSED, True, None)
        return Verdict(ST_FAILED, False, f"command failed: {describe_returncode(returncode)}", crashed=bool(returncode and returncode < 0))

    while_running = f" while running {running[0]}" if running else ""
    if exit_status is None:
        if returncode is not None and returncode < 0:
            return Verdict(ST_ERROR, None, f"pytest crashed: {describe_returncode(returncode)}{while_running}", crashed=True)
        if plugin_connected:
            # Started the session, never ended it: os._exit, a segfault turned exit code, ...
            return Verdict(ST_ERROR, None, f"pytest crashed: {describe_returncode(returncode)} before the end of the session{while_running}", crashed=True)
        if returncode in (2, 3, 4, 5):
            return Verdict(ST_ERROR, None, f"pytest failed to start: {PYTEST_EXIT_MEANINGS[returncode]} (exit code {returncode})")
        return Verdict(
            ST_ERROR, None,
            f"no live results from pytest ({describe_returncode(returncode)}): the wsdash plugin did not load or connect",
            crashed=returncode not in (0, 1),
        )

    code = exit_status
    if code == 0:
        if rate is None:
            return Verdict(ST_PASSED, None, "no test passed or failed (all skipped or xfailed): pass rate n/a")
        return Verdict(ST_PASSED if met else ST_FAILED, met, None)
    if code == 1:
        if rate is None or counts.get(FAILED, 0) + counts.get(ERROR, 0) == 0:
            return Verdict(ST_FAILED, False if met is None else met, "pytest reported failure (exit code 1) without a failing test")
        if met:
            return Verdict(ST_PASSED, True, f"target met despite {counts.get(FAILED, 0) + counts.get(ERROR, 0)} failing result(s)")
        return Verdict(ST_FAILED, False, None)
    if code == 2:
        ran_tests = counts.get(PASSED, 0) + counts.get(FAILED, 0) + counts.get(XFAILED, 0) + counts.get(XPASSED, 0)
        if counts.get(ERROR, 0) and not ran_tests:
            return Verdict(ST_ERROR, False, f"{counts[ERROR]} error(s) during collection: no test ran (exit code 2)")
        return Verdict(ST_ERROR, met, "pytest was interrupted (exit code 2)")
    if code in PYTEST_EXIT_MEANINGS:
        return Verdict(ST_ERROR, met, f"{PYTEST_EXIT_MEANINGS[code]} (exit code {code})")
    return Verdict(ST_ERROR, met, f"unexpected pytest exit status {code}")


def exit_code_for(results: Sequence[TierResult]) -> int:
    """0 only when every tier passed (met its target) except blocked ones, and one at least ran.

    A blocked tier ran nothing, so it neither passes nor fails the run (its status says why);
    a tier cancelled before its turn or that could not start does fail it.
    """
    considered = [r for r in results if r.status != ST_BLOCKED]
    if not considered:
        return 1
    return 0 if all(r.status == ST_PASSED for r in considered) else 1


# --------------------------------------------------------------------------------------------
# Events moved to events.py (which imports this module); still importable from here, loaded on
# first use so that there is no import cycle.

_EVENT_NAMES = frozenset({"TierStarted", "Collected", "TestStarted", "TestFinished", "OutputLine", "TierFinished", "TierEvent", "TierTally"})


def __getattr__(name: str) -> Any:
    if name in _EVENT_NAMES:
        from wsdash.tiers import events

        return getattr(events, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
