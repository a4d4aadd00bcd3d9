"""Benchmark the run history: does a long history answer fast, and does keeping it cost a run
anything?

    python bench/history.py [--quick] [--runs N] [--rounds N] [--no-write]

(1) A history of N = 100,000 golden-path runs (30 days, two targets, realistic timings and
failures) answers `wsdash history --since 30d` — a fresh process, as a user runs it, bytecode
compiled — in under 300 ms (median of rounds; in-process summaries + table rows printed too).
(2) What the history adds to a run: `wsdash golden-path --grace 0` in fresh processes against the
embedded server (its own process), with the command's history write (`log_run`: settings,
imports, record, open the 100,000-run file, insert + prune, close) timed apart from the rest, for
`--target` (configuration loaded for the run anyway) and for `--url` (loaded for the history).
Goal: under 5 ms, reported with the ratio (run + write) / run. Every write prunes one old run
(max_runs = 100,000), and the bench checks the history still holds 100,000. Appends a dated row
under `## history`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    ServerProcess, append_row, common_args, compile_bytecode, machine, median, spread, table_header, table_row, today, verdict,
)

QUERY_GOAL_MS = 300.0
WRITE_GOAL_MS = 5.0
COLUMNS = ("date", "runs in history", "rounds", "`history --since 30d` ms (goal < 300)", "in-process summaries + table rows ms",
           "`wsdash --version` ms (load reference)", "golden path ms (`--grace 0`)",
           "history write ms, `--target` (goal < 5)", "history write ms, `--url`", "ratio (run+write)/run", "machine")
INTRO = ("`python bench/history.py`: (1) `wsdash history --since 30d` in a fresh process over a 100,000-run history "
         "(wall, median of rounds; the in-process summaries and table rows beside it); (2) what writing a run to that history adds "
         "to `wsdash golden-path --grace 0` run as a user runs it (a fresh process each; the embedded server in its own): the time "
         "spent in the command's history write (`log_run`: the `[history]` settings, imports, record, open, insert + prune, "
         "close), apart from the rest of the command, for a `--target` from a config file (the configuration is already loaded "
         "for the run) and for `--url` (the history loads it); median ms and the ratio (run + write) / run.")

# One fresh process: `wsdash golden-path ARGS` through cli.main, as a user runs it, with the history
# write (history_log.log_run, which golden_path.run imports when it gets there) timed apart.
RUN_ONCE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from wsdash import cli
from wsdash.commands import history_log
spent = []
real = history_log.log_run
def timed(*args, **kwargs):
    t = time.perf_counter()
    try:
        return real(*args, **kwargs)
    finally:
        spent.append(time.perf_counter() - t)
history_log.log_run = timed
t0 = time.perf_counter()
code = cli.main(sys.argv[2:])
t1 = time.perf_counter()
print(json.dumps({"command_ms": (t1 - t0) * 1000, "write_ms": sum(spent) * 1000, "writes": len(spent), "code": code}))
"""

# The same process, split: the imports the write makes, timed one by one first, then History's open,
# add_run and close wrapped (their sum is the write; the rest is settings, record, warnings).
SPLIT_ONCE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from wsdash import cli
from wsdash.commands import history_log
parts = {}
real = history_log.log_run
def lap(name, t0):
    parts[name] = parts.get(name, 0.0) + (time.perf_counter() - t0) * 1000
def timed(*args, **kwargs):
    t = time.perf_counter()
    t0 = time.perf_counter(); import sqlite3; lap("import sqlite3", t0)
    t0 = time.perf_counter(); import wsdash.core.history, wsdash.core.run_values; lap("import history, run_values", t0)
    History = wsdash.core.history.History
    for name, key in (("__init__", "open"), ("add_run", "insert + prune + commit"), ("close", "close (checkpoint)")):
        def wrap(fn, key=key):
            def inner(*a, **k):
                t0 = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    lap(key, t0)
            return inner
        setattr(History, name, wrap(getattr(History, name)))
    t0 = time.perf_counter()
    real(*args, **kwargs)
    parts["total"] = (time.perf_counter() - t) * 1000
