"""`wsdash tiers list|run` through a real argparse front door, in-process and as a process."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.tiers.tiers_support import BASE_ARGS, CHILD_ENV, write_suite
from wsdash.commands.tiers import register
from wsdash.commands.tiers_progress import HumanReporter, Style
from wsdash.services.tiers.events import TestFinished, TierStarted
from wsdash.services.tiers.model import TestResult, TierResult

REPO = Path(__file__).resolve().parents[2]


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wsdash")
    parser.add_argument("--config", default=None)  # a top-level flag must survive the sub-parsers
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_target(name: str, port: int) -> str:
    """A [targets.NAME] table on loopback: health checks never leave the machine."""
    return f'[targets.{name}]\nws_url = "ws://127.0.0.1:{port}/ws"\nhealth_url = "http://127.0.0.1:{port}/health"\n'


def write_config(path: Path, tiers: list[dict], extra: str = "") -> Path:
    env = ", ".join(f"{k} = {json.dumps(v)}" for k, v in CHILD_ENV.items())
    parts = []
    for t in tiers:
        lines = ["[[tiers]]", f"name = {json.dumps(t['name'])}"]
        if "pytest" in t:
            lines.append(f"pytest = {toml_list([*BASE_ARGS, *t['pytest']])}")
            lines.append(f"env = {{ {env} }}")
        if "command" in t:
            lines.append(f"command = {toml_list(t['command'])}")
        for key in ("cwd", "title"):
            if key in t:
                lines.append(f"{key} = {json.dumps(t[key])}")
        if "requires" in t:
            lines.append(f"requires = {toml_list(t['requires'])}")
        if "target" in t:
            lines.append(f"target = {t['target']}")
        parts.append("\n".join(lines))
    path.write_text(extra + "\n" + "\n\n".join(parts) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with a passing suite, a failing suite and a config naming four tiers."""
    write_suite(tmp_path / "good", {"test_good.py": "def test_a():\n    pass\n\ndef test_b():\n    pass\n"})
    write_suite(tmp_path / "bad", {
        "test_bad.py": textwrap.dedent("""
            import pytest

            def test_ok():
                pass

            def test_broken():
                token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
                assert token == "", f"\\x1b[31mleaked {token}\\x1b[0m"

            @pytest.mark.parametrize("n", [1, 2, 3])
            def test_param(n):
                assert n != 2

            def test_skipped():
                pytest.skip("not here")
        """),
    })
    write_config(tmp_path / "wsdash.toml", [
        {"name": "good", "title": "Good tier", "pytest": [], "cwd": "good"},
        {"name": "bad", "pytest": [], "cwd": "bad"},
        {"name": "cmd", "command": [sys.executable, "-c", "print('command ran')"]},
        {"name": "stage", "command": [sys.executable, "-c", "print('stage ran')"], "requires": ["box"]},
    ], extra=loopback_target("box", free_port()))
    return tmp_path


