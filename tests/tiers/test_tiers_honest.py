"""Honest tier verdicts (issue 13 §8) and a card that shows its current run (§10).

A tier that times out or whose pytest crashes never reads "target met" (screen, JSON, JUnit) and
names the test that was running; JUnit keeps parametrize ids containing "::" whole, as pytest's
own junitxml does; a JUnit path that is a directory, a missing working directory and `requires`
naming no target fail before anything runs, with the right noun.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.tiers.test_tiers_command import cli
from tests.tiers.tiers_support import BASE_ARGS, CHILD_ENV, spec_for, write_suite
from wsdash.services.tiers.board import TierBoard
from wsdash.services.tiers.junit import classname_and_name, junit_tree
from wsdash.services.tiers.runner import run_tier
from wsdash.ui.widgets.tier_pane import card_text

posix_only = pytest.mark.skipif(sys.platform.startswith("win"), reason="signals")


def tier_toml(path: Path, root: Path, *, name: str = "t", extra: str = "") -> Path:
    env = ", ".join(f"{k} = {json.dumps(v)}" for k, v in CHILD_ENV.items())
    path.write_text(
        f"[[tiers]]\nname = {json.dumps(name)}\npytest = {json.dumps(BASE_ARGS)}\ncwd = {json.dumps(str(root))}\n"
        f"env = {{ {env} }}\n{extra}\n", encoding="utf-8")
    return path


def junit_props(path: Path) -> tuple[dict[str, str], ET.Element]:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    return {p.get("name"): p.get("value") for p in suite.iter("property")}, suite  # type: ignore[misc]


CRASH = """
import os

def test_fine():
    pass

def test_dies():
    os._exit(3)
"""

HANG = """
import time

def test_fine():
    pass

def test_hangs():
    time.sleep(60)