history_log.log_run = timed
cli.main(sys.argv[2:])
print(json.dumps(parts))
"""


def build_history(path: Path, runs: int) -> float:
    from wsdash.core.history import History
    from wsdash.core.run_record import RunRecord

    rng = random.Random(12)
    now = time.time()
    step = (30 * 86400 - 7200) / runs  # from 30 days less an hour ago (so only max_runs prunes while the bench runs) to an hour ago
    records = []
    for i in range(runs):
        fail = rng.random() < 0.04 or (40_000 < i < 40_050)  # scattered failures and one long outage
        first = rng.lognormvariate(4.0, 0.4)
        total = first + rng.lognormvariate(5.7, 0.3)
        cps = {"agent_started": round(first, 3), "agent_thinking": round(first + 50, 3), "tool_executing": round(first + 100, 3),
               "tool_completed": round(total - 80, 3), "agent_completed": None if fail else round(total, 3)}
        records.append(RunRecord(
            started_at=now - 30 * 86400 + i * step + 3600, target="local" if i % 2 else "staging", url="ws://127.0.0.1:8002/ws",
            source="watch", verdict="failed" if fail else "passed", completed=not fail, connect_ms=rng.uniform(5, 40),
            first_event_ms=first, total_ms=total, checkpoints=cps, phases={"dns_ms": 0.2, "tcp_ms": 0.4, "upgrade_ms": 3.1},
            violations=[("missing", "agent_completed", "agent_completed never arrived")] if fail else [],
            frames=(7, 0, 0), type_counts={"connection_established": 1, "agent_started": 1, "agent_thinking": 2, "tool_executing": 1,
                                           "tool_completed": 1, "agent_completed": 1},
            sequence=["connection_established", "agent_started", "agent_thinking", "tool_executing", "tool_completed",
                      "agent_thinking", "agent_completed"]))
    t0 = time.perf_counter()
    with History(path) as db:
        db.add_many(records)
    return time.perf_counter() - t0


def query_rounds(path: Path, rounds: int) -> tuple[list[float], list[float], list[float]]:
    env = {**os.environ, "WSDASH_HISTORY_PATH": str(path), "NO_COLOR": "1"}
    env.pop("WSDASH_CONFIG", None)
    walls, versions = [], []
    for _ in range(rounds):
        # `wsdash --version` alternating with it: the start-up every command pays on this machine now
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wsdash", "--version"], capture_output=True, env=env, cwd=tempfile.gettempdir())
        versions.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "wsdash", "history", "--since", "30d"], capture_output=True, text=True,
                             env=env, cwd=tempfile.gettempdir())
        walls.append((time.perf_counter() - t0) * 1000)
        if out.returncode != 0 or "runs since" not in out.stdout or "p99" not in out.stdout:
            raise SystemExit(f"wsdash history failed: {out.returncode} {out.stderr[-500:]} {out.stdout[-500:]}")
    from wsdash.core.history import History

    inproc = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        with History(path) as db:
            db.summaries(None, time.time() - 30 * 86400)
            db.runs(None, time.time() - 30 * 86400, 20)
        inproc.append((time.perf_counter() - t0) * 1000)
    return walls, inproc, versions


def run_rounds(url: str, path: Path, rounds: int, tmp: Path, max_runs: int) -> tuple[list[float], list[float], list[float]]:
    """(golden path ms without the write, write ms with --target, write ms with --url), `rounds` each, alternating.
    The history is at max_runs: every write may prune, as a full history's does."""
    config = tmp / "wsdash.toml"
    config.write_text(f'[targets.bench]\nws_url = "{url}"\n\n[history]\nmax_runs = {max_runs}\n', encoding="utf-8")
    env = {**os.environ, "WSDASH_HISTORY_PATH": str(path), "WSDASH_CONFIG": str(config), "NO_COLOR": "1"}
    runs, by_target, by_url = [], [], []
    for _ in range(rounds):
        for how, where in (("--target", "bench"), ("--url", url)):
            out = subprocess.run([sys.executable, "-c", RUN_ONCE, str(ROOT), "golden-path", how, where, "--grace", "0"],
                                 capture_output=True, text=True, cwd=tmp, env=env)
            data = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}
            if out.returncode != 0 or data.get("code") != 0 or data.get("writes") != 1 or "warning" in out.stderr:
                raise SystemExit(f"the measured run failed: {out.returncode} {data} {out.stderr[-1000:]}")
            (by_target if how == "--target" else by_url).append(data["write_ms"])
            if how == "--target":
                runs.append(data["command_ms"] - data["write_ms"])
    return runs, by_target, by_url


