"""Helpers shared by the tier tests: generate real suites, run them plainly and through wsdash."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from wsdash.services.tiers.model import TierResult
from wsdash.services.tiers.spec import TierSpec

# Child pytest runs skip the venv's auto-loaded plugins (textual snapshots, hypothesis…): they
# cost ~3 s per start and say nothing about wsdash. xdist runs load xdist explicitly.
CHILD_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
BASE_ARGS = ["-p", "no:cacheprovider"]
XDIST_ARGS = ["-p", "xdist.plugin", "-n", "2"]


# Suites more than one test module runs.
QUICK = {
    "test_quick.py": """
        import pytest

        def test_one():
            pass

        def test_two():
            assert 1 + 1 == 3

        @pytest.mark.parametrize("n", [1, 2])
        def test_three(n):
            pass

        def test_skipped():
            pytest.skip("later")
    """,
}

SLOW_LAST = {
    "test_slow_last.py": """
        import time

        def test_a():
            pass

        def test_b():
            pass

        def test_c():
            assert 0

        def test_sleeps():
            time.sleep(30)

        def test_never_reached():
            pass
    """,
}



def write_suite(root: Path, files: dict[str, str]) -> Path:
    """A suite of its own (pytest.ini pins the rootdir), files dedented."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\nmarkers =\n    websocket: ws\n    slow: slow\n", encoding="utf-8")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def spec_for(root: Path, *args: str, **kw: Any) -> TierSpec:
    table: dict[str, Any] = {
        "name": kw.pop("name", "t"),
        "pytest": [*BASE_ARGS, *args],
        "cwd": str(root),
        "env": {**CHILD_ENV, **kw.pop("env", {})},
    }
    table.update(kw)
    return TierSpec.from_table(table)


_SUMMARY_WORD = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|deselected)\b")


def parse_summary(output: str) -> dict[str, int]:
    """Counts from pytest's own final line, e.g. '== 1 failed, 2 passed, 1 error in 0.1s =='."""
    lines = [ln for ln in output.splitlines() if re.search(r"\bin \d+(\.\d+)?s\b", ln)]
    assert lines, f"no summary line in pytest output:\n{output[-2000:]}"
    counts: dict[str, int] = {}
    for n, word in _SUMMARY_WORD.findall(lines[-1]):
        counts["error" if word.startswith("error") else word] = int(n)
    return counts


def plain_pytest(root: Path, *args: str) -> tuple[dict[str, int], int]:
    """(summary counts, exit code) of a plain `python -m pytest` run of the same suite."""
    env = {**os.environ, **CHILD_ENV}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *BASE_ARGS, *args],
        cwd=root, env=env, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=120,
    )
    return parse_summary(proc.stdout), proc.returncode


def wsdash_counts(result: TierResult) -> dict[str, int]:
    counts = {k: v for k, v in result.counts.items() if v}
    if result.deselected:
        counts["deselected"] = result.deselected
    return counts


def pid_dead(pid: int, within_s: float = 5.0) -> bool:
    """True once `pid` is gone or a zombie (killed, waiting for its parent to reap it), on every OS.

    psutil, not /proc (absent on Windows and macOS) nor os.kill(pid, 0) (TerminateProcess on
    Windows: the check would kill what it looks at)."""
    import psutil

    deadline = time.monotonic() + within_s
    while True:
        try:
            if psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                return True
        except psutil.NoSuchProcess:
            return True
        except psutil.AccessDenied:
            pass  # it exists, and is not ours to inspect: alive
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
