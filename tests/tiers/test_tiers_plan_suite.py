"""The plan's trap, on a real generated suite: Docker is down, so almost nothing runs.

Shaped like the backend's mission-critical suite: one configuration test passes; 24 Docker-backed
WebSocket tests skip on the suite's own Docker check (with ports and timings in some reasons);
3 `no_skip` tests skip the same way; one module skips at import, one `importorskip`s a package
that is not installed; one file's tests are all deselected by `-m websocket`, and with them a
`no_skip` test. `wsdash tiers run` must say FAILED (never "target met"), show what ran next to
the pass rate, group the reasons with the counts pytest's own `-rs` summary gives, name the
no_skip tests one by one, count the files skipped at collection, and trace the skips to Docker
being down with something to do that exists (`--target box`, which the test then runs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.tiers.test_tiers_command import cli, free_port
from tests.tiers.tiers_support import BASE_ARGS, CHILD_ENV, parse_summary, write_suite
from wsdash.services.tiers.skips import group_key

CONFTEST = '''
import os

import pytest


def docker_available() -> bool:
    # As the backend's conftest does on Windows: SKIP_DOCKER_TESTS=true skips every Docker test.
    # Pointed at a target (wsdash tiers run --target), the tests use it instead of Docker.
    return os.environ.get("SKIP_DOCKER_TESTS") != "true" and os.environ.get("WSDASH_TARGET") == "box"


@pytest.fixture
def docker():
    if not docker_available():
        pytest.skip("Docker not available")
'''

SUITE = {
    "tests/mission_critical/conftest.py": CONFTEST,
    "tests/mission_critical/test_config.py": """
        import pytest

        @pytest.mark.websocket
        def test_settings_load():
            pass
    """,
    "tests/mission_critical/test_ws_events.py": """
        import pytest

        @pytest.mark.websocket
        @pytest.mark.parametrize("event", range(10))
        def test_event_delivered(docker, event):
            pass
    """,
    "tests/mission_critical/test_ws_agents.py": """
        import pytest
        from conftest import docker_available

        @pytest.mark.websocket
        @pytest.mark.parametrize("i", range(8))
        def test_agent_run(i):
            if not docker_available():
                pytest.skip(f"Docker not available: cannot reach 127.0.0.1:{2375 + i}")
    """,
    "tests/mission_critical/test_ws_tools.py": """
        import pytest
        from conftest import docker_available

        @pytest.mark.websocket
        @pytest.mark.parametrize("i", range(6))
        def test_tool_events(i):
            if not docker_available():
                pytest.skip(f"Docker not available (waited 0.{i}5 s)")
    """,
    "tests/mission_critical/test_must_pass.py": """
        import pytest

        @pytest.mark.websocket
        @pytest.mark.no_skip
        @pytest.mark.parametrize("n", range(3))
        def test_golden_path_events(docker, n):
            pass
    """,
    "tests/mission_critical/test_ws_module.py": """
        import pytest
        from conftest import docker_available

        if not docker_available():
            pytest.skip("Docker not available", allow_module_level=True)

        @pytest.mark.websocket
        def test_never_here():
            pass
    """,
    "tests/mission_critical/test_ws_optional.py": """
        import pytest

        pytest.importorskip("wsdash_no_such_package_xyz")

        @pytest.mark.websocket
        def test_never_here():
            pass
    """,
    "tests/mission_critical/test_not_websocket.py": """
        import pytest

        def test_slow_thing():
            pass

        @pytest.mark.no_skip
        def test_must_but_unmarked():
            pass
    """,
}
SELECTION = ["tests/mission_critical", "-m", "websocket"]
NO_SKIP = [f"tests/mission_critical/test_must_pass.py::test_golden_path_events[{n}]" for n in range(3)]
UNMARKED = "tests/mission_critical/test_not_websocket.py::test_must_but_unmarked"


@pytest.fixture
def plan(tmp_path: Path, server_thread, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The suite, and a config: Docker at a loopback port nothing listens on (down), target
    `box` on the embedded server (up), the tier told how to run against box."""
    root = write_suite(tmp_path / "backend", SUITE)
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    websocket: ws\n    no_skip: must run\n", encoding="utf-8")
    monkeypatch.setenv("WSDASH_PLAN_TEST_SECRET", SECRET)
    env = ", ".join(f"{k} = {json.dumps(v)}" for k, v in {**CHILD_ENV, "SKIP_DOCKER_TESTS": "true"}.items())
    cfg = tmp_path / "wsdash.toml"
    cfg.write_text(
        f'[docker]\nhost = "tcp://127.0.0.1:{free_port()}"\n\n'
        f'[targets.local]\nws_url = "ws://127.0.0.1:{free_port()}/ws"\n\n'
        f'[targets.box]\nws_url = "{server_thread.url}"\nhealth_url = "{server_thread.http_url}/health"\n'
        'secret_env = "WSDASH_PLAN_TEST_SECRET"\n\n'
        f'[[tiers]]\nname = "mission-critical"\npytest = {json.dumps([*BASE_ARGS, *SELECTION])}\n'
        f'cwd = {json.dumps(str(root))}\nenv = {{ {env} }}\nmax_skipped = 0\n\n'
        '[tiers.target_env.box]\nSKIP_DOCKER_TESTS = "false"\n',
        encoding="utf-8",
    )
    return root, cfg


_RS_LINE = re.compile(r"^SKIPPED \[(\d+)\] [^:]+:\d+: (.*)$")


