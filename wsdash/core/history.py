"""The run history: every golden-path run and tier run, in SQLite (the standard library's).

One file in the user data dir (platformdirs), user-only. WAL mode and `BEGIN IMMEDIATE` with a busy
timeout, so a dashboard and a `wsdash watch` on the same machine write at once without losing a
run (the second waits its turn). The schema carries a version (`PRAGMA user_version`) and is
migrated forward in one transaction; a file from a newer wsdash is refused, not rewritten.
Bounded by age and count (`[history] keep_days`, `max_runs`): a write checks both with two index
seeks and deletes in batches (see `_prune`), so retention never costs a run more than a lookup.

A one-shot `golden-path` opens the history while the run waits out its grace (commands/
history_log.py: PreparedHistory) and pays after the run for the insert and the close. Nothing
else is done per open: WAL mode is set once per file (it persists), migrations only when the
version is behind, and the records' classes are imported only to read.

The WAL's upkeep (the switch to it, the checkpoint a one-shot writer skips on close, and the
checkpoint a writer does instead when one is due) is history_wal.py's.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from wsdash.core.history_migrations import MIGRATIONS, NewerSchema, migrate, needs_migration, our_tables, schema_version
from wsdash.core.history_rows import DamagedRow, run_of, tier_of
from wsdash.core.history_wal import WAL_SIZE_LIMIT, checkpoint_due, keep_wal_on_close, to_wal

if TYPE_CHECKING:
    from wsdash.core.run_record import RunRecord, TierRecord
    from wsdash.core.run_stats import Summary

__all__ = ["MIGRATIONS", "FILE_NAME", "History", "HistoryError", "default_path", "schema_version"]

FILE_NAME = "history.sqlite3"
BUSY_TIMEOUT_S = 10.0  # a writer waits this long for another to finish before giving up
PRUNE_BATCH_RUNS = 100  # at max_runs, the oldest runs go this many at a time (the count stays ≤ max_runs)
PRUNE_BATCH_S = 3600.0  # runs this close to keep_days go with the expired ones (an hour early at most)

_RUN_COLUMNS = (
    "id", "started_at", "target", "url", "source", "verdict", "completed", "connect_ms", "first_event_ms", "total_ms",
    "checkpoints", "phases", "violations", "error_kind", "error_code", "error_message", "error_hint", "close_code",
    "frames_received", "frames_malformed", "frames_unknown", "type_counts", "sequence", "recording",
)
_TIER_COLUMNS = ("id", "started_at", "tier", "title", "status", "counts", "pass_rate", "target_rate", "duration_s", "source", "requires")

_SQLITE_MAX_INT = 2**63 - 1  # SQLite's largest INTEGER: a bigger --limit means all, a bigger id no run


class HistoryError(Exception):
    """The history cannot be read or written: the message names the file and the real cause."""


def default_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("wsdash", appauthor=False)) / FILE_NAME


def _private_file(path: Path) -> None:
    """Create the folder (user-only when new) and the file (0600) before SQLite does, so the runs
    are never readable by others even for a moment. SQLite gives its -wal and -shm files the
    database file's mode. Windows: the user data dir is already per-user."""
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | getattr(os, "O_BINARY", 0), 0o600))


def _error(path: Path, exc: BaseException, doing: str) -> HistoryError:
    text = str(exc) or type(exc).__name__
    if path.is_dir():  # SQLite only says "unable to open database file"
        return HistoryError(f"cannot {doing} the run history {path}: it is a folder — set [history] path to a file in it, "
                            f"e.g. {path / 'history.sqlite3'}")
    if "not a database" in text or "malformed" in text:
        hint = "move it aside with its -wal file (wsdash starts a new one) or set [history] path"
    elif "locked" in text or "busy" in text:
        hint = f"another wsdash held it for over {BUSY_TIMEOUT_S:g} s"
    elif isinstance(exc, PermissionError) or "unable to open" in text or "readonly" in text:
        hint = "check that you can write to it and its folder, or set [history] path"
    else:
        hint = "set [history] path to use another file, or [history] enabled = false"
    return HistoryError(f"cannot {doing} the run history {path}: {text} — {hint}")


