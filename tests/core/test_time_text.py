"""The one home for how commands write times, and the history's one filter for tier runs."""

from __future__ import annotations

import time
from pathlib import Path

from wsdash.commands.time_text import ms, when
from wsdash.core.history import History
from wsdash.core.run_record import TierRecord


def test_times_read_the_same_in_history_watch_and_diff() -> None:
    assert ms(1234.4) == "1,234 ms" and ms(None) == "—"
    now = time.time()
    assert when(now, today="today ").startswith("today ") and not when(now).startswith("today")
    assert when(now - 3 * 86400).count("-") == 2  # another day: its date
    assert when(None) == "?"


def test_tier_runs_filter_by_tier_and_time(tmp_path: Path) -> None:
    now = time.time()

    def tier(name: str, at: float) -> TierRecord:
        return TierRecord(started_at=at, tier=name, title=name, status="passed", counts={"passed": 1},
                          pass_rate=1.0, target_rate=1.0, duration_s=1.0, source="tiers")

    with History(tmp_path / "h.sqlite") as db:
        for rec in (tier("unit", now - 7200), tier("unit", now - 60), tier("staging", now - 30)):
            db.add_tier_run(rec)
        assert [r.tier for r in db.tier_runs()] == ["staging", "unit", "unit"]
        assert [r.started_at for r in db.tier_runs("unit")] == [now - 60, now - 7200]
        assert [r.tier for r in db.tier_runs("unit", since=now - 3600)] == ["unit"]
