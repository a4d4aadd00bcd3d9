"""Several tiers in a row (batch.py): a tier blocked by its targets' health runs nothing, a cancel
before a tier starts runs nothing, and the event iterator's early exit leaves nothing running."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.tiers.tiers_support import QUICK, SLOW_LAST, pid_dead, spec_for, write_suite
from wsdash.services.tiers.batch import iter_tier_events, run_tiers
from wsdash.services.tiers.events import OutputLine, TestStarted, TierEvent, TierFinished, TierStarted
from wsdash.services.tiers.spec import TierSpec


async def test_blocked_tier_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    make = [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]
    specs = [
        TierSpec.from_table({"name": "needs-staging", "command": make, "requires": ["staging"]}),
        TierSpec.from_table({"name": "needs-both", "command": make, "requires": ["local", "staging"]}),
        TierSpec.from_table({"name": "needs-local", "command": [sys.executable, "-c", "pass"], "requires": ["local"]}),
        TierSpec.from_table({"name": "needs-broken-probe", "command": make, "requires": ["flaky"]}),
    ]
    asked: list[str] = []

    async def health(target: str) -> tuple[bool, str]:
        asked.append(target)
        if target == "flaky":
            raise ConnectionRefusedError("probe exploded")
        return (target == "local", "up" if target == "local" else "connection refused on :443")

    events: list[TierEvent] = []
    results = await run_tiers(specs, health=health, on_event=events.append)
    assert [r.status for r in results] == ["blocked", "blocked", "passed", "blocked"]
    assert results[0].blocked_by == "staging" and "connection refused on :443" in (results[0].message or "")
    assert results[1].blocked_by == "staging"
    assert "ConnectionRefusedError: probe exploded" in (results[3].message or "")
    assert not marker.exists()
    assert sorted(asked) == ["flaky", "local", "staging"]  # each target probed once per run
    assert [e.result.status for e in events if isinstance(e, TierFinished)] == ["blocked", "blocked", "passed", "blocked"]
    assert results[0].to_dict()["blocked_by"] == "staging"


async def test_cancel_before_a_tier_starts_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    cancel = asyncio.Event()
    cancel.set()
    spec = TierSpec.from_table({"name": "c", "command": [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]})
    [result] = await run_tiers([spec], cancel=cancel)
    assert result.status == "cancelled" and not result.started and not marker.exists()


async def test_iter_tier_events_and_early_exit(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", QUICK)
    kinds = [type(e).__name__ async for e in iter_tier_events([spec_for(root)]) if not isinstance(e, OutputLine)]
    assert kinds[0] == "TierStarted" and kinds[-1] == "TierFinished" and kinds.count("TestFinished") == 5

    slow = write_suite(tmp_path / "slow", SLOW_LAST)
    pid = None
    agen = iter_tier_events([spec_for(slow)])
    async for e in agen:
        if isinstance(e, TierStarted):
            pid = e.pid
        if isinstance(e, TestStarted) and e.nodeid.endswith("test_sleeps"):
            break
    await agen.aclose()
    assert pid is not None and pid_dead(pid)
