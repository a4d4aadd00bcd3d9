"""The run history as a store: SQLite in WAL mode, user-only, a schema that migrates and refuses
a newer one, retention, two processes writing at once, and nothing secret inside."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import SECRET
from wsdash.core import history as history_mod
from wsdash.core import history_migrations
from wsdash.core.history import History, HistoryError
from wsdash.core.run_record import RunRecord
from wsdash.services.session.handshake import SessionOptions
from wsdash.services.session.once import run_golden_path

REPO = Path(__file__).resolve().parents[2]


def record(at: float, verdict: str = "passed", target: str = "local", first: float | None = 50.0, total: float | None = 300.0) -> RunRecord:
    return RunRecord(started_at=at, target=target, url="ws://127.0.0.1:8002/ws", source="test", verdict=verdict,
                     completed=verdict == "passed", first_event_ms=first, total_ms=total)


def test_a_new_history_is_wal_user_only_and_at_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "new" / "history.sqlite3"
    with History(path) as db:
        db.add_run(record(time.time()))
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == history_mod.schema_version()
        con.close()
        if os.name == "posix":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
            wal = Path(f"{path}-wal")
            assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600  # SQLite copies the file's mode


def test_it_lives_in_the_user_data_dir(private_history: Path) -> None:
    assert history_mod.default_path() == private_history


def test_an_older_schema_is_migrated_in_place_keeping_its_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.sqlite3"
    with History(path) as db:
        db.add_run(record(time.time()))
    # The next wsdash adds a migration: the file written by this one must move forward, runs intact.
    monkeypatch.setattr(history_migrations, "MIGRATIONS", [*history_migrations.MIGRATIONS, ("ALTER TABLE runs ADD COLUMN note TEXT",)])
    with History(path) as db:
        assert len(db.runs()) == 1
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == history_migrations.schema_version() == 3
    assert "note" in [row[1] for row in con.execute("PRAGMA table_info(runs)")]
    con.close()


def test_a_history_from_a_newer_wsdash_is_refused_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(HistoryError, match=r"newer wsdash \(schema 99; this one knows up to 2\)"):
        History(path)


def test_a_file_that_is_not_a_history_is_named_with_the_real_cause(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(HistoryError, match=r"h\.sqlite3: file is not a database — move it aside"):
        History(path)


def test_retention_by_age_and_by_count(tmp_path: Path) -> None:
    now = time.time()
    with History(tmp_path / "h.sqlite3") as db:
        db.add_many([record(now - 40 * 86400), record(now - 10 * 86400)])
        db.add_run(record(now), keep_days=30)
        assert [round((now - r.started_at) / 86400) for r in db.runs()] == [0, 10]
        for i in range(5):
            db.add_run(record(now + i), max_runs=3)
        assert len(db.runs()) == 3
        assert db.runs()[0].started_at == now + 4  # the newest stay


def test_retention_prunes_in_batches_and_its_bounds_hold_after_every_write(tmp_path: Path) -> None:
    """A history at its limits deletes now and then, in a batch — never more than max_runs runs
    and never a run older than keep_days after any write, the newest always kept."""
    now = time.time()
    with History(tmp_path / "h.sqlite3") as db:
        db.add_many([record(now - 1000 + i) for i in range(1000)])
        counts = []
        for i in range(25):
            db.add_run(record(now + i), max_runs=1000)
            counts.append(len(db.runs()))
            assert db.runs(limit=1)[0].started_at == now + i
        assert max(counts) <= 1000
        assert counts[:2] == [990, 991]  # the oldest 11 went at once (1 % of max_runs), then none for 10 writes
        assert len(set(counts)) > 2 and counts.count(990) == 3  # …and again, twice

    with History(tmp_path / "age.sqlite3") as db:
        day = 86400
        db.add_many([record(now - 31 * day), record(now - 30 * day + 1800), record(now - 30 * day + 7200), record(now - day)])
        db.add_run(record(now), keep_days=30)
        ages = sorted(round((now - r.started_at) / 3600, 1) for r in db.runs())
        # expired, and the one within the hour of expiring, go together; the one 2 h from it stays
        assert ages == [0.0, 24.0, 718.0]
        db.add_run(record(now + 1), keep_days=30)
        assert len(db.runs()) == 4  # nothing due: no delete


def test_two_processes_write_at_once_and_no_run_is_lost(tmp_path: Path) -> None:
    """A dashboard and a watch on one machine: two real processes, each writing 150 runs as fast
    as it can, starting together."""
    path = tmp_path / "h.sqlite3"
    go = tmp_path / "go"
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(REPO)!r})
        from wsdash.core.history import History
        from wsdash.core.run_record import RunRecord
        while not os.path.exists({str(go)!r}):
            time.sleep(0.005)
        with History({str(path)!r}) as db:
            for i in range(150):
                db.add_run(RunRecord(started_at=time.time(), target=sys.argv[1], url="ws://x/ws", source="test",
                                     verdict="passed"), keep_days=30, max_runs=100000)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, name], stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    time.sleep(1.0)  # both started and waiting
    go.touch()
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with History(path) as db:
        runs = db.runs()
    assert len(runs) == 300
    assert {r.target for r in runs} == {"a", "b"}


async def test_a_real_run_is_kept_with_its_checkpoints_and_events(server) -> None:
    from wsdash.core.auth import mint_token

    result = await run_golden_path(SessionOptions(url=f"{server.url}?scenario=missing:agent_thinking", token=mint_token(SECRET)))
    rec = RunRecord.from_result(result, target="local", source="test")
    assert rec.verdict == "failed" and rec.violation_codes == ["missing"]
    assert rec.checkpoints["agent_thinking"] is None and rec.checkpoints["agent_completed"] > 0
    assert "agent_thinking" not in rec.type_counts and rec.sequence[-1] == "agent_completed"
    assert abs(rec.started_at - time.time()) < 10


async def test_nothing_secret_is_stored(server_thread, tmp_path: Path, cli) -> None:
    """The known-token check: a real minted token, sent in the URL's ?token= and as the token,
    must appear nowhere in the history's bytes (database, WAL and shared memory)."""
    from wsdash.core.auth import mint_token

    token = mint_token(SECRET, ttl_s=600)
    data = tmp_path / "data"
    env = {"XDG_DATA_HOME": str(data)}
    for scenario in ("golden", "auth-reject"):
        out = cli("golden-path", "--url", f"{server_thread.url}?scenario={scenario}&token={token}", "--token", token,
                  "--auth", "query", "--json", env=env)
        assert out.returncode in (0, 1, 3), out.stderr
    files = list((data / "wsdash").iterdir())
    assert any(f.name == "history.sqlite3" for f in files)
    blob = b"".join(f.read_bytes() for f in files)
    assert len(blob) > 0
    for part in (token, *token.split(".")):
        assert part.encode() not in blob, f"a token part is stored: {part[:12]}…"
    assert SECRET.encode() not in blob
    with History(data / "wsdash" / "history.sqlite3") as db:
        assert len(db.runs()) == 2
        assert all("(redacted)" in r.url for r in db.runs())


