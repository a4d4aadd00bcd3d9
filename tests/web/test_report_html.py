"""The HTML report in a real browser: it renders, asks for nothing over the network, and logs no
error — it must open from an email attachment in a room without network."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.ui.helpers import write_recording
from tests.web.browser import Watched, browser


def test_the_html_report_renders_offline_without_errors(tmp_path: Path) -> None:
    write_recording(tmp_path / "run.jsonl")
    (tmp_path / "tiers.json").write_text(json.dumps({"ok": False, "tiers": [
        {"name": "unit", "title": "Unit & configuration", "status": "passed", "target": 1.0, "pass_rate": 1.0,
         "counts": {"passed": 12, "failed": 0, "skipped": 0}, "duration_s": 41.0},
        {"name": "mission", "title": "Mission-critical", "status": "failed", "target": 1.0, "pass_rate": 1.0,
         "counts": {"passed": 1, "failed": 0, "skipped": 39}, "duration_s": 3.0, "message": "39 tests skipped"},
    ]}), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "wsdash", "report", "--recording", "run.jsonl", "--tiers-json", "tiers.json",
                          "--no-health", "--html", "report.html"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 1, out.stderr  # the mission-critical tier failed
    with browser() as b:
        page = b.new_page(viewport={"width": 1100, "height": 900})
        watched = Watched(page)
        page.goto((tmp_path / "report.html").as_uri())
        page.wait_for_load_state("load")
        assert page.locator("svg circle").count() == 5  # the five checkpoints on the timeline
        assert "Not every success criterion holds" in page.inner_text(".verdict")
        assert "Chat works end to end" in page.inner_text("body")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        assert watched.errors == []
        assert watched.off_machine() == []
