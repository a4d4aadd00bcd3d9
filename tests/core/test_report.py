"""`wsdash report` as a release manager runs it: real processes, a real server, a real suite —
live, and from saved results, which must judge the same."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import SECRET


def project(tmp_path: Path, url: str, *, failing: bool = False) -> Path:
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_unit.py").write_text("def test_config():\n    pass\n\ndef test_more():\n    pass\n")
    (tmp_path / "suite" / "test_flow.py").write_text(
        "def test_flow():\n    assert " + ("False" if failing else "True") + "\n")
    (tmp_path / "wsdash.toml").write_text(f"""
default_target = "local"
[targets.local]
ws_url = "{url}"
secret_env = "WSDASH_TEST_SECRET"
[targets.staging]
required = false
[docker]
required = false
[[tiers]]
name = "unit"
title = "Unit & configuration"
pytest = ["suite/test_unit.py", "-q", "-p", "no:cacheprovider"]
[[tiers]]
name = "mission"
title = "Mission-critical"
pytest = ["suite/test_flow.py", "-q", "-p", "no:cacheprovider"]
""", encoding="utf-8")
    return tmp_path


ENV = {"WSDASH_TEST_SECRET": SECRET}


def test_a_passing_plan_in_every_format(server_thread, cli, tmp_path: Path) -> None:
    where = project(tmp_path, server_thread.url)
    out = cli("report", "--no-health", "--md", "r.md", "--html", "r.html", cwd=where, env=ENV, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    md = (where / "r.md").read_text(encoding="utf-8")
    assert "## Test Success Criteria" in md and "## Success Metrics" in md
    assert "| ✅ | Unit & configuration | 100 % pass | 100 % · 2 ran |" in md
    assert "| ✅ | All five critical events confirmed | 5 of 5 | 5 of 5 |" in md
    assert "Chat works end to end" in md and "It is using a tool: cost analyzer" in md
    page = (where / "r.html").read_text(encoding="utf-8")
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    for text in (md, page, out.stdout):
        assert SECRET not in text and "eyJ" not in text


def test_a_failing_criterion_fails_the_report(server_thread, cli, tmp_path: Path) -> None:
    where = project(tmp_path, server_thread.url, failing=True)
    out = cli("report", "--no-health", "--json", cwd=where, env=ENV, timeout=120)
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["ok"] is False
    mission = next(c for c in data["criteria"] if c["criterion"] == "Mission-critical")
    assert mission["ok"] is False and mission["measured"].startswith("0 %")


def test_a_part_not_measured_does_not_pass(server_thread, cli, tmp_path: Path) -> None:
    where = project(tmp_path, "ws://127.0.0.1:9/ws")  # nothing listens: the golden path cannot run
    out = cli("report", "--no-health", "--no-tiers", "--json", cwd=where, env=ENV, timeout=60)
    assert out.returncode == 1
    data = json.loads(out.stdout)
    flow = next(c for c in data["criteria"] if c["criterion"] == "Complete user flow validated")
    assert flow["ok"] is False and "refused" in flow["measured"]
    first = next(m for m in data["metrics"] if m["criterion"] == "First agent event")
    assert first["ok"] is None  # not measured: never a ✅


def test_saved_results_judge_like_a_live_run(server_thread, cli, tmp_path: Path) -> None:
    where = project(tmp_path, server_thread.url)
    assert cli("golden-path", "--record", "run.jsonl", "--json", cwd=where, env=ENV).returncode == 0
    tiers = cli("tiers", "run", "--json", cwd=where, env=ENV, timeout=120)
    assert tiers.returncode == 0, tiers.stderr
    (where / "tiers.json").write_text(tiers.stdout, encoding="utf-8")
    health = cli("check", "--only", "local", "--json", cwd=where, env=ENV)
    (where / "check.json").write_text(health.stdout, encoding="utf-8")
    saved = cli("report", "--recording", "run.jsonl", "--tiers-json", "tiers.json", "--check-json", "check.json",
                "--json", cwd=where, env=ENV)
    assert saved.returncode == 0, saved.stderr
    data = json.loads(saved.stdout)
    assert [c["ok"] for c in data["criteria"]] == [True] * 4
    assert any("recording run.jsonl" in s for s in data["sources"])


@pytest.mark.parametrize(("flag", "content", "says"), [
    ("--tiers-json", "not json", "is not JSON"),
    ("--tiers-json", '{"ok": true}', 'has no "tiers" list'),
    ("--check-json", "[]", "holds an array, not an object"),
    ("--recording", "", "empty"),
])
def test_a_bad_saved_file_is_named(flag: str, content: str, says: str, cli, tmp_path: Path) -> None:
    (tmp_path / "saved").write_text(content, encoding="utf-8")
    out = cli("report", flag, "saved", "--no-health" if flag != "--check-json" else "--no-tiers",
              "--no-golden-path" if flag != "--recording" else "--no-tiers", cwd=tmp_path)
    assert out.returncode == 2, out.stdout
    assert "saved" in out.stderr and says in out.stderr and "Traceback" not in out.stderr


def test_skipped_tests_are_not_validated_and_their_reasons_are_printed(server_thread, cli, tmp_path: Path) -> None:
    where = project(tmp_path, server_thread.url)
    (where / "suite" / "test_docker.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('port', [8002, 8003, 8004])\n"
        "def test_stack(port):\n    pytest.skip(f'Docker not available (127.0.0.1:{port} refused)')\n", encoding="utf-8")
    with open(where / "wsdash.toml", "a", encoding="utf-8") as f:
        f.write('[[tiers]]\nname = "e2e"\ntitle = "Staging E2E"\npytest = ["suite/test_docker.py", "suite/test_flow.py", "-q", '
                '"-p", "no:cacheprovider"]\nmax_skipped = 0\n')
    out = cli("report", "--no-health", "--no-golden-path", "--md", "r.md", cwd=where, env=ENV, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    md = (where / "r.md").read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if "| Staging E2E |" in line)
    assert row.startswith("| ❌ |") and "1 of 4 ran, 3 skipped" in row
    assert "↳ 3 × skipped: Docker not available" in md


@pytest.mark.parametrize(("flag", "where", "says"), [
    ("--md", os.path.join("missing", "report.md"), "its folder {root} does not exist"),
    ("--html", ".", "--html . is a folder: give a file name, e.g. " + os.path.join(".", "report.html")),
    ("--md", "", "--md needs a file name, e.g. --md report.md"),  # wrote nothing and exited 0
    ("--html", "", "--html needs a file name, e.g. --html report.html"),
])
def test_a_report_that_could_not_be_written_says_so_before_running_anything(
        flag: str, where: str, says: str, server_thread, cli, tmp_path: Path) -> None:
    """`--md` into a folder that is not there used to run health, a golden path and every tier
    (minutes) and only then fail to write: now it is said at once, and nothing runs."""
    root = project(tmp_path, server_thread.url)
    ran = tmp_path / "ran"
    (root / "suite" / "conftest.py").write_text(f"open({str(ran)!r}, 'w').close()\n")  # any tier run leaves this
    out = cli("report", flag, where, env=ENV, cwd=root)
    assert out.returncode == 2, out.stdout + out.stderr
    assert says.replace("{root}", str(root / "missing")) in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == "" and not ran.exists()