class History:
    """One open history file. Cheap to open (≈1 ms once migrated): commands open, write, close."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, keep_wal: bool = False) -> None:
        """`keep_wal`: close without checkpointing the WAL (a one-shot writer: history_wal.py)."""
        self.path = Path(path) if path is not None else default_path()
        self.damaged: list[str] = []  # rows a listing left out, and why (history_rows.DamagedRow)
        self._companion: sqlite3.Connection | None = None  # history_wal.keep_wal_on_close's
        try:
            _private_file(self.path)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise _error(self.path, exc, "open") from None
        try:
            _refuse_a_foreign_database(self._db, self.path)  # before anything is changed in it
            # connect(timeout=) is the busy timeout. WAL persists in the file: set it when the header
            # says otherwise (a new file), not on every open.
            to_wal(self._db, self.path, BUSY_TIMEOUT_S)
            self._db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across a crash of wsdash, one fsync per checkpoint
            self._db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")  # a big write's WAL does not stay big
            self._migrate()
            if keep_wal:
                self._companion = keep_wal_on_close(self._db, self.path)
        except (OSError, sqlite3.Error) as exc:
            self._db.close()
            raise _error(self.path, exc, "open") from None
        except HistoryError:
            self._db.close()
            raise

    # ---- schema -----------------------------------------------------------------------------
    def _migrate(self) -> None:
        try:
            if not needs_migration(self._db):
                return
            with self._write():
                migrate(self._db)  # another process may have done it meanwhile: it reads the version again
        except NewerSchema as exc:
            raise HistoryError(
                f"the run history {self.path} was written by a newer wsdash (schema {exc.version}; this one knows up to "
                f"{schema_version()}): upgrade wsdash, or set [history] path to keep this version's runs apart") from None

    def checkpoint_if_due(self) -> bool:
        """Copy the WAL into the file when it holds CHECKPOINT_FRAMES or more (True then): for a
        connection about to write, whose write then starts the WAL over (history_wal.py)."""
        if not checkpoint_due(self.path):
            return False
        try:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # never waits for anyone
        except sqlite3.Error as exc:
            raise _error(self.path, exc, "write to") from None
        return True

    def _write(self) -> "_Immediate":
        return _Immediate(self._db)

    # ---- writing ----------------------------------------------------------------------------
    def add_run(self, rec: RunRecord | Any, *, keep_days: float | None = None, max_runs: int | None = None) -> int:
        """Store one golden-path run (and prune in the same transaction). Returns its id. `rec`: a
        RunRecord or anything with its attributes (`golden-path` hands run_values.run_values in a
        SimpleNamespace)."""
        values = (
            rec.started_at, rec.target, rec.url, rec.source, rec.verdict, int(rec.completed),
            rec.connect_ms, rec.first_event_ms, rec.total_ms,
            _dumps(rec.checkpoints), _dumps(rec.phases), _dumps(rec.violations),
            rec.error_kind, rec.error_code, rec.error_message, rec.error_hint, rec.close_code, *rec.frames,
            _dumps(rec.type_counts), _dumps(rec.sequence), rec.recording,
        )
        marks = ", ".join("?" * len(values))
        return self._insert("runs", f"INSERT INTO runs ({', '.join(_RUN_COLUMNS[1:])}) VALUES ({marks})", values, keep_days, max_runs)

    def add_tier_run(self, rec: TierRecord, *, keep_days: float | None = None, max_runs: int | None = None) -> int:
        values = (rec.started_at, rec.tier, rec.title, rec.status, _dumps(rec.counts), rec.pass_rate,
                  rec.target_rate, rec.duration_s, rec.source, rec.requires)
        marks = ", ".join("?" * len(values))
        return self._insert("tier_runs", f"INSERT INTO tier_runs ({', '.join(_TIER_COLUMNS[1:])}) VALUES ({marks})", values, keep_days, max_runs)

    def _insert(self, table: str, sql: str, values: Sequence[Any], keep_days: float | None, max_runs: int | None) -> int:
        try:
            with self._write():
                row_id = int(self._db.execute(sql, values).lastrowid or 0)
                self._prune(table, keep_days, max_runs)
            return row_id
        except sqlite3.Error as exc:
            raise _error(self.path, exc, "write to") from None

    def _prune(self, table: str, keep_days: float | None, max_runs: int | None) -> None:
        """Two index seeks, and a DELETE only when something is due: then in a batch, so a history
        at its limits deletes once every PRUNE_BATCH_RUNS writes (or hour), not one run per write
        (4 more pages written and checkpointed each time). Bounds still hold after every write:
        no run older than keep_days, never more than max_runs (ids only grow; only pruning leaves
        gaps, so the ids above max(id) − n are the newest n at most)."""
        oldest, low, high = self._db.execute(
            f"SELECT (SELECT min(started_at) FROM {table}), (SELECT min(id) FROM {table}), (SELECT max(id) FROM {table})").fetchone()
        if keep_days and oldest is not None:
            cutoff = time.time() - keep_days * 86400
            if oldest < cutoff:
                self._db.execute(f"DELETE FROM {table} WHERE started_at < ?", (cutoff + min(PRUNE_BATCH_S, keep_days * 864),))
        if max_runs and high is not None and high - low + 1 > max_runs:
            keep = max(1, max_runs - min(PRUNE_BATCH_RUNS, max_runs // 100))
            self._db.execute(f"DELETE FROM {table} WHERE id <= ?", (high - keep,))

    def add_many(self, records: Iterable[RunRecord]) -> None:
        """Many runs in one transaction (benchmarks, imports): no pruning; checkpointed at once."""
        rows = []
        for rec in records:
            rows.append((rec.started_at, rec.target, rec.url, rec.source, rec.verdict, int(rec.completed),
                         rec.connect_ms, rec.first_event_ms, rec.total_ms, _dumps(rec.checkpoints), _dumps(rec.phases),
                         _dumps(rec.violations), rec.error_kind, rec.error_code, rec.error_message, rec.error_hint, rec.close_code,
                         *rec.frames, _dumps(rec.type_counts), _dumps(rec.sequence), rec.recording))
        marks = ", ".join("?" * (len(_RUN_COLUMNS) - 1))
        with self._write():
            self._db.executemany(f"INSERT INTO runs ({', '.join(_RUN_COLUMNS[1:])}) VALUES ({marks})", rows)
        # Copied into the file and the WAL emptied now: a WAL this big left behind (≥ 3.12 skips the
        # close-time checkpoint) would be replayed by every process that opens the history next.
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # ---- reading ----------------------------------------------------------------------------
    def runs(self, target: str | None = None, since: float | None = None, limit: int | None = None) -> list[RunRecord]:
        """Golden-path runs, newest first."""
        return list(self.iter_runs(target, since, limit))

    def iter_runs(self, target: str | None = None, since: float | None = None, limit: int | None = None) -> Iterator[RunRecord]:
        """Golden-path runs, newest first, read as they are used: `history --json` of 100,000 runs
        held every row and record at once (1.6 GB)."""
        where, args = _filter(target, since)
        sql = f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs{where} ORDER BY started_at DESC"
        if limit:
            sql += f" LIMIT {min(int(limit), _SQLITE_MAX_INT)}"
        try:
            cursor = self._db.execute(sql, args)
            while rows := cursor.fetchmany(256):
                yield from self._listed(rows, run_of, _RUN_COLUMNS)
        except sqlite3.Error as exc:
            raise _error(self.path, exc, "read") from None

    def run(self, run_id: int) -> RunRecord | None:
        if not 0 <= run_id <= _SQLITE_MAX_INT:  # no such id; SQLite would raise OverflowError on the parameter
            return None
        rows = self._query(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs WHERE id = ?", (run_id,))
        return self._asked_for(rows, run_of, _RUN_COLUMNS)

    def last(self, target: str | None = None, *, passed: bool | None = None) -> RunRecord | None:
        """The newest run (of `target`); with `passed`, the newest that passed (True) or did not (False)."""
        where, args = _filter(target, None)
        if passed is not None:
            where += (" AND" if where else " WHERE") + (" verdict = 'passed'" if passed else " verdict != 'passed'")
        rows = self._query(f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs{where} ORDER BY started_at DESC LIMIT 1", args)
        return self._asked_for(rows, run_of, _RUN_COLUMNS)

    def summaries(self, target: str | None = None, since: float | None = None) -> list[Summary]:
        """Per target (or `target`'s alone): runs, pass rate, p50/p95/p99 of first event and total,
        the longest failing streak and the last change — computed in SQLite (history_summary.py)."""
        from wsdash.core.history_summary import summaries

        try:
            return summaries(self._db, target, since)
        except sqlite3.Error as exc:
            raise _error(self.path, exc, "read") from None

    def targets(self, *, tiers: bool = False) -> list[str]:
        """The target names of the golden-path runs kept, or the tier names of the tier runs."""
        from wsdash.core.history_summary import target_names

        try:
            return target_names(self._db, *(("tier_runs", "tier") if tiers else ()))
        except sqlite3.Error as exc:
            raise _error(self.path, exc, "read") from None

    def tier_runs(self, tier: str | None = None, since: float | None = None, limit: int | None = None) -> list[TierRecord]:
        """Tier runs, newest first."""
        where, args = _filter(tier, since, column="tier")
        sql = f"SELECT {', '.join(_TIER_COLUMNS)} FROM tier_runs{where} ORDER BY started_at DESC"
        if limit:
            sql += f" LIMIT {min(int(limit), _SQLITE_MAX_INT)}"
        return list(self._listed(self._query(sql, args), tier_of, _TIER_COLUMNS))

    def latest_tier_runs(self) -> list[TierRecord]:
        """Each tier's newest run."""
        sql = (f"SELECT {', '.join(_TIER_COLUMNS)} FROM tier_runs WHERE id IN "
               "(SELECT id FROM tier_runs t WHERE t.tier = tier_runs.tier ORDER BY started_at DESC LIMIT 1) ORDER BY tier")
        return list(self._listed(self._query(sql, ()), tier_of, _TIER_COLUMNS))

    def _listed(self, rows: Iterable[Sequence[Any]], read: Any, columns: Sequence[str]) -> Iterator[Any]:
        """Records of a listing; a damaged row is left out and noted in `damaged` (one edited row
        must not hide the other 100,000)."""
        for row in rows:
            try:
                yield read(row, columns)
            except DamagedRow as exc:
                if (note := f"{self.path}: {exc}; left out") not in self.damaged:
                    self.damaged.append(note)

    def _asked_for(self, rows: list[Any], read: Any, columns: Sequence[str]) -> Any:
        """The one record asked for (by id, or as the newest): damaged, it is an error naming it."""
        try:
            return read(rows[0], columns) if rows else None
        except DamagedRow as exc:
            raise HistoryError(f"{self.path}: {exc}; delete that row (DELETE FROM {exc.table} WHERE id = {exc.row_id}) "
                               "or move the file aside to start a new history") from None

    def _query(self, sql: str, args: Sequence[Any]) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise _error(self.path, exc, "read") from None

    def close(self) -> None:
        self._db.close()
        if self._companion is not None:  # last: read-only, it never checkpoints (history_wal.py)
            self._companion.close()
            self._companion = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Immediate:
    """BEGIN IMMEDIATE … COMMIT: the write lock is taken first, so two writers queue on the busy
    timeout instead of one failing at commit with 'database is locked'."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _refuse_a_foreign_database(db: sqlite3.Connection, path: Path) -> None:
    """A history path pointing at another application's SQLite file (WSDASH_HISTORY_PATH=app.db)
    had wsdash's tables added to it and its journal switched to WAL. Judged by the tables alone, in
    one read: a schema version is no proof (another process may be migrating a new file this very
    moment, a restored dump has none, another application may set its own)."""
    ours = our_tables()
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    tables = [n for n in names if n not in ours]
    if tables:
        raise HistoryError(f"{path} is not a wsdash run history: it is another SQLite database (tables: {', '.join(tables[:3])}"
                           f"{', …' if len(tables) > 3 else ''}); point [history] path or WSDASH_HISTORY_PATH at a file of its own")


def _filter(name: str | None, since: float | None, column: str = "target") -> tuple[str, list[Any]]:
    """The WHERE clause for runs of one target (or tier: `column`) since a time; both optional."""
    clauses, args = [], []
    if name:
        clauses.append(f"{column} = ?")
        args.append(name)
    if since is not None:
        clauses.append("started_at >= ?")
        args.append(since)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