def test_list_json_builtin(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("tiers", "list", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["source"] == "built-in"
    assert [t["name"] for t in data["tiers"]] == ["unit", "staging", "mission-critical"]
    assert data["tiers"][1]["requires"] == ["staging"] and data["tiers"][1]["target"] == 0.95


def test_list_human_from_config(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    assert cli("tiers", "list", "--config", str(project / "wsdash.toml")) == 0
    out = capsys.readouterr().out
    assert "Good tier" in out and "stage" in out and "box" in out
    assert f"tiers from: {project / 'wsdash.toml'}" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_top_level_config_flag_is_not_clobbered(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    assert cli("--config", str(project / "wsdash.toml"), "tiers", "list", "--json") == 0
    assert [t["name"] for t in json.loads(capsys.readouterr().out)["tiers"]] == ["good", "bad", "cmd", "stage"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[[tiers]]\nname = "x"\npytest = []\nfrobnicate = 1\n', "unknown key(s) frobnicate"),
        ('[[tiers]]\nname = "x"\n', "exactly one of 'pytest'"),
        ("[[tiers]\nname = ", "not valid TOML"),
        ('[[tiers]]\nname = "x"\npytest = []\ntarget = 95\n', "did you mean 0.95"),
    ],
)
def test_config_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, needle: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    for command in (["list"], ["run"]):
        assert cli("tiers", *command, "--config", str(cfg)) == 2
        captured = capsys.readouterr()
        assert needle in captured.err and captured.out == ""
        assert str(cfg) in captured.err  # which file: a tier's key error said only "[[tiers]] #1"


def test_unknown_tier_name_exit_2(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    assert cli("tiers", "run", "good", "nope", "--config", str(project / "wsdash.toml"), "--json") == 2
    captured = capsys.readouterr()
    assert "unknown tier 'nope'; known tiers: good, bad, cmd, stage" in captured.err
    assert captured.out == ""


def test_junit_into_missing_directory_is_a_usage_error(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    assert cli("tiers", "run", "cmd", "--config", str(project / "wsdash.toml"), "--junit", str(project / "no" / "r.xml")) == 2
    assert "does not exist" in capsys.readouterr().err


def test_run_json_only_json_on_stdout(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    junit = project / "report.xml"
    code = cli("tiers", "run", "--config", str(project / "wsdash.toml"), "--json", "--junit", str(junit))
    out = capsys.readouterr().out
    data = json.loads(out)  # the whole of stdout is one JSON document
    assert code == 1 and data["ok"] is False
    tiers = {t["name"]: t for t in data["tiers"]}
    assert [t["name"] for t in data["tiers"]] == ["good", "bad", "cmd", "stage"]
    assert tiers["good"]["status"] == "passed" and tiers["good"]["pass_rate"] == 1.0
    bad = tiers["bad"]
    assert bad["status"] == "failed" and bad["exit_code"] == 1 and bad["target"] == 1.0
    assert bad["counts"] == {"passed": 3, "failed": 2, "skipped": 1, "xfailed": 0, "xpassed": 0, "error": 0}
    assert bad["pass_rate"] == 0.6 and bad["duration_s"] > 0
    assert {"nodeid", "outcome", "duration_s", "message"} <= set(bad["tests"][0])
    assert tiers["cmd"]["status"] == "passed" and tiers["cmd"]["pass_rate"] is None
    stage = tiers["stage"]
    # The real health probe of the loopback target: nothing listens there.
    assert stage["status"] == "blocked" and stage["blocked_by"] == "box"
    assert stage["message"].startswith("requires box — box: down") and "refused" in stage["message"]
    # Redaction: the JWT in the failure message never leaves the process in full.
    assert "c2lnbmF0dXJlLXNpZ25hdHVyZQ" not in out and "(redacted)" in out
    suites = {s.get("name"): s for s in ET.parse(junit).getroot().findall("testsuite")}
    assert suites["bad"].get("failures") == "2" and suites["stage"].find("testcase/skipped") is not None
    assert "c2lnbmF0dXJlLXNpZ25hdHVyZQ" not in junit.read_text()


def test_blocked_tiers_do_not_fail_the_run_and_can_be_skipped(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    cfg = str(project / "wsdash.toml")
    assert cli("tiers", "run", "good", "stage", "--config", cfg, "--json") == 0
    assert [t["status"] for t in json.loads(capsys.readouterr().out)["tiers"]] == ["passed", "blocked"]
    assert cli("tiers", "run", "stage", "--config", cfg, "--json") == 1  # nothing ran
    capsys.readouterr()
    assert cli("tiers", "run", "stage", "--config", cfg, "--json", "--skip-requires") == 0
    [stage] = json.loads(capsys.readouterr().out)["tiers"]
    assert stage["status"] == "passed" and stage["exit_code"] == 0 and "blocked_by" not in stage


def test_requires_a_healthy_target_runs_the_tier(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_thread  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("WSDASH_TIERS_TEST_SECRET", SECRET)  # the probe mints a token from it
    http = server_thread.http_url
    extra = (
        f'[targets.box]\nws_url = "{server_thread.url}"\nhealth_url = "{http}/health"\n'
        'secret_env = "WSDASH_TIERS_TEST_SECRET"\n'
    )
    cfg = write_config(tmp_path / "wsdash.toml", [
        {"name": "up", "command": [sys.executable, "-c", "print('ran')"], "requires": ["box"]},
    ], extra=extra)
    assert cli("tiers", "run", "--config", str(cfg), "--json") == 0
    [up] = json.loads(capsys.readouterr().out)["tiers"]
    assert up["status"] == "passed", up


def test_run_human_output(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code = cli("tiers", "run", "good", "bad", "cmd", "--config", str(project / "wsdash.toml"))
    out = capsys.readouterr().out
    assert code == 1
    assert "━━ good · Good tier" in out and "collected 2 test(s)" in out
    assert "✗ FAILED test_bad.py::test_broken" in out and "✗ FAILED test_bad.py::test_param[2]" in out
    assert "   .." in out  # progress dots for passes (not a terminal)
    assert "pass rate 60 % (target 100 % missed) · 5 of 6 ran · 1 skipped · 3 passed, 2 failed" in out
    assert "pass rate 100 % (target 100 % met)" in out
    assert "1 of 3 tier(s) did not pass" in out
    assert "\x1b" not in out  # neither our colours nor the test's own escape codes
    assert "c2lnbmF0dXJlLXNpZ25hdHVyZQ" not in out


def test_rerun_failed(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    cfg = str(project / "wsdash.toml")
    assert cli("tiers", "run", "bad", "--config", cfg, "--json") == 1
    capsys.readouterr()
    (project / "bad" / "test_bad.py").write_text(
        "import pytest\n\ndef test_broken():\n    pass\n\n@pytest.mark.parametrize('n', [1, 2, 3])\ndef test_param(n):\n    assert n != 2\n"
    )
    assert cli("tiers", "run", "bad", "--config", cfg, "--json", "--rerun-failed") == 1
    [bad] = json.loads(capsys.readouterr().out)["tiers"]
    assert [(t["nodeid"], t["outcome"]) for t in bad["tests"]] == [
        ("test_bad.py::test_broken", "passed"), ("test_bad.py::test_param[2]", "failed"),
    ]
    assert bad["rerun_of"] == ["test_bad.py::test_broken", "test_bad.py::test_param[2]"] and bad["deselected"] == 2
    # Human mode says what it does; the record now holds only the one still failing.
    assert cli("tiers", "run", "bad", "--config", cfg, "--rerun-failed") == 1
    out = capsys.readouterr().out
    assert "rerunning 1 test(s) that failed last time" in out and "collected 1 test(s), 3 deselected" in out


class FakeTTY(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def _events() -> list:
    return [
        TierStarted("t", ("python",), 1),
        TestFinished("t", TestResult("t.py::a", "passed")),
        TestFinished("t", TestResult("t.py::b", "failed", message="\x1b[2Jboom")),
    ]


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = FakeTTY()
    reporter = HumanReporter(tty)
    for e in _events():
        reporter(e)
    reporter.tier_result(TierResult(name="t", title="t", kind="pytest", status="failed", target=1.0, pass_rate=0.5, target_met=False))
    text = tty.getvalue()
    assert "\x1b[31m" in text and "\x1b[2J" not in text  # our red, never the test's escape codes
    assert "\r\x1b[2K" in text  # the live counter is redrawn in place

    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style(FakeTTY()).color
    plain = io.StringIO()
    assert not Style(plain).color


def test_ascii_fallback_for_legacy_consoles() -> None:
    class Cp1252(io.StringIO):
        encoding = "cp1252"

    style = Style(Cp1252())
    assert (style.ok, style.bad) == ("OK", "X")


@pytest.mark.skipif(sys.platform.startswith("win"), reason="sends SIGINT")
def test_ctrl_c_gives_a_partial_summary(tmp_path: Path) -> None:
    write_suite(tmp_path / "slow", {
        "test_slow.py": textwrap.dedent("""
            import pathlib, time

            def test_one():
                pass

            def test_two():
                pass

            def test_sleeps():
                pathlib.Path("sleeping").touch()
                time.sleep(30)

            def test_never():
                pass
        """),
    })
    cfg = write_config(tmp_path / "wsdash.toml", [{"name": "slow", "pytest": [], "cwd": "slow"}, {"name": "later", "command": [sys.executable, "-c", "pass"]}])
    script = (
        "import argparse, sys\n"
        "from wsdash.commands.tiers import register\n"
        "p = argparse.ArgumentParser(); register(p.add_subparsers(dest='c', required=True))\n"
        "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "tiers", "run", "--json", "--config", str(cfg)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "slow" / "sleeping").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err  # interrupted: not the 1 of a failed tier
    slow, later = json.loads(out)["tiers"]
    assert slow["status"] == "cancelled" and slow["counts"]["passed"] == 2 and slow["exit_code"] == 2
    assert later["status"] == "cancelled" and "not started" in later["message"]
    assert "cancelling" in err


def test_config_cwd_is_relative_to_the_config_file(capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert cli("tiers", "run", "good", "--config", str(project / "wsdash.toml"), "--json") == 0
    assert json.loads(capsys.readouterr().out)["tiers"][0]["counts"]["passed"] == 2


def test_found_config_in_the_working_directory(capsys: pytest.CaptureFixture[str], project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    assert cli("tiers", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)["source"] == str(project / "wsdash.toml")