def pytest_rs(root: Path) -> tuple[Counter[str], dict[str, int]]:
    """pytest's own word: its -rs lines (count per reason, grouped as wsdash groups) and summary."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *BASE_ARGS, *SELECTION, "-rs"],
        cwd=root, env={**os.environ, **CHILD_ENV, "SKIP_DOCKER_TESTS": "true"},
        capture_output=True, text=True, timeout=120,
    )
    reasons: Counter[str] = Counter()
    for line in proc.stdout.splitlines():
        if m := _RS_LINE.match(line):
            reasons[group_key(m.group(2))] += int(m.group(1))
    return reasons, parse_summary(proc.stdout)


def test_the_plan_suite_is_failed_and_says_why(capsys: pytest.CaptureFixture[str], plan) -> None:  # type: ignore[no-untyped-def]
    root, cfg = plan
    junit = root.parent / "junit.xml"
    assert cli("tiers", "run", "mission-critical", "--config", str(cfg), "--json", "--junit", str(junit)) == 1
    [tier] = json.loads(capsys.readouterr().out)["tiers"]
    sk = tier["skips"]

    # pytest's own -rs summary, for the same selection: the same skips, grouped the same way.
    reasons, summary = pytest_rs(root)
    assert summary == {"passed": 1, "skipped": 29, "deselected": 2}
    assert tier["counts"]["skipped"] == summary["skipped"] == sum(reasons.values())
    assert {g["normalised"]: g["count"] for g in sk["groups"]} == dict(reasons)
    assert [(g["count"], g["reason"], g["at_collection"]) for g in sk["groups"]] == [
        (14, "Docker not available", 1),  # 10 fixture skips, 3 no_skip tests, 1 module at import
        (8, "Docker not available: cannot reach 127.0.0.1:<port>", 0),  # ports do not split the group
        (6, "Docker not available (waited <n> s)", 0),
        (1, "could not import 'wsdash_no_such_package_xyz': No module named 'wsdash_no_such_package_xyz'", 1),
    ]

    # Judged on what ran.
    assert tier["status"] == "failed" and tier["target_met"] is False
    assert (sk["ran"], sk["skipped"], sk["total"], sk["deselected"]) == (1, 29, 30, 2)
    assert [f["nodeid"] for f in sk["no_skip_failures"]] == [*NO_SKIP, UNMARKED]
    assert sk["no_skip_failures"][0]["why"] == "skipped: Docker not available"
    assert sk["no_skip_failures"][-1]["why"] == "deselected by the tier's selection"
    assert sk["files"] == {
        "collected": 8, "errors": [],
        "skipped_at_import": ["tests/mission_critical/test_ws_module.py", "tests/mission_critical/test_ws_optional.py"],
        "deselected": ["tests/mission_critical/test_not_websocket.py"],
    }
    assert "4 no_skip tests did not run (deselected or skipped)" in tier["message"]
    assert "29 of 30 skipped, more than max_skipped = 0" in tier["message"]

    # Traced: Docker is down (wsdash checked), box is up and the tier can run against it.
    [docker] = sk["advice"]
    assert docker["text"] == (
        "27 tests and 1 file (at import) skipped because Docker is down (Environment: Docker ✗) — "
        "run them against box: `wsdash tiers run mission-critical --target box`"
    )

    props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert props["status"] == "failed" and props["target_met"] == "false"
    assert (props["ran"], props["skipped"], props["total"], props["ran_text"]) == ("1", "29", "30", "1 of 30 ran · 29 skipped")
    assert props["skip_reasons"].startswith("14 × Docker not available; 8 × Docker not available: cannot reach")
    assert props["files_skipped_at_collection"] == "3 of 8 files skipped at collection (2 at import, 1 deselected)"
    no_skip_cases = [c for c in ET.parse(junit).getroot().iter("testcase")
                     if (f := c.find("failure")) is not None and f.get("type") == "wsdash.no_skip"]
    assert len(no_skip_cases) == 4


def test_the_human_report_never_says_target_met_for_it(capsys: pytest.CaptureFixture[str], plan) -> None:  # type: ignore[no-untyped-def]
    root, cfg = plan
    assert cli("tiers", "run", "--config", str(cfg)) == 1
    out = capsys.readouterr().out
    assert "target 100 % met" not in out
    verdict = next(line for line in out.splitlines() if "pass rate" in line)
    assert "✗ failed" in verdict and "1 of 30 ran · 29 skipped" in verdict
    assert "○ 14 × Docker not available (1 at import)" in out
    assert "3 of 8 files skipped at collection (2 at import, 1 deselected)" in out
    for nodeid in NO_SKIP:
        assert f"✗ no_skip {nodeid}  skipped: Docker not available" in out
    assert f"✗ no_skip {UNMARKED}  deselected by the tier's selection" in out
    assert "because Docker is down (Environment: Docker ✗) — run them against box: `wsdash tiers run mission-critical --target box`" in out


def test_the_offered_command_runs_them_against_the_target(capsys: pytest.CaptureFixture[str], plan) -> None:  # type: ignore[no-untyped-def]
    root, cfg = plan
    code = cli("tiers", "run", "mission-critical", "--target", "box", "--config", str(cfg), "--json")
    [tier] = json.loads(capsys.readouterr().out)["tiers"]
    sk = tier["skips"]
    # The Docker-backed tests ran against box; only the missing package still skips (and the
    # unmarked no_skip test is still deselected), so the tier is still honest about it.
    assert tier["on_target"] == "box" and code == 1
    assert (sk["ran"], sk["skipped"]) == (29, 1)
    assert [g["reason"] for g in sk["groups"]] == [
        "could not import 'wsdash_no_such_package_xyz': No module named 'wsdash_no_such_package_xyz'"]
    assert [f["nodeid"] for f in sk["no_skip_failures"]] == [UNMARKED]
