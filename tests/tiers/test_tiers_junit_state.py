"""JUnit XML from real runs, and the last-run state behind --rerun-failed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path


from tests.tiers.tiers_support import spec_for, write_suite
from wsdash.services.tiers.junit import classname_and_name, write_junit, xml_text
from wsdash.services.tiers.model import TestResult, TierResult, not_run
from wsdash.services.tiers.spec import TierSpec
from wsdash.services.tiers.runner import run_tier
from wsdash.services.tiers.state import load_state, previous_failures, record_results, state_path, tier_key

SUITE = {
    "pkg/test_j.py": """
        import pytest

        @pytest.fixture
        def td():
            yield
            raise RuntimeError("teardown")

        def test_ok():
            pass

        def test_fail():
            print("\\x1b[31mcoloured\\x1b[0m output \\x07 bell")
            assert 1 == 2, "\\x1b[1mbold\\x1b[0m"

        def test_ok_then_td_error(td):
            pass

        def test_skip():
            pytest.skip("because")

        @pytest.mark.xfail(reason="known")
        def test_xfail():
            assert 0

        class TestK:
            @pytest.mark.parametrize("v", ["é", "<&>"])
            def test_p(self, v):
                pass
    """,
    "pkg/test_broken.py": "import nope_not_here\n",
}


async def test_junit_from_a_real_run(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", SUITE)
    result = await run_tier(spec_for(root, "--continue-on-collection-errors", name="unit"))
    blocked = not_run(TierSpec.from_table({"name": "stage", "pytest": [], "requires": ["staging"]}), "blocked", "requires staging — down", blocked_by="staging")
    cmd = TierResult(name="lint", title="Lint", kind="command", status="failed", target=1.0, exit_code=1, returncode=1,
                     message="command failed: exit code 1", last_output=["E501 line too long"], started=True)
    out = tmp_path / "report.xml"
    write_junit(out, [result, blocked, cmd])
    root_el = ET.parse(out).getroot()  # well-formed, despite ANSI and BEL in the output
    assert root_el.tag == "testsuites"
    suites = {s.get("name"): s for s in root_el.findall("testsuite")}
    unit = suites["unit"]
    cases = {(c.get("classname"), c.get("name")): c for c in unit.findall("testcase")}
    assert ("pkg.test_j", "test_ok") in cases and ("pkg.test_j.TestK", "test_p[<&>]") in cases
    assert cases[("pkg.test_j", "test_fail")].find("failure") is not None
    assert "\\x1b[1mbold" in cases[("pkg.test_j", "test_fail")].find("failure").get("message")
    assert "coloured" in cases[("pkg.test_j", "test_fail")].find("system-out").text
    assert cases[("pkg.test_j", "test_ok_then_td_error")].find("error").get("message").startswith("teardown error")
    assert cases[("pkg.test_j", "test_skip")].find("skipped").get("type") == "pytest.skip"
    assert cases[("pkg.test_j", "test_xfail")].find("skipped").get("type") == "pytest.xfail"
    assert cases[("", "pkg.test_broken")].find("error").get("message").startswith("collection error")
    assert (unit.get("tests"), unit.get("failures"), unit.get("errors"), unit.get("skipped")) == ("8", "1", "2", "2")
    props = {p.get("name"): p.get("value") for p in unit.iter("property")}
    assert props["status"] == "failed" and props["target"] == "1"
    assert suites["stage"].find("testcase/skipped").get("message") == "requires staging — down"
    assert suites["lint"].find("testcase/failure") is not None
    assert root_el.get("tests") == str(8 + 1 + 1) and root_el.get("failures") == "2"


def test_junit_helpers() -> None:
    assert classname_and_name("tests/a/test_x.py::TestC::test_f[1]") == ("tests.a.test_x.TestC", "test_f[1]")
    assert classname_and_name("tests/test_x.py") == ("", "tests.test_x")
    assert xml_text("a\x1b[0mb\x00") == "a\\x1b[0mb\\x00"


def _spec(tmp_path: Path, name: str = "unit") -> TierSpec:
    return TierSpec.from_table({"name": name, "pytest": [], "cwd": str(tmp_path)})


def _res(status: str = "failed", tests: list[tuple[str, str]] = (), **kw) -> TierResult:  # type: ignore[assignment]
    base = dict(name="unit", title="unit", kind="pytest", status=status, target=1.0, exit_code=1, started=True, session_ended=True)
    base.update(kw)
    return TierResult(tests=[TestResult(n, o) for n, o in tests], **base)


def test_state_lives_in_the_user_cache_dir(tmp_path: Path) -> None:
    assert state_path() == tmp_path / "xdg-cache" / "wsdash" / "tiers-last-run.json"


def test_state_records_and_merges(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    assert previous_failures(spec) is None
    record_results([(spec, _res(tests=[("a", "passed"), ("b", "failed"), ("c", "passed"), ("c", "error")]))])
    assert previous_failures(spec) == ["b", "c"]
    # A rerun of [b, c] where b now passes: b is forgotten, c stays, nothing else changes.
    record_results([(spec, _res(tests=[("b", "passed"), ("c", "failed")], only_nodeids=["b", "c"]))])
    assert previous_failures(spec) == ["c"]
    # A cancelled full run that got only as far as a new failure d: merged, c kept.
    record_results([(spec, _res("cancelled", tests=[("d", "failed")], session_ended=True))])
    assert previous_failures(spec) == ["c", "d"]
    # A crash (no session end) merges too; a complete run replaces.
    record_results([(spec, _res("error", tests=[("c", "passed")], session_ended=False, crashed=True))])
    assert previous_failures(spec) == ["d"]
    record_results([(spec, _res("passed", tests=[("a", "passed")]))])
    assert previous_failures(spec) == []
    # Blocked tiers and usage errors before the session leave the record alone.
    record_results([(spec, _res(tests=[("x", "failed")]))])
    record_results([(spec, not_run(spec, "blocked", "down"))])
    record_results([(spec, _res("error", tests=[], session_ended=False, exit_code=4))])
    assert previous_failures(spec) == ["x"]


def test_state_is_keyed_by_name_and_directory(tmp_path: Path) -> None:
    one, other = _spec(tmp_path / "p1"), _spec(tmp_path / "p2")
    record_results([(one, _res(tests=[("t", "failed")]))])
    assert previous_failures(one) == ["t"] and previous_failures(other) is None
    assert tier_key(one) != tier_key(other)


def test_corrupt_state_is_an_empty_state(tmp_path: Path) -> None:
    path = state_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert load_state() == {"version": 1, "tiers": {}}
    spec = _spec(tmp_path)
    record_results([(spec, _res(tests=[("t", "failed")]))])
    assert json.loads(path.read_text())["tiers"][tier_key(spec)]["failed"] == ["t"]
