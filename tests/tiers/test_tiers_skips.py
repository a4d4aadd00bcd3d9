"""A skipped test validated nothing: the rules, unit by unit (the real suite is test_tiers_plan_suite.py).

Grouping and normalising skip reasons, what ran, the tier's skip limits and no_skip tests, the
verdict that follows (never "target met" for a tier that fails them), tracing reasons to what the
health model knows, the configuration keys, and "what still works" counting skips as not validated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wsdash.core.config import load_config
from wsdash.services.health.check import what_still_works
from wsdash.services.health.model import DOWN, UP, ProbeResult
from wsdash.services.tiers.causes import advise, landmarks, trace
from wsdash.services.tiers.model import TestResult, verdict
from wsdash.services.tiers.skips import build_report, group_skips, normalise
from wsdash.services.tiers.spec import TierSpec, builtin_tiers, tiers_for_config, tiers_from_config


def skip(nodeid: str, reason: str, *, phase: str = "setup", no_skip: bool = False) -> TestResult:
    return TestResult(nodeid, "skipped", phase=phase, message=reason, no_skip=no_skip)


def passed(nodeid: str) -> TestResult:
    return TestResult(nodeid, "passed")


# --------------------------------------------------------------------------------------------
# Normalised reasons


@pytest.mark.parametrize(("a", "b"), [
    ("cannot reach 127.0.0.1:8002", "cannot reach 127.0.0.1:54321"),
    ("Docker not available (waited 0.5 s)", "Docker not available (waited 12 s)"),
    ("no socket at /var/run/docker.sock", "no socket at /home/me/.docker/run/docker.sock"),
    (r"no file C:\Users\dev\AppData\x.json", r"no file D:\ci\x.json"),
    ("fixture data/case_1.json missing", "fixture data/case_22.json missing"),
    ("container 3f2a9c0b1d7e exited", "container 77aa00bb11cc exited"),
    ("Docker not available", "docker not available  "),
])
def test_numbers_paths_and_ports_do_not_split_a_group(a: str, b: str) -> None:
    assert normalise(a).lower() == normalise(b).lower()


@pytest.mark.parametrize(("a", "b"), [
    ("Docker not available", "requires staging token"),
    ("cannot reach 127.0.0.1:8002", "cannot reach 10.0.0.7:8002"),  # another host is another cause
    ("needs python3.12", "needs python3.11"),  # digits inside a word are part of it
])
def test_different_reasons_stay_apart(a: str, b: str) -> None:
    assert normalise(a).lower() != normalise(b).lower()


def test_groups_count_and_show_the_reason_as_written() -> None:
    tests = [skip(f"t.py::d{i}", "Docker not available") for i in range(3)]
    tests += [skip(f"t.py::p{i}", f"cannot reach 127.0.0.1:{8000 + i}") for i in range(2)]
    tests.append(skip("m.py", "Docker not available", phase="collect"))
    groups = group_skips(tests)
    assert [(g.count, g.reason, g.at_collection) for g in groups] == [
        (4, "Docker not available", 1),
        (2, "cannot reach 127.0.0.1:<port>", 0),  # the raw texts differ: the normalised form is shown
    ]
    assert groups[1].variants == ["cannot reach 127.0.0.1:8000", "cannot reach 127.0.0.1:8001"]


# --------------------------------------------------------------------------------------------
# What ran, limits, no_skip, verdict


def plan_shaped() -> list[TestResult]:
    """1 passes; 24 skip on Docker; 3 no_skip tests skip on Docker; 1 module skipped at import."""
    tests = [passed("test_config.py::test_settings")]
    tests += [skip(f"test_ws.py::test_event[{i}]", "Docker not available", phase="call") for i in range(24)]
    tests += [skip(f"test_mc.py::test_must_{i}", "Docker not available", no_skip=True) for i in range(3)]
    tests.append(skip("test_agents.py", "Docker not available", phase="collect"))
    return tests


def counts_of(tests: list[TestResult]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "skipped": 0, "xfailed": 0, "xpassed": 0, "error": 0}
    for t in tests:
        counts[t.outcome] += 1
    return counts


def judge(tests: list[TestResult], *, collected: int, max_skipped: Any = None, min_ran: int = 1, collection: dict | None = None):  # type: ignore[no-untyped-def]
    report = build_report(tests, collected=collected, collection=collection, max_skipped=max_skipped, min_ran=min_ran, no_skip_marker="no_skip")
    v = verdict(kind="pytest", target=1.0, counts=counts_of(tests), returncode=0, exit_status=0, plugin_connected=True, skips=report)
    return report, v


def test_the_plan_shaped_run_is_failed_with_its_no_skip_tests_named() -> None:
    report, v = judge(plan_shaped(), collected=28)
    assert (report.ran, report.skipped, report.total) == (1, 28, 29)
    assert report.ran_text() == "1 of 29 ran · 28 skipped"
    assert [n for n, _ in report.no_skip] == ["test_mc.py::test_must_0", "test_mc.py::test_must_1", "test_mc.py::test_must_2"]
    assert all(why == "skipped: Docker not available" for _, why in report.no_skip)
    assert v.status == "failed" and v.target_met is False
    assert "3 no_skip tests did not run (skipped)" in (v.message or "")
    # The no_skip tests count as failures in the rate: 1 passed of 4 that had to run.
    assert report.no_skip_count == 3


def test_max_skipped_as_a_count_and_as_a_share() -> None:
    tests = [passed(f"a.py::p{i}") for i in range(9)] + [skip("a.py::s", "later")]
    assert judge(tests, collected=10, max_skipped=1)[1].status == "passed"
    report, v = judge(tests, collected=10, max_skipped=0)
    assert v.status == "failed" and v.target_met is False and "1 of 10 skipped, more than max_skipped = 0" in (v.message or "")
    assert judge(tests, collected=10, max_skipped=0.1)[1].status == "passed"  # 10 % is allowed
    _, v = judge(tests, collected=10, max_skipped=0.05)
    assert v.status == "failed" and "more than max_skipped = 5 %" in (v.message or "")


def test_min_ran_and_a_tier_where_nothing_ran() -> None:
    tests = [skip(f"a.py::s{i}", "Docker not available") for i in range(5)]
    _, v = judge(tests, collected=5)  # min_ran defaults to 1
    assert v.status == "failed" and v.target_met is False and "no test ran (5 skipped)" in (v.message or "")
    _, v = judge(tests + [passed("a.py::p")], collected=6, min_ran=3)
    assert v.status == "failed" and "only 1 of 6 ran, fewer than min_ran = 3" in (v.message or "")
    assert judge(tests, collected=5, min_ran=0)[1].status == "passed"  # said explicitly: allowed


def test_deselected_no_skip_tests_fail_the_tier_and_files_are_counted() -> None:
    collection = {"files": 11, "files_deselected": ["b.py", "c.py"], "deselected_by_selection": 4,
                  "no_skip_deselected": ["b.py::must"], "no_skip_deselected_count": 1}
    tests = [passed("a.py::ok")] + [skip(f"m{i}.py", "Docker not available", phase="collect") for i in range(5)]
    report, v = judge(tests, collected=1, collection=collection)
    assert report.no_skip == [("b.py::must", "deselected by the tier's selection")]
    assert report.files_text() == "7 of 11 files skipped at collection (5 at import, 2 deselected)"
    assert v.status == "failed" and "1 no_skip test did not run (deselected)" in (v.message or "")


def test_a_rerun_does_not_count_the_tests_it_left_out_as_no_skip_failures() -> None:
    # The plugin leaves the rerun filter's deselections out of the collection summary; with none
    # of the tier's own, nothing is flagged.
    report, v = judge([passed("a.py::ok")], collected=1, collection={"deselected_by_selection": 0, "no_skip_deselected": []})
    assert report.no_skip == [] and v.status == "passed"


def test_failed_tests_to_rerun_include_no_skip_tests_that_skipped() -> None:
    from wsdash.services.tiers.model import TierResult

    r = TierResult("t", "t", "pytest", "failed", 1.0, tests=plan_shaped())
    assert r.failed_nodeids == ["test_mc.py::test_must_0", "test_mc.py::test_must_1", "test_mc.py::test_must_2"]


# --------------------------------------------------------------------------------------------
# Configuration


def test_skip_keys_are_checked() -> None:
    spec = TierSpec.from_table({"name": "t", "pytest": [], "max_skipped": 0.1, "min_ran": 5, "no_skip_marker": "must_run"})
    assert (spec.max_skipped, spec.min_ran, spec.no_skip_marker) == (0.1, 5, "must_run")
    assert TierSpec.from_table({"name": "t", "pytest": []}).max_skipped is None
    for table, needle in [
        ({"max_skipped": -1}, "must not be negative"),
        ({"max_skipped": 3.0}, "a count is written without a decimal point: 3"),
        ({"max_skipped": "10%"}, "'max_skipped' is a count"),
        ({"min_ran": 1.5}, "'min_ran' must be a whole number"),
        ({"no_skip_marker": "no skip"}, "'no_skip_marker' must be a marker name"),
        ({"target_env": {"staging": "x"}}, "'target_env' must be tables of strings"),
    ]:
        with pytest.raises(ValueError, match="tier 't'") as err:
            TierSpec.from_table({"name": "t", "pytest": [], **table})
        assert needle in str(err.value)


def test_the_built_in_mission_critical_tier_allows_no_skip() -> None:
    by = {s.name: s for s in builtin_tiers()}
    assert by["mission-critical"].max_skipped == 0 and by["mission-critical"].no_skip_marker == "no_skip"


def test_requires_naming_an_unknown_target_is_a_config_error_at_load(tmp_path: Path) -> None:
    tables = [{"name": "ok", "pytest": [], "requires": ["docker", "staging"]}, {"name": "bad", "pytest": [], "requires": ["nosuchtarget"]}]
    with pytest.raises(ValueError) as err:
        tiers_from_config(tables, targets=["local", "staging"])
    assert str(err.value) == (
        "[[tiers]] #2: tier 'bad': 'requires' names 'nosuchtarget', which is not a target: known names are docker, local, staging"
    )
    with pytest.raises(ValueError, match="'target_env' names 'docker'"):
        tiers_from_config([{"name": "t", "pytest": [], "target_env": {"docker": {}}}], targets=["local"])
    (tmp_path / "wsdash.toml").write_text('[[tiers]]\nname = "x"\npytest = []\nrequires = ["nosuchtarget"]\n')
    with pytest.raises(ValueError, match="tier 'x': 'requires' names 'nosuchtarget'"):
        tiers_for_config(load_config(tmp_path / "wsdash.toml", env={}))


def test_for_target_sets_the_variables_and_the_requirement() -> None:
    spec = TierSpec.from_table({"name": "mc", "pytest": [], "env": {"A": "1"}, "requires": ["local", "docker"],
                                "target_env": {"staging": {"E2E_ENV": "staging", "A": "2"}}})
    on = spec.for_target("staging", "wss://x/ws")
    assert on.requires == ("staging",) and on.on_target == "staging"
    assert dict(on.env) == {"A": "2", "E2E_ENV": "staging", "WSDASH_TARGET": "staging", "WSDASH_WS_URL": "wss://x/ws"}
    with pytest.raises(ValueError, match=r"does not say how to run against 'local': add \[tiers.target_env.local\]"):
        spec.for_target("local")


# --------------------------------------------------------------------------------------------
# Traced to what is down


def cfg_with_box(tmp_path: Path) -> Any:
    (tmp_path / "wsdash.toml").write_text(
        '[targets.box]\nws_url = "ws://127.0.0.1:9/ws"\ntoken_env = "BOX_TOKEN"\n', encoding="utf-8")
    return load_config(tmp_path / "wsdash.toml", env={})


def traced(tmp_path: Path, tests: list[TestResult], usable: dict, *, target_env: dict | None = None, env: dict | None = None) -> list[dict]:
    spec = TierSpec.from_table({"name": "mission-critical", "pytest": [], "target_env": target_env or {}})
    report = build_report(tests, collected=len(tests), collection=None, max_skipped=0, min_ran=1, no_skip_marker="no_skip")
    marks = landmarks(cfg_with_box(tmp_path))
    named = trace(report, marks)
    return advise(report, named, spec, usable, lambda v: v in (env or {}))


def test_docker_down_offers_the_target_the_tier_can_run_against(tmp_path: Path) -> None:
    tests = [skip(f"a.py::t{i}", "Docker not available") for i in range(39)]
    [a] = traced(tmp_path, tests, {"docker": False, "box": True}, target_env={"box": {"E2E": "box"}})
    assert a["text"] == ("39 tests skipped because Docker is down (Environment: Docker ✗) — run them against box: "
                         "`wsdash tiers run mission-critical --target box`")
    assert a["command"] == "wsdash tiers run mission-critical --target box" and a["state"] == "down"


def test_without_a_target_to_run_against_only_what_exists_is_offered(tmp_path: Path) -> None:
    tests = [skip(f"a.py::t{i}", "SKIP_DOCKER_TESTS=true") for i in range(2)]
    [a] = traced(tmp_path, tests, {"docker": False, "box": True})  # the tier has no target_env: no --target
    assert "--target" not in a["text"] and a["text"].endswith("start Docker, then rerun: `wsdash tiers run mission-critical`")
    [a] = traced(tmp_path, tests, {"docker": True})
    assert a["state"] == "up" and "but Docker is up now (Environment: Docker ✔)" in a["text"]
    [a] = traced(tmp_path, tests, {})
    assert a["state"] == "unknown" and "(not checked)" in a["text"]


def test_a_targets_port_and_its_token_variable_are_recognised(tmp_path: Path) -> None:
    tests = [skip("a.py::x", "cannot reach 127.0.0.1:9 (refused)"), skip("a.py::y", "cannot reach localhost:9 (refused)"),
             skip("a.py::z", "requires box token")]
    by = {a["cause"]: a for a in traced(tmp_path, tests, {"box": False})}
    assert by["target:box"]["count"] == 2 and "because box is down (Environment: box ✗)" in by["target:box"]["text"]
    assert "rerun when `wsdash check --only box` is green" in by["target:box"]["text"]
    assert by["variable:BOX_TOKEN"]["state"] == "unset" and "because BOX_TOKEN is not set" in by["variable:BOX_TOKEN"]["text"]
    by = {a["cause"]: a for a in traced(tmp_path, tests, {"box": False}, env={"BOX_TOKEN": "x"})}
    assert by["variable:BOX_TOKEN"]["state"] == "set"


def test_reasons_that_name_nothing_known_are_not_traced(tmp_path: Path) -> None:
    assert traced(tmp_path, [skip("a.py::x", "not on Windows"), skip("a.py::y", "local timezone only")], {}) == []


# --------------------------------------------------------------------------------------------
# What still works


def probe(name: str, status: str) -> ProbeResult:
    return ProbeResult(name, status, 1.0, "", [])


def test_what_still_works_counts_skipped_tests_as_not_validated() -> None:
    facts = [
        {"title": "Business-value protection", "requires": [], "ran": 1, "skipped": 39, "total": 40,
         "top_reasons": [("Docker not available", 39)]},
        {"title": "Unit", "requires": [], "ran": 12, "skipped": 0, "total": 12, "top_reasons": []},
        {"title": "Staging E2E", "requires": ["staging"], "ran": None, "skipped": 0, "total": None, "top_reasons": []},
    ]
    lines = what_still_works([probe("docker", DOWN), probe("local", UP), probe("staging", DOWN)], facts)
    assert lines[-1] == "Not validated: Business-value protection — 39 of 40 tests skipped (39 × Docker not available)."
    assert "Blocked: Staging E2E until staging is back." in lines
    # Everything up, and still: skipped tests validated nothing.
    assert what_still_works([probe("docker", UP)], facts)[1].startswith("Not validated: Business-value protection")