"""


@pytest.mark.parametrize(("files", "extra", "status", "named"), [
    ({"test_c.py": CRASH}, "", "error", "while running test_c.py::test_dies"),
    pytest.param({"test_h.py": HANG}, "timeout_s = 4", "timeout", "while running test_h.py::test_hangs", marks=posix_only),
])
def test_a_crash_or_timeout_never_reads_target_met(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, files: dict[str, str], extra: str, status: str, named: str
) -> None:
    root = write_suite(tmp_path / "s", files)  # one test passes first: a 100 % rate of what arrived
    cfg = tier_toml(tmp_path / "wsdash.toml", root, extra=extra)
    report = tmp_path / "junit.xml"
    assert cli("tiers", "run", "--config", str(cfg), "--junit", str(report)) == 1
    out = capsys.readouterr().out
    assert f"✗ {status}" in out and named in out
    assert "met" not in out.split(f"✗ {status}", 1)[1].splitlines()[0]  # never "(target 100 % met)"
    props, suite = junit_props(report)
    assert props["status"] == status and props["target_met"] != "true"
    nodeid = named.rsplit(" ", 1)[1]
    [case] = [c for c in suite.iter("testcase") if c.get("name") == nodeid.split("::")[1]]
    assert case.find("error") is not None  # the test that was running, named in CI's report too
    assert cli("tiers", "run", "--config", str(cfg), "--json") == 1
    [tier] = json.loads(capsys.readouterr().out)["tiers"]
    assert tier["status"] == status and tier["target_met"] is not True and named in tier["message"]


def test_junit_keeps_parametrize_ids_with_double_colons_as_pytest_does(tmp_path: Path) -> None:
    assert classname_and_name("tests/a/test_x.py::TestC::test_f[a::b]") == ("tests.a.test_x.TestC", "test_f[a::b]")
    assert classname_and_name("test_x.py::test_f[ws://h:1/x::y]") == ("test_x", "test_f[ws://h:1/x::y]")
    root = write_suite(tmp_path / "s", {"test_p.py": (
        "import pytest\n\n@pytest.mark.parametrize('v', ['a::b', 'ws://h:1/x::y'])\ndef test_f(v):\n    pass\n\n"
        "class TestC:\n    @pytest.mark.parametrize('v', ['c::d'])\n    def test_g(self, v):\n        pass\n")})
    theirs = tmp_path / "pytest.xml"
    subprocess.run([sys.executable, "-m", "pytest", *BASE_ARGS, f"--junitxml={theirs}", "-q"], cwd=root,
                   env={**os.environ, **CHILD_ENV}, capture_output=True, check=True, timeout=120)
    import asyncio

    result = asyncio.run(run_tier(spec_for(root)))
    ours = junit_tree([result]).getroot()

    def cases(root_el: ET.Element) -> set[tuple[str | None, str | None]]:
        return {(c.get("classname"), c.get("name")) for c in root_el.iter("testcase") if c.get("classname") != "wsdash.services.tiers"}

    assert cases(ours) == cases(ET.parse(theirs).getroot()) and len(cases(ours)) == 3


def test_junit_to_a_directory_fails_before_the_suite_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    root = write_suite(tmp_path / "s", {"test_x.py": f"open({str(ran)!r}, 'w').close()\n\ndef test_x():\n    pass\n"})
    cfg = tier_toml(tmp_path / "wsdash.toml", root)
    assert cli("tiers", "run", "--config", str(cfg), "--junit", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert f"--junit {tmp_path} is a folder: give a file name" in err
    assert not ran.exists()


def test_an_empty_junit_name_fails_before_the_suite_runs(tmp_path: Path) -> None:
    """`--junit ""` (an unset variable in a CI script) ran the suite, wrote no JUnit and exited 0."""
    from tests.conftest import run_cli

    ran = tmp_path / "ran"
    root = write_suite(tmp_path / "s", {"test_x.py": f"open({str(ran)!r}, 'w').close()\n\ndef test_x():\n    pass\n"})
    cfg = tier_toml(tmp_path / "wsdash.toml", root)
    out = run_cli("tiers", "run", "--config", str(cfg), "--junit", "", cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "--junit needs a file name, e.g. --junit wsdash-tiers.xml" in out.stderr and "Traceback" not in out.stderr
    assert not ran.exists()


@pytest.mark.parametrize("python", ["missing-venv/bin/python", "envs/venv"])
def test_an_interpreter_that_cannot_start_is_named_before_any_tier_runs(
        python: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A wrong `python` (a venv not made yet, or the venv's folder itself) was found only when its
    tier started, after the tiers before it, and read as a failed tier (exit 1)."""
    (tmp_path / "envs" / "venv").mkdir(parents=True)
    ran = tmp_path / "ran"
    root = write_suite(tmp_path / "s", {"test_x.py": f"open({str(ran)!r}, 'w').close()\n\ndef test_x():\n    pass\n"})
    first = tier_toml(tmp_path / "first.toml", root, name="first").read_text(encoding="utf-8")
    cfg = tmp_path / "wsdash.toml"
    cfg.write_text(first + tier_toml(tmp_path / "t.toml", root, extra=f"python = {json.dumps(python)}").read_text(encoding="utf-8"),
                   encoding="utf-8")
    assert cli("tiers", "run", "--config", str(cfg)) == 2
    err = capsys.readouterr().err
    where = os.path.normpath(tmp_path / python)  # relative to the config file's folder
    says = "does not exist" if python != "envs/venv" else "is a folder, not an interpreter"
    assert f"tier 't': python {where} {says}" in err and f"from {cfg}" in err
    assert not ran.exists()  # not even the first tier ran


def test_a_missing_working_directory_is_named_as_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tier_toml(tmp_path / "wsdash.toml", tmp_path / "nowhere")
    assert cli("tiers", "run", "--config", str(cfg)) == 2
    err = capsys.readouterr().err
    assert f"tier 't': working directory {tmp_path / 'nowhere'} does not exist" in err
    assert "cannot start" not in err


async def test_the_runner_names_a_missing_working_directory_too(tmp_path: Path) -> None:
    # The dashboard's path (no command-line pre-check).
    result = await run_tier(spec_for(tmp_path / "gone"))
    assert result.status == "error" and result.message == f"working directory {tmp_path / 'gone'} does not exist (the tier's cwd)"


