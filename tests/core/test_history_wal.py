"""The history's WAL (core/history_wal.py) when golden-path's one-shot write skips the close-time
checkpoint (keep_wal: by the API on Python ≥ 3.12, by a read-only companion on 3.11): it stays
bounded (a writer checkpoints it at CHECKPOINT_FRAMES), one-shot writers at once lose no run, its
files are user-only, a WAL whose file was moved aside is never replayed into a new file, and two
processes creating the file at once both get WAL mode."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from wsdash.commands.history_log import JOIN_TIMEOUT_S, open_history
from wsdash.core import history as history_mod
from wsdash.core import history_wal
from wsdash.core.config import HistoryConfig
from wsdash.core.history import History
from wsdash.core.history_wal import CHECKPOINT_FRAMES
from wsdash.core.run_record import RunRecord

REPO = Path(__file__).resolve().parents[2]
FRAME = history_wal.FRAME_BYTES


def record(at: float, target: str = "local") -> RunRecord:
    return RunRecord(started_at=at, target=target, url="ws://127.0.0.1:8002/ws", source="test", verdict="passed",
                     completed=True, first_event_ms=50.0, total_ms=300.0, sequence=["agent_started"] * 40)


def wal_frames(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size // FRAME if wal.exists() else 0


def frames_to_copy(path: Path) -> int:
    """The frames in the WAL since it last restarted (what a fresh opener replays)."""
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    finally:
        con.close()


def test_a_wal_at_checkpoint_frames_is_copied_by_the_next_writer_and_restarts(tmp_path: Path) -> None:
    """A WAL left behind (here: another connection keeps it from the close-time checkpoint, on
    every Python) is copied in by the next writer as it opens, and its write starts the WAL over."""
    path = tmp_path / "h.sqlite3"
    with History(path):
        pass
    holder = sqlite3.connect(path)  # another process's open connection: no close below checkpoints
    holder.execute("SELECT count(*) FROM runs").fetchone()
    try:
        with History(path) as db:
            while wal_frames(path) < CHECKPOINT_FRAMES + 10:
                db.add_run(record(time.time()))
        with History(path) as db:
            assert db.checkpoint_if_due() is True
            db.add_run(record(time.time()))
            assert len(db.runs()) > CHECKPOINT_FRAMES // 10
        assert frames_to_copy(path) < 20  # only the last write's frames: the WAL started over
        with History(path) as db:
            assert db.checkpoint_if_due() is False  # small: nothing to do
    finally:
        holder.close()


@pytest.mark.parametrize("how", ["setconfig", "read-only companion"])
def test_one_shot_writers_leave_the_wal_behind_bounded_and_user_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """golden-path's write (keep_wal): on Python ≥ 3.12 by the API, on 3.11 by a read-only
    connection closed last (forced here on ≥ 3.12 too)."""
    if how == "setconfig" and history_wal.NO_CKPT_ON_CLOSE is None:
        pytest.skip("Python < 3.12: no Connection.setconfig")
    if how != "setconfig":
        monkeypatch.setattr(history_wal, "NO_CKPT_ON_CLOSE", None)
    path = tmp_path / "h.sqlite3"
    hc = HistoryConfig(path=str(path))
    most = 0
    for i in range(150):
        db = open_history(hc, keep_wal=True)  # as golden-path does: open (checkpoint if due), write, close
        db.add_run(record(time.time()), keep_days=30, max_runs=100_000)
        db.close()
        assert Path(f"{path}-wal").exists()  # no checkpoint on close: the WAL stays
        most = max(most, wal_frames(path))  # the file's size: a connection of our own would checkpoint on close
    assert most <= CHECKPOINT_FRAMES + 20
    with History(path) as db:
        assert len(db.runs()) == 150
        if os.name == "posix":
            for suffix in ("-wal", "-shm"):
                assert stat.S_IMODE(Path(f"{path}{suffix}").stat().st_mode) == 0o600
    assert not Path(f"{path}-wal").exists()  # any other connection closing last checkpoints it, as always
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_a_moved_aside_file_leaves_a_wal_that_is_not_replayed_into_the_new_one(tmp_path: Path) -> None:
    """The hint for a broken file says to move it aside: a fresh history must start empty and sound
    even when the old file's WAL stayed behind (on ≥ 3.12 it always does)."""
    path = tmp_path / "h.sqlite3"
    db = History(path)
    for i in range(20):
        db.add_run(record(time.time() - i))
    orphan = tmp_path / "saved-wal"
    shutil.copyfile(f"{path}-wal", orphan)  # the WAL as a crash or a ≥ 3.12 close leaves it
    db.close()
    path.rename(tmp_path / "aside.sqlite3")
    shutil.copyfile(orphan, f"{path}-wal")
    with History(path) as fresh:
        assert fresh.runs() == []
        fresh.add_run(record(time.time()))
        assert len(fresh.runs()) == 1
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_one_shot_writers_at_once_lose_no_run(tmp_path: Path) -> None:
    """Two `golden-path`s in a loop on one machine: each write its own open (with its checkpoint
    when due) and close, both at once."""
    path = tmp_path / "h.sqlite3"
    go = tmp_path / "go"
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(REPO)!r})
        from wsdash.commands.history_log import open_history
        from wsdash.core.config import HistoryConfig
        from wsdash.core.run_record import RunRecord
        hc = HistoryConfig(path={str(path)!r})
        while not os.path.exists({str(go)!r}):
            time.sleep(0.005)
        for i in range(80):
            db = open_history(hc, keep_wal=True)
            db.add_run(RunRecord(started_at=time.time(), target=sys.argv[1], url="ws://x/ws", source="test", verdict="passed",
                                 sequence=["agent_started"] * 40), keep_days=30, max_runs=100000)
            db.close()
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, name], stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    time.sleep(1.0)
    go.touch()
    errors = [p.communicate(timeout=180)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with History(path) as db:
        runs = db.runs()
    assert len(runs) == 160 and {r.target for r in runs} == {"a", "b"}


def test_the_command_waits_for_the_history_thread_longer_than_a_writer_waits_for_the_lock() -> None:
    assert JOIN_TIMEOUT_S > history_mod.BUSY_TIMEOUT_S


def test_a_new_file_another_process_holds_is_switched_to_wal_once_it_lets_go(tmp_path: Path) -> None:
    """Two first runs at once: the switch to WAL needs the file to itself, and SQLite answers
    'database is locked' at once, without the busy timeout (one of two lost its record)."""
    path = tmp_path / "h.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # the other wsdash, mid-creation (rollback mode until it switches)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE IF NOT EXISTS creating (x)")
    timer = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    timer.start()
    t0 = time.monotonic()
    try:
        with History(path) as db:
            db.add_run(record(time.time()))
            assert len(db.runs()) == 1
        assert time.monotonic() - t0 >= 0.4  # it waited for the other, then switched
    finally:
        timer.join()
        other.close()
    assert history_wal.is_wal(path)
