"""The run history's schema and its migrations (`PRAGMA user_version` says which ran).

Migration N takes a database at schema N to N + 1. Append, never edit: files in the field are at
every version that shipped (tests/core/test_history.py opens a file written at schema 1).
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[tuple[str, ...]] = [
    (  # 1: the runs and the tier runs
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at REAL NOT NULL, target TEXT NOT NULL, url TEXT NOT NULL, source TEXT NOT NULL,
            verdict TEXT NOT NULL, completed INTEGER NOT NULL,
            connect_ms REAL, first_event_ms REAL, total_ms REAL,
            checkpoints TEXT NOT NULL, phases TEXT NOT NULL, violations TEXT NOT NULL,
            error_kind TEXT, error_code INTEGER, error_message TEXT, error_hint TEXT, close_code INTEGER,
            frames_received INTEGER NOT NULL, frames_malformed INTEGER NOT NULL, frames_unknown INTEGER NOT NULL,
            type_counts TEXT NOT NULL, sequence TEXT NOT NULL, recording TEXT)""",
        # Covering indexes: listing and summing 100,000 runs reads these alone, never the wide rows.
        "CREATE INDEX runs_by_time ON runs (started_at, target, verdict, completed, first_event_ms, total_ms)",
        "CREATE INDEX runs_by_target ON runs (target, started_at, verdict, completed, first_event_ms, total_ms)",
        """CREATE TABLE tier_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            started_at REAL NOT NULL, tier TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
            counts TEXT NOT NULL, pass_rate REAL, target_rate REAL NOT NULL, duration_s REAL NOT NULL,
            source TEXT NOT NULL, requires TEXT NOT NULL)""",
        "CREATE INDEX tier_runs_by_time ON tier_runs (started_at)",
        "CREATE INDEX tier_runs_by_tier ON tier_runs (tier, started_at)",
    ),
    (  # 2: each target's timings in order, so a percentile is one walk of an index (LIMIT 1 OFFSET k)
        # rather than a sort of every run in Python (history_summary.py)
        "CREATE INDEX runs_by_first_event ON runs (target, first_event_ms, started_at)",
        "CREATE INDEX runs_by_total ON runs (target, completed, total_ms, started_at)",
    ),
]


def our_tables() -> set[str]:
    """Every table the migrations create: what a wsdash history may hold (history.py tells another
    application's database by any other)."""
    import re

    return {m for step in MIGRATIONS for sql in step for m in re.findall(r"CREATE TABLE (\w+)", sql)}


def schema_version() -> int:
    return len(MIGRATIONS)


class NewerSchema(Exception):
    """The file was written by a newer wsdash: refused, never rewritten."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def needs_migration(db: sqlite3.Connection) -> bool:
    """One read of the header's user_version (no lock, no write): the cost every open pays."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > schema_version():
        raise NewerSchema(version)
    return version < schema_version()


def migrate(db: sqlite3.Connection) -> None:
    """Run the missing migrations. The caller holds the write lock (BEGIN IMMEDIATE): another
    process may have migrated between its check and the lock, so the version is read again."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > schema_version():
        raise NewerSchema(version)
    for step in MIGRATIONS[version:]:
        for statement in step:
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {schema_version()}")
