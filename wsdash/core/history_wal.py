"""The history file's WAL: the switch to it, and its upkeep when a one-shot writer skips the
checkpoint on close.

The checkpoint on close. SQLite copies the WAL into the file when the last connection closes
(two fsyncs, and the next write's new WAL a third: ~5 ms a run, more when the disk is busy).
`History(keep_wal=True)` (golden-path's one-shot write) leaves the WAL instead: on Python ≥ 3.12
with SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE; on 3.11 (no `setconfig`, and no ctypes) with a read-only
connection opened beside it and closed after it: the writer's close cannot take the file's
exclusive lock while another connection holds its shared lock, so it does not checkpoint, and a
read-only connection never checkpoints (SQLite's sqlite3WalCheckpoint returns SQLITE_READONLY).
The WAL (same mode as the file) is copied in by a writer once it holds CHECKPOINT_FRAMES
(History.checkpoint_if_due, which the commands' writers call as they open: golden-path's in its grace),
so a fresh opener's recovery reads at most that many frames; any other connection closing last
checkpoints it as always. A WAL whose file was moved aside is not replayed into the new file:
SQLite deletes the WAL of an empty database file as it opens it (tests/core/test_history_wal.py).

Why CHECKPOINT_FRAMES: without it, one-shot writers that skip the close-time checkpoint would grow
the WAL to SQLite's autocheckpoint (1000 frames), and from there every fresh process would replay
it all as it opens and copy it all again on its commit: recovery forgets what was copied, and a
closed connection never writes again to start the WAL over. A PASSIVE checkpoint by a connection
that then writes does both, and never waits for a reader or writer.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

CHECKPOINT_FRAMES = 200  # ≈ 800 KB of WAL left by one-shot writers before a writer copies it in
FRAME_BYTES = 24 + 4096  # a WAL frame: its header and one page (the default page size)
# Bytes a WAL file is cut back to when a write starts it over (PRAGMA journal_size_limit). Below
# CHECKPOINT_FRAMES' size, so that a WAL file that big holds that many frames still to copy
# (frames past the start-over point are stale but still take up the file).
WAL_SIZE_LIMIT = CHECKPOINT_FRAMES * FRAME_BYTES // 4
# Skips the close-time checkpoint (Python ≥ 3.12; None on 3.11, which has no Connection.setconfig).
NO_CKPT_ON_CLOSE = getattr(sqlite3, "SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE", None) if hasattr(sqlite3.Connection, "setconfig") else None


def keep_wal_on_close(db: sqlite3.Connection, path: Path) -> sqlite3.Connection | None:
    """Make `db`'s close leave the WAL. Returns the read-only companion to close after `db` (3.11),
    or None. Call it once the file is in WAL mode (a read-only connection cannot switch it)."""
    if NO_CKPT_ON_CLOSE is not None:
        db.setconfig(NO_CKPT_ON_CLOSE, True)  # type: ignore[attr-defined]
        return None
    return read_only(path)


def checkpoint_due(path: Path) -> bool:
    try:
        return os.path.getsize(f"{path}-wal") // FRAME_BYTES >= CHECKPOINT_FRAMES
    except OSError:
        return False


def to_wal(db: sqlite3.Connection, path: Path, busy_timeout_s: float) -> None:
    """WAL mode, unless the header says it is already. Two wsdash creating the file at once: the
    switch needs the file to itself and SQLite answers SQLITE_BUSY at once, without its busy
    timeout (one of two first runs lost its record to 'database is locked'), so it is tried again
    until the other has switched it or the busy timeout has passed."""
    deadline = time.monotonic() + busy_timeout_s
    while not is_wal(path):
        try:
            if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise sqlite3.OperationalError("WAL mode is not available for this file")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def read_only(path: Path) -> sqlite3.Connection | None:
    """A read-only connection holding the file's shared lock (a first read takes it; in WAL mode it
    is kept until close). None when it cannot be had: then the writer's close checkpoints."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    except (OSError, sqlite3.Error, ValueError):
        return None
    try:
        con.execute("PRAGMA user_version").fetchone()
        return con
    except sqlite3.Error:
        con.close()
        return None


def is_wal(path: Path) -> bool:
    """The database header's read and write versions are 2 in WAL mode (sqlite.org/fileformat2.html)."""
    try:
        with open(path, "rb") as f:
            return f.read(20)[18:20] == b"\x02\x02"
    except OSError:
        return False
