"""Benchmark the run history: does a long history answer fast, and does keeping it cost a run
anything?

    python bench/history.py [--quick] [--runs N] [--rounds N] [--no-write]

(1) A history of N = 100,000 golden-path runs (30 days, two targets, realistic timings and
failures) answers `wsdash history --since 30d` — a fresh process, as a user runs it, bytecode
compiled — in under 300 ms (median of rounds; in-process summaries + table rows printed too).
(2) What the history adds to a run: `wsdash golden-path` in fresh processes against the embedded
server (its own process), into that history at max_runs (every write may prune), for `--target`
(configuration loaded for the run anyway) and `--url` (loaded for the history). The command opens
the history in a thread while the run waits out its grace (commands/history_log.py
PreparedHistory), so what a run pays is the main thread's time in the write after the run
(`log_run`: waiting for that thread, the record, insert + prune + commit, close). Measured with the
DEFAULT grace (0.5 s: the user's figure, goal < 5 ms) and with `--grace 0` (no window to hide the
open in: the worst case, printed as it is). Beside it, as a check that nothing is hidden
elsewhere (the thread competes for the GIL), the whole command's wall time with the history
minus without (`--no-history`), same rounds, alternating. The bench checks the history still
holds max_runs. Appends a dated row under `## history`.
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
           "`wsdash --version` ms (load reference)", "golden path ms (default grace)",
           "write a run pays ms, `--target`, default grace (goal < 5)", "same, `--url`", "wall with − without history ms",
           "ratio (run+write)/run", "`--grace 0` write ms `--target` / `--url`", "parts ms: open in thread · insert+commit · close",
           "machine")
INTRO = ("`python bench/history.py`: (1) `wsdash history --since 30d` in a fresh process over a 100,000-run history "
         "(wall, median of rounds; the in-process summaries and table rows beside it); (2) what writing a run to that history adds "
         "to `wsdash golden-path` run as a user runs it (a fresh process each; the embedded server in its own), with the default "
         "grace (the user's figure) and with `--grace 0` (the worst case): the main thread's time in the history write after the "
         "run (`log_run`: waiting for the thread that opened the history during the grace, the record, insert + prune, close), "
         "for a `--target` from a config file and for `--url`; median ms, the ratio (run + write) / run, and the wall time with "
         "minus without the history as a check.")

# One fresh process: `wsdash golden-path ARGS` through cli.main, as a user runs it. Timed apart:
# the main thread's time in the history write (log_run), the wait in it for the thread that
# opened the history (PreparedHistory.finish), that thread's own time (_prepare, and whether it
# ran in the thread or inline), and History.add_run / close.
RUN_ONCE = r"""
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
from wsdash import cli
from wsdash.commands import history_log
ms = {}
def timed(owner, name, key):
    real = getattr(owner, name)
    def inner(*a, **k):
        t = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            ms[key] = ms.get(key, 0.0) + (time.perf_counter() - t) * 1000
            if key == "prep":
                ms["prep_in_thread"] = threading.current_thread() is not threading.main_thread()
    setattr(owner, name, inner)
timed(history_log, "log_run", "write")
timed(history_log.PreparedHistory, "finish", "wait")
timed(history_log.PreparedHistory, "_prepare", "prep")
real_log_run = history_log.log_run
def log_run(*a, **k):  # History is imported by now (by the thread, or by log_run itself): wrap it on first use
    import wsdash.core.history as h
    if not getattr(h.History, "_timed", False):
        timed(h.History, "add_run", "insert")
        timed(h.History, "close", "close")
        h.History._timed = True
    return real_log_run(*a, **k)
history_log.log_run = log_run
t0 = time.perf_counter()
code = cli.main(sys.argv[2:])
ms["command"] = (time.perf_counter() - t0) * 1000
ms["code"] = code
ms["threads_left"] = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
print(json.dumps(ms))
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