@pytest.mark.parametrize(("column", "value", "says"), [
    ("counts", "'[]'", "its counts is not a JSON object"),
    ("pass_rate", "'high'", "its pass_rate is not a number or empty"),
    ("started_at", "'yesterday'", "its started_at is not a number"),
])
def test_a_damaged_tier_row_is_left_out_of_listings_and_named(tmp_path: Path, column: str, value: str, says: str) -> None:
    from wsdash.core.run_record import TierRecord

    path = tmp_path / "h.sqlite"
    with History(path) as db:
        for name in ("unit", "staging"):
            db.add_tier_run(TierRecord(started_at=time.time(), tier=name, title=name, status="passed", counts={"passed": 1},
                                       pass_rate=1.0, target_rate=1.0, duration_s=1.0, source="tiers"))
    raw = sqlite3.connect(path)
    raw.execute(f"UPDATE tier_runs SET {column} = {value} WHERE tier = 'unit'")
    raw.commit()
    raw.close()
    with History(path) as db:
        assert [r.tier for r in db.tier_runs()] == ["staging"]
        assert [r.tier for r in db.latest_tier_runs()] == ["staging"]
        assert db.damaged == [f"{path}: tier run 1 is damaged: {says} as wsdash writes it; left out"]


@pytest.mark.parametrize("version", [0, 7])  # 7: an application that sets a schema version of its own
def test_another_applications_database_is_refused_and_left_as_it_was(tmp_path: Path, version: int) -> None:
    """WSDASH_HISTORY_PATH pointing at someone else's SQLite file: wsdash added its tables to it
    and switched its journal to WAL."""
    path = tmp_path / "app.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE invoices (id INTEGER)")
    other.execute(f"PRAGMA user_version = {version}")
    other.commit()
    other.close()
    with pytest.raises(HistoryError, match=r"app.db is not a wsdash run history: it is another SQLite database \(tables: invoices\)"):
        History(path)
    other = sqlite3.connect(path)
    assert [r[0] for r in other.execute("SELECT name FROM sqlite_master")] == ["invoices"]
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    other.close()
    with History(tmp_path / "ours.sqlite3") as db:  # a new file, and then the same one again, are ours
        db.add_run(record(time.time()))
    with History(tmp_path / "ours.sqlite3") as db:
        assert len(db.runs()) == 1


def _open_history(path: str, start_at: float = 0.0) -> str:
    time.sleep(max(0.0, start_at - time.time()))  # all at once: the race is in the first open's migration
    try:
        History(path).close()
        return "ok"
    except HistoryError as exc:
        return str(exc)


def test_processes_opening_a_new_history_at_once_all_find_it_theirs(tmp_path: Path) -> None:
    """Judged by a schema version read apart from the tables, a file another process was migrating
    that moment was refused as another application's (61 of 1,200 opens, 6 at a time)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(6) as pool:
        list(pool.map(_open_history, [str(tmp_path / "warm.sqlite3")] * 6))  # the workers up and importing done
        for round_ in range(30):
            path, start_at = str(tmp_path / f"h{round_}.sqlite3"), time.time() + 0.15
            assert set(pool.map(_open_history, [path] * 6, [start_at] * 6)) == {"ok"}, round_
