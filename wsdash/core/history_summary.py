"""`wsdash history`'s summaries computed inside SQLite, so 100,000 runs never become 100,000
Python tuples (that fetch and a Python pass over it were 300 ms of the 380 a summary took).

Per target, over the covering index runs_by_target in time order: one query gives the state of
every run as a string of '1' (passed) and '0' (anything else), the counts and the first and last
times; the streaks and the last change are read off that string with C-speed string methods. A
percentile is the k-th value of an index in value order (runs_by_first_event, runs_by_total):
`LIMIT 1 OFFSET k`, walked from the nearer end. The times of the few runs a summary names (a
streak's ends, the last change) are `OFFSET i` on runs_by_target. All of it in one read
transaction: a snapshot, so a run written meanwhile cannot shift an offset.

The numbers are the ones `run_stats.summarize` gives for the same runs (tested against it): the
dashboard strip and `wsdash watch` still summarise their few runs in Python.
"""

from __future__ import annotations

import re
import sqlite3

from wsdash.core.run_stats import Change, Percentiles, Streak, Summary

_NO_LIMIT = -1.0e300  # `started_at >= ?` without --since
_FAILING = re.compile("0+")

_STATES = """SELECT group_concat(ok, ''), count(first_event_ms), total(done), min(started_at), max(started_at) FROM (
    SELECT CASE WHEN verdict = 'passed' THEN '1' ELSE '0' END AS ok, first_event_ms,
           completed = 1 AND total_ms IS NOT NULL AS done, started_at
    FROM runs INDEXED BY runs_by_target WHERE target = ? AND started_at >= ? ORDER BY started_at)"""
# The i-th run in time order, from either end (same index, same order as _STATES).
_AT = "SELECT started_at FROM runs INDEXED BY runs_by_target WHERE target = ? AND started_at >= ? ORDER BY started_at {} LIMIT 1 OFFSET ?"
_FIRST_EVENT = ("SELECT first_event_ms FROM runs INDEXED BY runs_by_first_event WHERE target = ? AND first_event_ms IS NOT NULL "
                "AND started_at >= ? ORDER BY first_event_ms {} LIMIT 1 OFFSET ?")
_TOTAL = ("SELECT total_ms FROM runs INDEXED BY runs_by_total WHERE target = ? AND completed = 1 AND total_ms IS NOT NULL "
          "AND started_at >= ? ORDER BY total_ms {} LIMIT 1 OFFSET ?")


def summaries(db: sqlite3.Connection, target: str | None, since: float | None) -> list[Summary]:
    """One summary per target with runs since `since` (all targets, by name), or `target`'s alone
    (empty when it has none). `db` is in autocommit mode (isolation_level=None)."""
    lower = _NO_LIMIT if since is None else since
    db.execute("BEGIN")
    try:
        names = [target] if target else target_names(db)
        out = [_summary(db, name, lower) for name in names]
    finally:
        db.execute("COMMIT")
    return [s for s in out if s.runs or target]


def target_names(db: sqlite3.Connection, table: str = "runs", column: str = "target") -> list[str]:
    """Every target name (or tier name: `tier_runs`, `tier`), sorted: one index seek per name, not
    a scan of the runs."""
    names: list[str] = []
    row = db.execute(f"SELECT min({column}) FROM {table}").fetchone()
    while row[0] is not None:
        names.append(row[0])
        row = db.execute(f"SELECT min({column}) FROM {table} WHERE {column} > ?", (row[0],)).fetchone()
    return names


def _summary(db: sqlite3.Connection, target: str, since: float) -> Summary:
    states, n_first, n_total, first_at, last_at = db.execute(_STATES, (target, since)).fetchone()
    s = Summary(target=target)
    if not states:
        return s
    n = len(states)

    def at(i: int) -> float:
        if i == 0:
            return first_at
        if i == n - 1:
            return last_at
        desc = i > n // 2
        return db.execute(_AT.format("DESC" if desc else "ASC"), (target, since, n - 1 - i if desc else i)).fetchone()[0]

    s.runs, s.passed, s.first_at, s.last_at = n, states.count("1"), first_at, last_at
    s.first_event_ms = _percentiles(db, _FIRST_EVENT, target, since, n_first)
    s.total_ms = _percentiles(db, _TOTAL, target, since, int(n_total))
    longest = max(_FAILING.finditer(states), key=lambda m: m.end() - m.start(), default=None)  # the first of the longest
    if longest is not None:
        s.longest_failing = Streak(longest.end() - longest.start(), at(longest.start()), at(longest.end() - 1), ongoing=longest.end() == n)
    now = states[-1]
    start = len(states.rstrip(now))  # where the last stretch of equal state begins
    if start:
        before = states[start - 1]
        s.last_change = Change(at(start), "passing" if now == "1" else "failing", start - len(states[:start].rstrip(before)))
    s.last_ok = now == "1"
    return s


def _percentiles(db: sqlite3.Connection, sql: str, target: str, since: float, n: int) -> Percentiles:
    """Nearest rank, as run_stats.percentile: the value at min(n − 1, round(q × (n − 1)))."""
    if not n:
        return Percentiles()
    values = []
    for q in (0.5, 0.95, 0.99):
        k = min(n - 1, int(round(q * (n - 1))))
        desc = k > n // 2  # p95 and p99 walk 5 % and 1 % of the index from the top, not 95 % and 99 %
        values.append(db.execute(sql.format("DESC" if desc else "ASC"), (target, since, n - 1 - k if desc else k)).fetchone()[0])
    return Percentiles(n, *values)
