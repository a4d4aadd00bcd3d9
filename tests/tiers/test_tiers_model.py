"""TierSpec validation, built-in tiers, config → tiers, pass rate and verdict rules."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from wsdash.services.tiers.model import TestResult, TierResult, exit_code_for, pass_rate, verdict
from wsdash.services.tiers.spec import TierSpec, builtin_tiers, tiers_from_config


def test_builtin_tiers_are_protocol_section_9() -> None:
    unit, staging, mission = builtin_tiers()
    assert (unit.name, unit.title, unit.pytest, unit.target, unit.timeout_s, unit.requires) == (
        "unit", "Unit & configuration", ("tests/unit/websocket/",), 1.0, 300.0, (),
    )
    assert (staging.name, staging.title, staging.pytest, staging.target, staging.timeout_s, staging.requires) == (
        "staging", "Staging E2E", ("tests/e2e/staging/", "-m", "websocket"), 0.95, 1200.0, ("staging",),
    )
    assert (mission.name, mission.title, mission.pytest, mission.target, mission.timeout_s) == (
        "mission-critical", "Business-value protection", ("tests/mission_critical/", "-m", "websocket"), 1.0, None,
    )
    assert all(s.python == sys.executable and s.kind == "pytest" for s in (unit, staging, mission))


def test_from_table_full() -> None:
    spec = TierSpec.from_table({
        "name": "e2e", "title": "E2E", "pytest": ["tests/e2e", "-x"], "python": "/opt/py/bin/python",
        "cwd": "backend", "env": {"A": "1"}, "target": 0.9, "requires": ["staging"], "timeout_s": 60,
    }, base_dir="/srv/project")
    assert spec.argv() == ["/opt/py/bin/python", "-m", "pytest", "tests/e2e", "-x"]
    assert spec.cwd == "/srv/project/backend" and spec.env == {"A": "1"} and spec.target == 0.9
    assert spec.requires == ("staging",) and spec.timeout_s == 60.0 and spec.title == "E2E"
    assert spec.display_command() == "pytest tests/e2e -x"
    assert spec.to_dict()["env"] == ["A"]  # names only: values may be secrets


def test_command_tier() -> None:
    spec = TierSpec.from_table({"name": "lint", "command": ["ruff", "check", "."]})
    assert spec.kind == "command" and spec.argv() == ["ruff", "check", "."] and spec.title == "lint"


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"name": "x", "pytest": [], "colour": "red"}, "unknown key(s) colour"),
        ({"name": "x"}, "exactly one of 'pytest'"),
        ({"name": "x", "pytest": [], "command": ["a"]}, "not both"),
        ({"pytest": []}, "'name' is required"),
        ({"name": "has space", "pytest": []}, "'name' 'has space' is not one: a tier's name is letters"),
        ({"name": "ünït", "pytest": []}, "'name' 'ünït' is not one"),
        ({"name": "x", "pytest": "tests/unit -q"}, "must be a list of strings, e.g. ['tests/unit', '-q']"),
        ({"name": "x", "pytest": [1]}, "must be a list of strings"),
        ({"name": "x", "command": []}, "must not be empty"),
        ({"name": "x", "pytest": [], "target": 95}, "did you mean 0.95?"),
        ({"name": "x", "pytest": [], "target": -0.1}, "between 0 and 1"),
        ({"name": "x", "pytest": [], "target": True}, "between 0 and 1"),
        ({"name": "x", "pytest": [], "target": "1"}, "between 0 and 1"),
        ({"name": "x", "pytest": [], "timeout_s": 0}, "positive number"),
        ({"name": "x", "pytest": [], "timeout_s": "5"}, "positive number"),
        ({"name": "x", "pytest": [], "requires": "staging"}, "requires = ['staging']"),
        ({"name": "x", "pytest": [], "env": {"A": 1}}, "table of strings"),
        ({"name": "x", "pytest": [], "cwd": ""}, "'cwd' must be"),
        ({"name": "x", "pytest": [], "title": ""}, "'title' must be"),
        ({"name": "x", "command": ["a"], "python": "/usr/bin/python3"}, "pytest tiers only"),
    ],
)
def test_from_table_rejects_wrong_config(table: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError) as info:
        TierSpec.from_table(table)
    assert needle in str(info.value)
    if isinstance(table.get("name"), str) and " " not in table["name"]:
        assert repr(table["name"]) in str(info.value)  # the message names the tier


def test_tiers_from_config() -> None:
    assert [s.name for s in tiers_from_config(None)] == ["unit", "staging", "mission-critical"]
    specs = tiers_from_config([{"name": "only", "pytest": ["t"]}])
    assert [s.name for s in specs] == ["only"]  # a file's list replaces the built-ins
    with pytest.raises(ValueError, match=r"#2: tier name 'a' is used twice"):
        tiers_from_config([{"name": "a", "pytest": []}, {"name": "a", "pytest": []}])
    with pytest.raises(ValueError, match=r"#1: tier 'b': unknown key"):
        tiers_from_config([{"name": "b", "pytest": [], "oops": 1}])
    with pytest.raises(ValueError, match="empty tier list"):
        tiers_from_config([])


def test_pass_rate() -> None:
    assert pass_rate({"passed": 3, "failed": 1, "skipped": 10, "xfailed": 2, "xpassed": 1}) == 0.75
    assert pass_rate({"passed": 1, "error": 1}) == 0.5
    assert pass_rate({"skipped": 4}) is None
    assert pass_rate({}) is None


def _v(**kw: Any):  # type: ignore[no-untyped-def]
    base: dict[str, Any] = dict(kind="pytest", target=1.0, counts={"passed": 1}, returncode=0, exit_status=0, plugin_connected=True)
    base.update(kw)
    return verdict(**base)


@pytest.mark.parametrize(
    ("kw", "status", "met", "needle"),
    [
        ({}, "passed", True, None),
        ({"counts": {"skipped": 3}}, "passed", None, "pass rate n/a"),
        ({"counts": {"passed": 19, "failed": 1}, "exit_status": 1, "returncode": 1, "target": 0.95}, "passed", True, "despite 1"),
        ({"counts": {"passed": 18, "failed": 2}, "exit_status": 1, "returncode": 1, "target": 0.95}, "failed", False, None),
        ({"counts": {"passed": 1}, "exit_status": 1, "returncode": 1}, "failed", False, "without a failing test"),
        ({"counts": {"error": 2}, "exit_status": 2, "returncode": 2}, "error", False, "2 error(s) during collection"),
        ({"counts": {"passed": 2}, "exit_status": 2, "returncode": 2}, "error", False, "interrupted"),
        ({"exit_status": 3, "returncode": 3}, "error", False, "internal error"),
        ({"exit_status": 5, "returncode": 5, "counts": {}}, "error", None, "no tests collected"),
        ({"exit_status": 7, "returncode": 7}, "error", False, "unexpected pytest exit status 7"),
        ({"exit_status": None, "returncode": -9, "running": ["t.py::x"]}, "error", None, "killed by signal SIGKILL while running t.py::x"),
        ({"exit_status": None, "returncode": 3}, "error", None, "crashed: exit code 3 before the end"),
        ({"exit_status": None, "returncode": 4, "plugin_connected": False}, "error", None, "usage error (exit code 4)"),
        ({"exit_status": None, "returncode": 0, "plugin_connected": False}, "error", None, "no live results"),
        ({"stopped_by": "cancel", "exit_status": 2}, "cancelled", None, "cancelled after 1"),
        ({"stopped_by": "timeout", "timeout_s": 5.0, "exit_status": None, "returncode": -9, "running": ["t.py::slow"]}, "timeout", None,
         "timeout of 5 s reached after 1 result(s) while running t.py::slow"),
        ({"kind": "command", "exit_status": 0, "counts": {}}, "passed", True, None),
        ({"kind": "command", "exit_status": 2, "returncode": 2, "counts": {}}, "failed", False, "exit code 2"),
    ],
)
def test_verdict(kw: dict[str, Any], status: str, met: bool | None, needle: str | None) -> None:
    v = _v(**kw)
    assert (v.status, v.target_met) == (status, met)
    if needle is None:
        assert v.message is None
    else:
        assert needle in (v.message or "")


def _result(status: str, **kw: Any) -> TierResult:
    return TierResult(name=status, title=status, kind="pytest", status=status, target=1.0, started=status != "blocked", **kw)


def test_exit_code_for() -> None:
    assert exit_code_for([_result("passed"), _result("blocked")]) == 0  # blocked tiers ran nothing
    assert exit_code_for([_result("passed"), _result("failed")]) == 1
    assert exit_code_for([_result("passed"), _result("cancelled")]) == 1
    assert exit_code_for([_result("passed"), _result("timeout")]) == 1
    assert exit_code_for([_result("blocked")]) == 1  # nothing ran: nothing was verified
    assert exit_code_for([]) == 1


def test_result_json_shape() -> None:
    r = _result("failed", counts={"passed": 1, "failed": 1, "skipped": 0, "xfailed": 0, "xpassed": 0, "error": 0}, pass_rate=0.5)
    r.tests = [
        TestResult("a.py::ok", "passed", duration_s=0.01),
        TestResult("a.py::bad", "failed", message="assert 0", longrepr="tb", output="out"),
    ]
    d = r.to_dict()
    assert {"name", "title", "status", "target", "pass_rate", "counts", "duration_s", "exit_code", "tests"} <= set(d)
    assert set(d["counts"]) == {"passed", "failed", "skipped", "xfailed", "xpassed", "error"}
    assert d["tests"][0] == {"nodeid": "a.py::ok", "outcome": "passed", "phase": "call", "duration_s": 0.01, "message": ""}
    assert d["tests"][1]["traceback"] == "tb" and d["tests"][1]["output"] == "out"
    assert r.failed_nodeids == ["a.py::bad"] and r.ok_nodeids == {"a.py::ok"}