def run_rounds(url: str, path: Path, rounds: int, tmp: Path, max_runs: int) -> dict[str, list[dict]]:
    """Each variant `rounds` times, alternating: {variant: [one process's timings]}. The history is at
    max_runs: every write may prune, as a full history's does."""
    config = tmp / "wsdash.toml"
    config.write_text(f'[targets.bench]\nws_url = "{url}"\n\n[history]\nmax_runs = {max_runs}\n', encoding="utf-8")
    env = {**os.environ, "WSDASH_HISTORY_PATH": str(path), "WSDASH_CONFIG": str(config), "NO_COLOR": "1"}
    variants = {
        "target": ["--target", "bench"], "url": ["--url", url], "none": ["--target", "bench", "--no-history"],
        "target0": ["--target", "bench", "--grace", "0"], "url0": ["--url", url, "--grace", "0"],
        "none0": ["--target", "bench", "--grace", "0", "--no-history"],
    }
    out: dict[str, list[dict]] = {name: [] for name in variants}
    for i in range(rounds):
        names = list(variants)
        names = names[i % len(names):] + names[:i % len(names)]  # every variant sees every position
        for name in names:
            proc = subprocess.run([sys.executable, "-c", RUN_ONCE, str(ROOT), "golden-path", *variants[name]],
                                  capture_output=True, text=True, cwd=tmp, env=env)
            data = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
            wrote = not name.startswith("none")
            if (proc.returncode != 0 or data.get("code") != 0 or "warning" in proc.stderr or data.get("threads_left")
                    or (wrote and "insert" not in data) or (not wrote and "insert" in data)):
                raise SystemExit(f"the measured run ({name}) failed: {proc.returncode} {data} {proc.stderr[-1000:]}")
            out[name].append(data)
    return out


def col(samples: list[dict], key: str) -> list[float]:
    return [float(d.get(key, 0.0)) for d in samples]


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
            got = run_rounds(srv.url, path, rounds, Path(tmp), args.runs)
        from wsdash.core.history import History

        with History(path) as db:
            kept = sum(s.runs for s in db.summaries())
        batch = min(100, args.runs // 100)  # at max_runs the oldest 1 % (at most 100) go at a time
        if not args.runs - batch - 1 <= kept <= args.runs:
            raise SystemExit(f"the history holds {kept:,} runs after the writes, not {args.runs - batch - 1:,}–{args.runs:,}: retention is off")
    t, u, n, t0, u0, n0 = (got[k] for k in ("target", "url", "none", "target0", "url0", "none0"))
    write_ms, url_ms = median(col(t, "write")), median(col(u, "write"))
    run_ms = median([d["command"] - d["write"] for d in t])
    ratio = (run_ms + write_ms) / run_ms
    wall_delta = median(col(t, "command")) - median(col(n, "command"))
    wall_delta0 = median(col(t0, "command")) - median(col(n0, "command"))
    hidden = sum(bool(d.get("prep_in_thread")) for d in t)
    prep, insert, close = median(col(t, "prep")), median(col(t, "insert")), median(col(t, "close"))
    w0, wu0 = median(col(t0, "write")), median(col(u0, "write"))
    ok_query, ok_write = median(walls) < QUERY_GOAL_MS, write_ms < WRITE_GOAL_MS and url_ms < WRITE_GOAL_MS
    print(f"default grace: golden path {run_ms:.1f} ms; the write a run pays {write_ms:.2f} ms with --target "
          f"[{min(col(t, 'write')):.2f}–{max(col(t, 'write')):.2f}], {url_ms:.2f} ms with --url "
          f"[{min(col(u, 'write')):.2f}–{max(col(u, 'write')):.2f}], ratio {ratio:.4f}; "
          f"wall with − without history {wall_delta:+.1f} ms (medians of {rounds}: noise, not a figure of its own)")
    print(f"  the open ran in the thread in {hidden} of {len(t)} runs, {prep:.2f} ms there (median); the main thread: "
          f"wait for it {median(col(t, 'wait')):.2f}, insert + prune + commit {insert:.2f}, close {close:.2f}")
    print(f"--grace 0 (worst case: no grace to open in): the write a run pays {w0:.2f} ms with --target "
          f"[{min(col(t0, 'write')):.2f}–{max(col(t0, 'write')):.2f}], {wu0:.2f} with --url; "
          f"wait for the thread {median(col(t0, 'wait')):.2f}; wall with − without {wall_delta0:+.1f} ms")
    print(f"query: {verdict(ok_query)}, write (default grace): {verdict(ok_write)}, write with --grace 0: {verdict(w0 < WRITE_GOAL_MS and wu0 < WRITE_GOAL_MS)}")
    if not args.no_write:
        append_row("history", table_header(COLUMNS), table_row([
            today(), f"{args.runs:,}", rounds, f"{median(walls):.0f} [{spread(walls)}]", f"{median(inproc):.0f}", f"{median(versions):.0f}",
            f"{run_ms:.1f}", f"{write_ms:.2f} [{min(col(t, 'write')):.2f}–{max(col(t, 'write')):.2f}]",
            f"{url_ms:.2f} [{min(col(u, 'write')):.2f}–{max(col(u, 'write')):.2f}]", f"{wall_delta:+.1f}", f"{ratio:.4f}",
            f"{w0:.2f} / {wu0:.2f}", f"{prep:.2f} · {insert:.2f} · {close:.2f}", machine()]), INTRO)
    return 0 if ok_query and ok_write else 1


if __name__ == "__main__":
    raise SystemExit(main())
