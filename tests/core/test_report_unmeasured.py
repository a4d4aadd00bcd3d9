"""`wsdash report` never says a criterion holds when it was not measured: no tier, no service
checked, a unit tier that could not start — each is ⚠️ (not measured) and the report does not hold.
Judged from the real outputs of `tiers run --json` and `check --json`, and from hand-made ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.core.test_report_saved import LOOPBACK_ONLY
from tests.ui.helpers import write_recording
from wsdash.core.criteria import build_plan


def rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["criterion"]: r for r in report["criteria"] + report["metrics"]}


def test_a_unit_tier_that_could_not_start_measured_no_feedback_time(cli, tmp_path: Path) -> None:
    """The real outputs: a unit tier whose pytest could not start (0 ran, pass rate null) showed
    "✔ Unit feedback (unit) < 5 min 1.6 s" and "✔ Total test time"."""
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_flow.py").write_text("def test_flow():\n    pass\n", encoding="utf-8")
    (tmp_path / "wsdash.toml").write_text(LOOPBACK_ONLY.replace('command = ["python", "-c", "pass"]',
                                          'pytest = ["suite/test_missing.py", "-q", "-p", "no:cacheprovider"]')
                                          + '[[tiers]]\nname = "flow"\npytest = ["suite/test_flow.py", "-q", "-p", "no:cacheprovider"]\n',
                                          encoding="utf-8")
    tiers = cli("tiers", "run", "--json", cwd=tmp_path, timeout=120)
    assert tiers.returncode == 1 and json.loads(tiers.stdout)["tiers"][0]["status"] == "error", tiers.stdout + tiers.stderr
    (tmp_path / "tiers.json").write_text(tiers.stdout, encoding="utf-8")
    check = cli("check", "--json", cwd=tmp_path)  # every target on 127.0.0.1:9 (down), Docker not required
    (tmp_path / "check.json").write_text(check.stdout, encoding="utf-8")

    out = cli("report", "--tiers-json", "tiers.json", "--check-json", "check.json", "--no-golden-path", "--json", cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr  # the real outputs are read (not exit 2)
    got = rows(json.loads(out.stdout))
    assert got["Unit feedback (unit)"]["ok"] is None and "ended in error, 0 ran" in got["Unit feedback (unit)"]["measured"]
    assert got["Total test time"]["ok"] is None and "unit did not run to the end" in got["Total test time"]["measured"]
    assert got["flow"]["ok"] is True and got["unit"]["ok"] is False
    assert got["Required services healthy"] == {**got["Required services healthy"], "ok": False, "measured": "down: local"}


def test_no_tier_and_no_service_checked_is_not_measured(cli, tmp_path: Path) -> None:
    """`{"ok": true, "tiers": []}` and `{"ok": false, "targets": []}` with a passing recording said
    "every success criterion holds" and "✔ Required services healthy  all up", exit 0."""
    write_recording(tmp_path / "run.jsonl")
    (tmp_path / "tiers.json").write_text('{"ok": true, "tiers": []}', encoding="utf-8")
    (tmp_path / "check.json").write_text('{"ok": false, "targets": []}', encoding="utf-8")
    out = cli("report", "--recording", "run.jsonl", "--tiers-json", "tiers.json", "--check-json", "check.json",
              "--md", "r.md", cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "NOT every success criterion holds" in out.stdout
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    for row in ("| ⚠️ not measured | Tiers | every tier meets its target | no tier ran |",
                "| ⚠️ not measured | Total test time | < 30 min | no tier ran |",
                "| ⚠️ not measured | Unit feedback | < 5 min | no tier ran |",
                "| ⚠️ not measured | Required services healthy | all up | no service was checked |"):
        assert row in md, md
    assert "| ✅ | Complete user flow validated |" in md  # the part that was measured still is


TIER = {"name": "unit", "title": "Unit", "status": "passed", "target": 1.0, "pass_rate": 1.0, "ran": 3, "skipped": 0,
        "duration_s": 12.0}


def plan_rows(tiers: list[dict[str, Any]] | None = None, health: dict[str, Any] | None = None) -> dict[str, Any]:
    plan = build_plan(health, None, tiers)
    return {c.name: c for c in plan.criteria + plan.metrics}


def test_a_tier_stopped_past_the_limit_fails_the_time_metrics_rather_than_hiding_them() -> None:
    """Not measured to the end, but already over the limit: that is measured enough to fail."""
    got = plan_rows([{**TIER, "status": "timeout", "duration_s": 2000.0, "ran": 1}])
    assert got["Unit feedback (Unit)"].ok is False and got["Total test time"].ok is False
    assert got["Total test time"].measured == "33.3 min and more"


def test_a_tier_where_every_test_skipped_or_that_was_blocked_measured_no_time() -> None:
    got = plan_rows([{**TIER, "status": "failed", "ran": 0, "skipped": 3}, {**TIER, "name": "e2e", "title": None,
                                                                            "status": "blocked", "duration_s": 0.0}])
    assert got["Unit feedback (Unit)"].ok is None and got["Unit feedback (Unit)"].measured == "not measured — no test ran"
    assert got["Total test time"].ok is None and "Unit, e2e did not run to the end" in got["Total test time"].measured
    assert plan_rows([TIER])["Total test time"].ok is True  # what ran to its end is measured


def test_required_services_without_a_required_one_or_against_the_checks_verdict() -> None:
    down_optional = {"name": "staging", "status": "down", "required": False}
    assert plan_rows(health={"ok": True, "targets": [down_optional]})["Required services healthy"].measured == "none required (1 checked)"
    contradicted = plan_rows(health={"ok": False, "targets": [{"name": "local", "status": "up", "required": True}]})
    assert contradicted["Required services healthy"].ok is False


def test_a_command_tier_is_judged_by_its_exit_status(cli, tmp_path: Path) -> None:
    """A linter tier that passed (`tiers run` exit 0) was "❌ — · 0 ran" in the report, exit 1: a
    command has no tests to count; its exit status is what it measured."""
    (tmp_path / "wsdash.toml").write_text(
        '[[tiers]]\nname = "lint"\ncommand = ["python", "-c", "pass"]\n'
        '[[tiers]]\nname = "types"\ncommand = ["python", "-c", "raise SystemExit(3)"]\n', encoding="utf-8")
    tiers = cli("tiers", "run", "--json", cwd=tmp_path, timeout=120)
    (tmp_path / "tiers.json").write_text(tiers.stdout, encoding="utf-8")
    out = cli("report", "--tiers-json", "tiers.json", "--no-health", "--no-golden-path", "--json", cwd=tmp_path)
    got = rows(json.loads(out.stdout))
    assert got["lint"] == {**got["lint"], "ok": True, "goal": "exit 0", "measured": "exit 0"}
    assert got["types"]["ok"] is False and got["types"]["measured"].startswith("exit 3")
    assert out.returncode == 1  # types failed