def test_requires_naming_no_target_is_a_config_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tier_toml(tmp_path / "wsdash.toml", tmp_path, name="e2e", extra='requires = ["nosuchtarget"]')
    for argv in (("tiers", "run"), ("tiers", "list")):
        assert cli(*argv, "--config", str(cfg)) == 2
        err = capsys.readouterr().err
        assert "tier 'e2e': 'requires' names 'nosuchtarget', which is not a target: known names are docker, local, staging" in err


# --------------------------------------------------------------------------------------------
# Issue 13 §10: a card that reruns shows the new run


FAILS_THEN_FIXED = "def test_a():\n    pass\n\ndef test_b():\n    assert {ok}\n\ndef test_c():\n    pass\n"


async def test_a_rerun_card_shows_the_new_runs_counts_and_clock_not_the_old_failures(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", {"test_r.py": FAILS_THEN_FIXED.format(ok="False")})
    spec = spec_for(root, name="unit")
    board = TierBoard([spec])
    await board.run()
    st = board.states["unit"]
    assert st.status == "failed" and "1 failed" in card_text(st).plain and board.has_failures

    (root / "test_r.py").write_text(FAILS_THEN_FIXED.format(ok="True"))
    seen: list[str] = []
    apply = board.apply

    def watching(event):  # type: ignore[no-untyped-def]
        apply(event)
        seen.append(card_text(st).plain)

    board.apply = watching  # type: ignore[method-assign]
    run = board.run()
    import asyncio

    task = asyncio.ensure_future(run)
    await asyncio.sleep(0)
    queued = card_text(st).plain  # queued: nothing of the last run's counts
    await task
    assert queued.startswith("QUEUED") and "failed" not in queued and "pass rate" not in queued
    running = [text for text in seen if text.startswith("RUNNING")]
    assert running and not any("failed" in text for text in running), running
    assert st.status == "passed" and "3 passed" in card_text(st).plain and "failed" not in card_text(st).plain
    durations = [float(text.split()[1].rstrip("s")) for text in running if len(text.split()) > 1 and text.split()[1].endswith("s")]
    assert durations and durations[0] < 1.0  # the new run's clock, from zero
    assert not board.has_failures


async def test_a_blocked_rerun_keeps_the_failures_to_rerun(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", {"test_r.py": FAILS_THEN_FIXED.format(ok="False")})
    spec = spec_for(root, name="unit", requires=["staging"])
    up = True

    async def health(name: str) -> tuple[bool, str]:
        return up, "up" if up else "down"

    board = TierBoard([spec], health)
    await board.run()
    up = False
    await board.run()
    st = board.states["unit"]
    assert st.status == "blocked" and "failed" not in card_text(st).plain
    assert board.has_failures  # f still reruns what failed in the last run that ran


@pytest.mark.parametrize(("platform", "inside"), [("win32", ("Scripts", "python.exe")), ("linux", ("bin", "python"))])
def test_a_venv_folder_given_as_python_points_at_its_interpreter(platform: str, inside: tuple[str, str],
                                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from wsdash.commands.tiers_select import interpreter_problem

    monkeypatch.setattr(sys, "platform", platform)
    assert str(tmp_path.joinpath(*inside)) in (interpreter_problem(str(tmp_path)) or "")
    assert interpreter_problem("python3") is None  # a bare name: PATH's business, at run time


def test_on_windows_an_interpreter_path_without_exe_is_the_exe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """CreateProcess runs `.venv\\Scripts\\python` as python.exe; the up-front check said "does not exist" (review)."""
    from wsdash.commands.tiers_select import interpreter_problem

    (tmp_path / "Scripts").mkdir()
    (tmp_path / "Scripts" / "python.exe").write_bytes(b"")
    python = str(tmp_path / "Scripts" / "python")
    monkeypatch.setattr(sys, "platform", "win32")
    assert interpreter_problem(python) is None
    monkeypatch.setattr(sys, "platform", "linux")
    assert interpreter_problem(python) == "does not exist"
