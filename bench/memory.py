"""Benchmark: is the dashboard's memory bounded however many events arrive?

A fresh process per N (so each peak is its own): it parses N representative frames (every event
type, every envelope, malformed and unknown ones, a large tool result now and then) into Events
and appends them to an `EventStore` (default capacity 5000) — what the dashboard keeps — then
reports its peak RSS. N = 10k, 100k, 1M. Baseline, same run: a process that imports the same
modules and builds the frames but appends nothing (the floor).

Goals: peak RSS < 200 MB at 1M events, and flat in N beyond the ring size (1M within 10 % or
5 MB of 100k).

A second figure, `live`: one long run's frames (agent_started, then thinking, tool pairs and
heartbeats in every envelope) fed through `LiveSession._feed` — the run's judge and per-run rows
as well as the store — which is what the dashboard does in a burst.

A third, what a user runs: `wsdash golden-path --json` as a process of its own against the
embedded server's `burst:N` (server in another process), its peak RSS (VmHWM, read from /proc every
20 ms until it exits), with `--record` (every frame to a file) and with `--all-events` (every event
in the JSON, streamed). Each output is checked, line by line (this process must not grow: see
`common.peak_rss_mb`): the verdict PASSED, every frame counted, the event list bounded (or
complete, with `--all-events`). Goal: < 200 MB at 1,000,000 frames, all three. Linux only.

    python bench/memory.py [--sizes 10000,100000,1000000] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    ServerProcess, append_row, burst_url, common_args, machine, peak_rss_mb, table_header, table_row, today, verdict,
    vm_hwm_mb,
)

SECTION = "memory"
GOAL_MB = 200.0
SIZES = (10_000, 100_000, 1_000_000)
INTRO = ("`python bench/memory.py`: peak RSS of a fresh process that parses N representative frames into Events and "
         "appends them to the dashboard's `EventStore` (capacity 5000); the floor is the same process appending nothing. "
         "`live`: one long run's frames (agent_started, then thinking, tool pairs, heartbeats) through `LiveSession._feed` "
         "(judge + per-run rows + store).")
HEADER = table_header([
    "date", "floor MB", "store MB at 10k / 100k / 1M (goal < 200, flat)", "live MB at 10k / 100k / 1M",
    "`golden-path --json` MB at 10k / 100k / 1M (goal < 200)", "with `--record`", "with `--all-events`", "machine",
])
COMMANDS = {"json": [], "record": ["--record"], "all-events": ["--all-events"]}


def frames() -> list[str | bytes]:
    """Representative frames: every scenario through every envelope, plus odd ones."""
    from wsdash.services.agent_server import envelopes
    from wsdash.services.agent_server.scenarios import script

    out: list[str | bytes] = []
    for env in envelopes.ENVELOPES:
        out.append(json.dumps(envelopes.connection_established(env, "c0ffee", "user-1")))
        for scenario in ("golden", "nested", "malformed", "unpaired-tool"):
            for step in script(scenario, "What is the status of my AI spend this month?", "user-1"):
                if step[0] == "event":
                    out.append(json.dumps(envelopes.FORMATTERS[env](step[1], step[2])))
                elif step[0] == "raw":
                    out.append(step[1])
    big = {"type": "tool_completed", "tool_name": "log_search", "execution_id": "exec-big",
           "results": {"lines": [f"2026-01-01T00:00:{i % 60:02d}Z worker-{i % 7} handled request {i}" for i in range(200)]}}
    out.append(json.dumps(big))  # ~14 kB: a large tool result
    out.append(json.dumps({"type": "error_message", "error_code": "RATE_LIMIT", "error_message": "slow down", "details": {}}))
    out.append(json.dumps({"type": "heartbeat", "data": {"server_time": "2026-01-01T00:00:00.000Z"}}))
    return out


def live_frames() -> tuple[str, list[str]]:
    """agent_started, and the frames a long run sends before its completion (every envelope)."""
    from wsdash.services.agent_server import envelopes
    from wsdash.services.agent_server.scenarios import script

    progress: list[str] = []
    start = ""
    for env in envelopes.ENVELOPES:
        for step in script("golden", "What is the status of my AI spend this month?", "user-1"):
            if step[0] == "event" and step[1] == "agent_started" and not start:
                start = json.dumps(envelopes.FORMATTERS[env](step[1], step[2]))
            elif step[0] == "event" and step[1] not in ("agent_started", "agent_completed"):
                progress.append(json.dumps(envelopes.FORMATTERS[env](step[1], step[2])))
        progress.append(json.dumps({"type": "heartbeat", "data": {"server_time": "2026-01-01T00:00:00.000Z"}}))
    return start, progress


def child(mode: str, n: int) -> int:
    from wsdash.core.event_store import EventStore
    from wsdash.services.session.live import LiveSession
    from wsdash.core.protocol import parse_frame
    from wsdash.services.session.handshake import SessionOptions

    sample = frames()
    k = len(sample)
    t0 = time.perf_counter()
    if mode == "store":
        store = EventStore()
        for i in range(n):
            store.append(parse_frame(sample[i % k], float(i)), i * 0.001, 1)
        kept = len(store)
    elif mode == "live":
        # One long run, as in a burst: agent_started, then progress of every kind, no completion.
        start, progress = live_frames()
        k = len(progress)
        session = LiveSession(SessionOptions(url="ws://127.0.0.1:9/ws"), lambda: None)
        session.run = session._new_run()
        session.run.contract.message_sent(0.0)
        feed = session._feed
        feed(0.0, start)
        for i in range(1, n):
            feed(i * 1e-6, progress[i % k])
        kept = len(session.store)
    else:  # floor
        kept = 0
    print(json.dumps({"rss_mb": peak_rss_mb(), "kept": kept, "seconds": time.perf_counter() - t0}))
    return 0


def run_command(url: str, n: int, variant: str, tmp: str) -> dict[str, Any]:
    """`wsdash golden-path --json [--record F | --all-events]` on `burst:n` in a process of its own:
    its peak RSS and a check of what it printed."""
    out_path = os.path.join(tmp, "out.json")
    extra = list(COMMANDS[variant])
    if extra == ["--record"]:
        extra.append(os.path.join(tmp, "run.jsonl"))
    cmd = [sys.executable, "-m", "wsdash", "golden-path", "--url", burst_url(url, n), "--json",
           "--timeout", "1800", "--run-budget", "1800", *extra]
    peak = 0.0
    with open(out_path, "wb") as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        while proc.poll() is None:
            peak = max(peak, vm_hwm_mb(proc.pid) or 0.0)
            time.sleep(0.02)
        err.seek(0)
        error = err.read().decode("utf-8", "replace")
    data, listed_events, seqs_ok = read_output(out_path)
    # connection_established, agent_started, the burst, the tool pair, agent_completed — and a
    # heartbeat for every 10 s the run takes (the server's, while the client says nothing)
    frames = data["frames"]["received"]
    listed = listed_events + data["events_omitted"]
    complete = listed_events == frames
    problems = [what for what, bad in (
        (f"exit {proc.returncode}: {error[-300:]}", proc.returncode != 0),
        ("not PASSED", not data["ok"]),
        (f"{frames} frames counted", frames < n + 5),
        (f"{listed} events listed + omitted", listed != frames),
        ("the events' seq are not increasing", not seqs_ok),
        ("--all-events left some out", variant == "all-events" and not complete),
        ("the event list is not bounded", variant != "all-events" and n >= 10_000 and complete),
    ) if bad]
    if problems:
        raise RuntimeError(f"golden-path {variant} on burst:{n}: " + "; ".join(problems))
    for name in ("out.json", "run.jsonl"):
        try:
            os.unlink(os.path.join(tmp, name))
        except FileNotFoundError:
            pass
    return {"rss_mb": peak, "events": listed_events, "omitted": data["events_omitted"]}


def read_output(path: str) -> tuple[dict[str, Any], int, bool]:
    """(the JSON without its events, how many events, whether their seq increase), reading the
    events one line at a time (`--json` prints one per line): a million are never held here."""
    head: list[str] = []
    count, last, increasing = 0, 0, True
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = line.strip().rstrip(",")
            if text.startswith('{"seq":'):
                seq = json.loads(text)["seq"]
                increasing = increasing and seq > last
                count, last = count + 1, seq
            else:
                head.append(line)
    return json.loads("".join(head)), count, increasing


def spawn(mode: str, n: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", mode, "--n", str(n)],
                          capture_output=True, text=True, encoding="utf-8", timeout=600, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} {n} failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES), help="comma-separated event counts")
    parser.add_argument("--live-sizes", default=None, help="event counts for the `live` figure (default: --sizes; quick: 10000,100000; empty: skip)")
    parser.add_argument("--command-sizes", default=None, help="burst sizes for the `golden-path` figures (default: --sizes; quick: 10000,100000; empty: skip)")
    parser.add_argument("--child", choices=("store", "live", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    common_args(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.n)
    if peak_rss_mb() is None:
        print("peak RSS is not available on this platform (no `resource` module)")
        return 0
    sizes = [int(x) for x in args.sizes.split(",") if x]
    floor = spawn("floor", 0)["rss_mb"]
    store = {n: spawn("store", n) for n in sizes}
    live_default = "10000,100000" if args.quick else args.sizes
    live_sizes = [int(x) for x in (args.live_sizes if args.live_sizes is not None else live_default).split(",") if x]
    live = {n: spawn("live", n) for n in live_sizes}
    command_default = "10000,100000" if args.quick else args.sizes
    command_sizes = [int(x) for x in (args.command_sizes if args.command_sizes is not None else command_default).split(",") if x]
    commands: dict[str, dict[int, dict[str, Any]]] = {v: {} for v in COMMANDS}
    if command_sizes and vm_hwm_mb("self") is not None:
        with ServerProcess() as srv, tempfile.TemporaryDirectory(prefix="wsdash-bench-memory-") as tmp:
            for n in command_sizes:
                for variant in COMMANDS:
                    r = commands[variant][n] = run_command(srv.url, n, variant, tmp)
                    print(f"golden-path --json {' '.join(COMMANDS[variant])} burst:{n:,}: {r['rss_mb']:.1f} MB peak, "
                          f"{r['events']:,} events listed, {r['omitted']:,} left out", flush=True)
    print(f"floor (imports + frames, nothing kept): {floor:6.1f} MB")
    print(f"{'events':>10}  {'store MB':>9}  {'kept':>6}  {'s':>6}  {'live MB':>8}  {'s':>6}")
    for n in sorted(set(sizes) | set(live)):
        if n not in store:
            store[n] = spawn("store", n)
        lv = live.get(n)
        print(f"{n:>10,}  {store[n]['rss_mb']:>9.1f}  {store[n]['kept']:>6}  {store[n]['seconds']:>6.1f}  "
              + (f"{lv['rss_mb']:>8.1f}  {lv['seconds']:>6.1f}" if lv else ""))
    top = store[max(sizes)]["rss_mb"]
    beyond = [n for n in sizes if n >= 20 * 5000]  # well past the ring's capacity
    flat = True
    if len(beyond) >= 2:
        lo, hi = store[min(beyond)]["rss_mb"], store[max(beyond)]["rss_mb"]
        flat = hi - lo <= max(5.0, 0.1 * lo)
        print(f"flat beyond the ring ({min(beyond):,} → {max(beyond):,}): {hi - lo:+.1f} MB: {verdict(flat)}")
    print(f"peak at {max(sizes):,}: {top:.1f} MB (goal < {GOAL_MB:.0f}): {verdict(top < GOAL_MB)}")
    if len(live) >= 2:
        lo_n, hi_n = min(live), max(live)
        lo, hi = live[lo_n]["rss_mb"], live[hi_n]["rss_mb"]
        print(f"live path {lo_n:,} → {hi_n:,}: {lo:.1f} → {hi:.1f} MB ({'bounded' if hi - lo <= max(5.0, 0.1 * lo) else 'grows with N'})")
    for variant, runs in commands.items():
        if runs:
            top_n = max(runs)
            top_mb = runs[top_n]["rss_mb"]
            note = "" if top_n >= 1_000_000 else " (1,000,000 not measured: the goal is not checked)"
            print(f"golden-path --json {' '.join(COMMANDS[variant])} at {top_n:,}: {top_mb:.1f} MB "
                  f"(goal < {GOAL_MB:.0f} at 1,000,000): {verdict(top_mb < GOAL_MB) if not note else '-'}{note}")
    if not args.no_write:
        def cells(runs: dict[int, dict[str, Any]]) -> str:
            return " / ".join(f"{runs[n]['rss_mb']:.0f}" if n in runs else "-" for n in SIZES)

        row = table_row([
            today(), f"{floor:.0f}", " / ".join(f"{store[n]['rss_mb']:.0f}" for n in sizes),
            " / ".join(f"{live[n]['rss_mb']:.0f}" if n in live else "-" for n in sizes),
            cells(commands["json"]), cells(commands["record"]), cells(commands["all-events"]), machine(),
        ])
        append_row(SECTION, HEADER, row, INTRO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
