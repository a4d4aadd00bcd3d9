"""`wsdash history`'s summaries are computed in SQLite (core/history_summary.py): they must say
exactly what `run_stats.summarize` says over the same runs — pass rate, percentiles, the longest
failing streak, the last change — for any mix of targets, windows and out-of-order writes; and a
file written by the first schema must migrate and summarise the same."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import pytest

from wsdash.core import history_migrations
from wsdash.core.history import History
from wsdash.core.run_record import RunRecord
from wsdash.core.run_stats import summarize

NOW = time.time()


def random_runs(rng: random.Random, n: int, targets: tuple[str, ...]) -> list[RunRecord]:
    """Runs in stretches of passing and failing, written out of time order (two writers, a
    dashboard's late write), some that never saw an event or never completed."""
    out = []
    failing = False
    for i in range(n):
        if rng.random() < 0.15:
            failing = not failing
        verdict = rng.choice(("failed", "failed", "no_run")) if failing else "passed"
        first = None if verdict == "no_run" or rng.random() < 0.05 else round(rng.lognormvariate(4, 0.5), 3)
        completed = verdict == "passed" or rng.random() < 0.3
        total = None if first is None or rng.random() < 0.05 else round(first + rng.lognormvariate(5.5, 0.4), 3)
        at = NOW - 3 * 86400 + i * 60 + rng.uniform(-400, 400)  # neighbours swap places
        out.append(RunRecord(started_at=at, target=rng.choice(targets), url="ws://x/ws", source="test", verdict=verdict,
                             completed=completed, first_event_ms=first, total_ms=total))
    rng.shuffle(out[: n // 3])  # a third written in no order at all
    return out


def expected(db: History, target: str | None, since: float | None) -> list:
    """What run_stats.summarize says over the same runs, read back one by one."""
    rows = sorted(((r.started_at, r.target, r.verdict, r.completed, r.first_event_ms, r.total_ms) for r in db.runs(target, since)),
                  key=lambda row: (row[1], row[0]))
    names = [target] if target else sorted({row[1] for row in rows})
    return [summarize([row for row in rows if row[1] == name], name) for name in names]


@pytest.mark.parametrize("seed", range(6))
def test_sql_summaries_match_the_python_summary(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    with History(tmp_path / "h.sqlite3") as db:
        db.add_many(random_runs(rng, rng.choice((1, 2, 40, 700, 3000)), ("local", "staging", "ws://10.0.0.1/ws")))
        for target in (None, "local", "staging", "nowhere"):
            for since in (None, NOW - 2 * 86400, NOW - 3600, NOW + 60):
                got = db.summaries(target, since)
                assert [s.to_json() for s in got] == [s.to_json() for s in expected(db, target, since)], (target, since)


def test_streaks_and_changes_at_the_edges(tmp_path: Path) -> None:
    """The newest run failing (an ongoing streak), a tie for the longest (the first wins), a
    target that never changed, a window that cuts a streak in two."""
    states = {"a": "PFFFPPFFFPFF", "b": "PPPP", "c": "FFFF", "d": "F"}
    with History(tmp_path / "h.sqlite3") as db:
        db.add_many([RunRecord(started_at=NOW - 1000 + i, target=t, url="u", source="test", verdict="passed" if ch == "P" else "failed",
                               completed=ch == "P", first_event_ms=float(i), total_ms=float(10 * i))
                     for t, pattern in states.items() for i, ch in enumerate(pattern)])
        a, b, c, d = db.summaries()
        assert (a.longest_failing.runs, a.longest_failing.first_at, a.longest_failing.ongoing) == (3, NOW - 999, False)
        assert (a.last_change.now, a.last_change.after, a.last_change.at) == ("failing", 1, NOW - 990)
        assert b.longest_failing.runs == 0 and b.last_change is None and b.last_ok is True
        assert c.longest_failing.runs == 4 and c.longest_failing.ongoing and c.last_change is None and c.passed == 0
        assert d.runs == 1 and d.first_event_ms.p99 == 0.0 and d.total_ms.n == 0
        (cut,) = db.summaries("a", NOW - 993)  # "FFPFF" of "PFFFPPFFFPFF": the streak at 6–8 cut to 7–8
        assert (cut.runs, cut.longest_failing.runs, cut.longest_failing.first_at) == (5, 2, NOW - 993)
        assert [s.to_json() for s in db.summaries()] == [s.to_json() for s in expected(db, None, None)]


def test_a_file_written_at_schema_1_migrates_and_summarises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The history of a wsdash from before the percentile indexes: opened by this one, it gains
    them in place, keeps every run, and answers with them."""
    path = tmp_path / "old.sqlite3"
    runs = random_runs(random.Random(7), 500, ("local", "staging"))
    with monkeypatch.context() as m:
        m.setattr(history_migrations, "MIGRATIONS", history_migrations.MIGRATIONS[:1])  # the schema that shipped first
        with History(path) as db:
            db.add_many(runs)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "runs_by_total" not in {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    con.close()
    with History(path) as db:
        assert len(db.runs()) == 500
        assert [s.to_json() for s in db.summaries()] == [s.to_json() for s in expected(db, None, None)]
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == history_migrations.schema_version() == 2
    assert {"runs_by_first_event", "runs_by_total"} <= {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    con.close()