def split_rounds(url: str, path: Path, rounds: int, tmp: Path) -> dict[str, float]:
    """Median ms of each part of the write (`--target`), from rounds of their own."""
    env = {**os.environ, "WSDASH_HISTORY_PATH": str(path), "WSDASH_CONFIG": str(tmp / "wsdash.toml"), "NO_COLOR": "1"}
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", SPLIT_ONCE, str(ROOT), "golden-path", "--target", "bench", "--grace", "0"],
                             capture_output=True, text=True, cwd=tmp, env=env)
        for key, ms in json.loads(out.stdout.strip().splitlines()[-1]).items():
            samples.setdefault(key, []).append(ms)
    return {key: median(values) for key, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(parser)
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the history (default 100,000)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of each measurement (default 9, quick 5)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 9)
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="wsdash-bench-history-") as tmp:
        path = Path(tmp) / "history.sqlite3"
        built = build_history(path, args.runs)
        print(f"history of {args.runs:,} runs built in {built:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")
        walls, inproc, versions = query_rounds(path, rounds)
        print(f"`wsdash history --since 30d`: median {median(walls):.0f} ms ({spread(walls)}), in-process {median(inproc):.0f} ms; "
              f"`wsdash --version` {median(versions):.0f} ms (its goal: < 150)")
        with ServerProcess() as srv:
            runs, writes, url_writes = run_rounds(srv.url, path, rounds, Path(tmp), args.runs)
            split = split_rounds(srv.url, path, rounds, Path(tmp))
        from wsdash.core.history import History

        with History(path) as db:
            kept = sum(s.runs for s in db.summaries())
        batch = min(100, args.runs // 100)  # at max_runs the oldest 1 % (at most 100) go at a time
        if not args.runs - batch - 1 <= kept <= args.runs:
            raise SystemExit(f"the history holds {kept:,} runs after the writes, not {args.runs - batch - 1:,}–{args.runs:,}: retention is off")
    run_ms, write_ms, url_ms = median(runs), median(writes), median(url_writes)
    ratio = (run_ms + write_ms) / run_ms
    ok_query, ok_write = median(walls) < QUERY_GOAL_MS, write_ms < WRITE_GOAL_MS and url_ms < WRITE_GOAL_MS
    print(f"golden path {run_ms:.1f} ms, history write {write_ms:.2f} ms with --target ({spread(writes)}), "
          f"{url_ms:.2f} ms with --url ({spread(url_writes)}), ratio {ratio:.3f}")
    print("where the write goes (median ms, rounds of their own): " + ", ".join(f"{k} {v:.2f}" for k, v in split.items()))
    print(f"query: {verdict(ok_query)}, write: {verdict(ok_write)}")
    if not args.no_write:
        append_row("history", table_header(COLUMNS), table_row([
            today(), f"{args.runs:,}", rounds, f"{median(walls):.0f} [{spread(walls)}]", f"{median(inproc):.0f}", f"{median(versions):.0f}",
            f"{run_ms:.1f}", f"{write_ms:.2f} [{min(writes):.2f}–{max(writes):.2f}]",
            f"{url_ms:.2f} [{min(url_writes):.2f}–{max(url_writes):.2f}]", f"{ratio:.3f}", machine()]), INTRO)
    return 0 if ok_query and ok_write else 1


if __name__ == "__main__":
    raise SystemExit(main())
