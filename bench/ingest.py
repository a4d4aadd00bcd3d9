"""Benchmark: how fast does wsdash take in a burst of frames, against a bare websockets client?

The embedded agent server runs in its own process (`wsdash serve --port 0 --pace 0`) and plays the
`burst:N` scenario: agent_started, N agent_thinking frames, a tool pair, agent_completed. The burst's
frame is serialised once down to its wire bytes and written in chunks as fast as the socket takes
them, so the server is never what is measured — and this benchmark checks that, every round:

  (s) server     a client that only steps over frame headers (no parsing, no JSON, no event loop):
                 how fast the server alone can deliver. It must outpace (a) by ≥ 2×, else the
                 figures below say "server-bound" and measure the server, not the clients;
  (a) raw        a `websockets` recv loop with `json.loads` per frame — the baseline. It connects as
                 wsdash does (no permessage-deflate), so both receive the same bytes;
  (b) session    `run_golden_path`: the normaliser, the contract, the per-run rows (headless);
  (c) recording  the same with a `Recorder` writing every frame to a temporary JSON-lines file.

Each measurement runs in a fresh process (no heap, garbage or caches left by the one before).
Each figure is frames / (time from sending the chat message to the outermost agent_completed);
a ratio is to (a) in the same round, and the figure is the median of the rounds' ratios (rounds
alternate the order). Goals: (b) ≥ 0.8 × (a), (c) ≥ 0.6 × (a). Also printed: the client's CPU µs
per frame (process time / frames, steadier than wall time on a shared machine) and the server's.

    python bench/ingest.py [--events 200000] [--rounds 5] [--quick] [--thread] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    ServerProcess, Stopwatch, append_row, burst_url, common_args, drain_burst, machine, median, raw_connect,
    rotations, spread, table_header, table_row, today, verdict,
)

SECTION = "ingest"
GOAL_SESSION, GOAL_RECORDING = 0.8, 0.6
SERVER_MARGIN = 2.0  # the server alone must deliver at least this many times the raw client's rate
VARIANTS = ("server", "raw", "session", "recording")
INTRO = ("`python bench/ingest.py`: the embedded server's `burst:N` scenario (server in its own process) received by "
         "(a) a raw `websockets` recv loop + `json.loads`, (b) `run_golden_path` headless, (c) the same with a `Recorder`. "
         "Frames/s from sending the message to `agent_completed`, medians of alternating rounds; ratios to (a). "
         "CPU µs/frame is the client's process time per frame.")
HEADER = table_header([
    "date", "events × rounds", "server alone ev/s (× raw, must be ≥ 2)", "raw ev/s", "session ev/s", "ratio (goal ≥ 0.8)",
    "recording ev/s", "ratio (goal ≥ 0.6)", "CPU µs/frame raw / session / rec", "machine",
])


async def receive_raw(url: str) -> tuple[int, float]:
    """(frames after the message, seconds from sending it to agent_completed)."""
    from wsdash.core.protocol import user_message

    async with raw_connect(url) as ws:
        await ws.recv()  # connection_established
        await ws.send(json.dumps(user_message("burst", None, "bench")))
        t0 = time.perf_counter()
        frames = 0
        while True:
            frame = json.loads(await ws.recv())
            frames += 1
            if frame.get("type") == "agent_completed":
                return frames, time.perf_counter() - t0


async def receive_session(url: str, record_to: Path | None = None) -> tuple[int, float]:
    from wsdash.core.recording import Recorder
    from wsdash.services.session.handshake import SessionOptions
    from wsdash.services.session.once import run_golden_path

    recorder = Recorder(record_to) if record_to is not None else None
    try:
        # established_wait_s: the server sends no handshake_response; don't sit out the 0.5 s (not timed anyway).
        opts = SessionOptions(url=url, timeout_s=120, grace_s=0.0, established_wait_s=0.05)
        result = await run_golden_path(opts, listener=recorder)
    finally:
        if recorder is not None:
            recorder.close()
    if not result.verdict.completed or result.verdict.total_s is None:
        raise RuntimeError(f"the run did not complete: {json.dumps(result.to_json())[:500]}")
    after_message = result.frames.received - 1  # connection_established came before the message
    return after_message, result.verdict.total_s


def receive_drain(url: str) -> tuple[int, float]:
    frames = int(url.rsplit(":", 1)[1]) + 4  # agent_started, the burst, the tool pair, agent_completed
    return frames, drain_burst(url, frames)


def child(variant: str, url: str, record_to: str | None) -> int:
    """One measurement in this (fresh) process; prints one JSON line."""
    with Stopwatch() as sw:
        if variant == "server":
            frames, seconds = receive_drain(url)
        else:
            frames, seconds = asyncio.run(receive_raw(url) if variant == "raw" else receive_session(url, Path(record_to) if record_to else None))
    print(json.dumps({"frames": frames, "seconds": seconds, "cpu": sw.cpu}))
    return 0


def one(variant: str, url: str, tmp: Path, server_cpu: Callable[[], float | None]) -> dict[str, Any]:
    record_to = tmp / "bench.jsonl" if variant == "recording" else None
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", variant, "--url", url]
    if record_to is not None:
        cmd += ["--record-to", str(record_to)]
    s0 = server_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=600, cwd=ROOT)
    s1 = server_cpu()
    if record_to is not None:
        record_to.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{variant} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    frames = r["frames"]
    return {
        "rate": frames / r["seconds"],
        "frames": frames,
        "cpu_us": r["cpu"] / frames * 1e6,
        "server_us": (s1 - s0) / frames * 1e6 if s0 is not None and s1 is not None else None,
    }


def measure(events: int, rounds: int, thread: bool = False) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="wsdash-bench-ingest-") as tmp_dir:
        tmp = Path(tmp_dir)
        if thread:
            from wsdash.services.agent_server import ServerThread

            ctx: Any = ServerThread(pace=0.0)
        else:
            ctx = ServerProcess()
        with ctx as srv:
            url = burst_url(srv.url, events)
            server_cpu = srv.cpu_seconds if isinstance(srv, ServerProcess) else (lambda: None)
            one("raw", burst_url(srv.url, min(events, 5000)), tmp, server_cpu)  # warm-up: the server's first burst
            for i, order in enumerate(rotations(VARIANTS, rounds)):
                line = []
                for v in order:
                    r = one(v, url, tmp, server_cpu)
                    results[v].append(r)
                    line.append(f"{v} {r['rate']:>9,.0f}/s ({r['cpu_us']:.1f} µs)")
                print(f"round {i + 1}: " + "   ".join(line), flush=True)
    return results


def summarise(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    raw = results["raw"]
    for v, rs in results.items():
        s[v] = median(r["rate"] for r in rs)
        s[v + "_cpu"] = median(r["cpu_us"] for r in rs)
        server = [r["server_us"] for r in rs if r["server_us"] is not None]
        s[v + "_server"] = median(server) if server else None
        s[v + "_spread"] = spread([r["rate"] for r in rs])
        # Paired: each round's ratio to the raw client measured in that round, then the median.
        ratios = [r["rate"] / b["rate"] for r, b in zip(rs, raw)]
        s[v + "_ratio"] = median(ratios)
        s[v + "_ratio_spread"] = f"{min(ratios):.2f}–{max(ratios):.2f}"
        s[v + "_cpu_ratio"] = median(b["cpu_us"] / r["cpu_us"] for r, b in zip(rs, raw))
    return s


def report(s: dict[str, Any], events: int, rounds: int) -> None:
    print(f"\nburst of {events:,} frames, {rounds} rounds, medians (min–max); ratios to raw paired by round")
    print(f"{'':12}{'frames/s':>12}  {'spread':>17}  {'ratio (min–max)':>18}  {'client CPU µs/frame':>20}  {'server CPU µs/frame':>20}")
    for v, goal in (("server", None), ("raw", None), ("session", GOAL_SESSION), ("recording", GOAL_RECORDING)):
        ratio = "" if v == "raw" else f"{s[v + '_ratio']:.2f} ({s[v + '_ratio_spread']})"
        server = "-" if s[v + "_server"] is None else f"{s[v + '_server']:.1f}"
        tail = "" if goal is None else f"   goal ≥ {goal}: {verdict(s[v + '_ratio'] >= goal)}  (by CPU: {s[v + '_cpu_ratio']:.2f})"
        print(f"{v:12}{s[v]:>12,.0f}  {s[v + '_spread']:>17}  {ratio:>18}  {s[v + '_cpu']:>20.1f}  {server:>20}{tail}")
    if s["server_ratio"] >= SERVER_MARGIN:
        print(f"the server alone delivers {s['server_ratio']:.1f}× what the raw client takes in (≥ {SERVER_MARGIN:.0f}×): "
              "the figures measure the clients, not the server")
    else:
        print(f"SERVER-BOUND: the server alone delivers only {s['server_ratio']:.1f}× what the raw client takes in "
              f"(< {SERVER_MARGIN:.0f}×): the ratios above measure the server as much as the clients")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=None, help="agent_thinking frames per burst (default 200000; quick 100000)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of the three clients (default 5; quick 3)")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--record-to", help=argparse.SUPPRESS)
    parser.add_argument("--thread", action="store_true", help="server in a thread of this process instead of a subprocess (shares the GIL: less fair)")
    common_args(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.url, args.record_to)
    events = args.events or (100_000 if args.quick else 200_000)
    rounds = args.rounds or (3 if args.quick else 5)
    s = summarise(measure(events, rounds, args.thread))
    report(s, events, rounds)
    if not args.no_write:
        server = f"{s['server']:,.0f} ({s['server_ratio']:.1f}×{'' if s['server_ratio'] >= SERVER_MARGIN else ', SERVER-BOUND'})"
        row = table_row([
            today(), f"{events:,} × {rounds}" + (" (thread)" if args.thread else ""), server, f"{s['raw']:,.0f}",
            f"{s['session']:,.0f}", f"{s['session_ratio']:.2f}", f"{s['recording']:,.0f}", f"{s['recording_ratio']:.2f}",
            f"{s['raw_cpu']:.1f} / {s['session_cpu']:.1f} / {s['recording_cpu']:.1f}", machine(),
        ])
        append_row(SECTION, HEADER, row, INTRO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
