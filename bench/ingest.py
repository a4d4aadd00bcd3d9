"""Benchmark: how fast does wsdash take in a burst of frames, against a bare websockets client?

The embedded agent server runs in its own process (`wsdash serve --port 0 --pace 0`) and plays the
`burst:N` scenario: agent_started, N agent_thinking frames as fast as the socket takes them, a
tool pair, agent_completed. Three clients receive it, in alternating order, several rounds:

  (a) raw        a `websockets` recv loop with `json.loads` per frame — the baseline;
  (b) session    `run_golden_path`: the normaliser, the contract, the per-run rows (headless);
  (c) recording  the same with a `Recorder` writing every frame to a temporary JSON-lines file.

Each figure is frames / (time from sending the chat message to the outermost agent_completed),
the median over the rounds; the ratio is to (a). Goals: (b) ≥ 0.8 × (a), (c) ≥ 0.6 × (a).
Also printed: the client's CPU µs per frame (process time / frames), which is what the goals
really test and is steadier than wall time on a shared machine, and the server's.

    python bench/ingest.py [--events 100000] [--rounds 5] [--quick] [--thread] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    ServerProcess, Stopwatch, append_row, burst_url, common_args, machine, median, no_compression,
    rotations, spread, table_header, table_row, today, verdict,
)

SECTION = "ingest"
GOAL_SESSION, GOAL_RECORDING = 0.8, 0.6
VARIANTS = ("raw", "session", "recording")
INTRO = ("`python bench/ingest.py`: the embedded server's `burst:N` scenario (server in its own process) received by "
         "(a) a raw `websockets` recv loop + `json.loads`, (b) `run_golden_path` headless, (c) the same with a `Recorder`. "
         "Frames/s from sending the message to `agent_completed`, medians of alternating rounds; ratios to (a). "
         "CPU µs/frame is the client's process time per frame.")
HEADER = table_header([
    "date", "events × rounds", "raw ev/s", "session ev/s", "ratio (goal ≥ 0.8)", "recording ev/s", "ratio (goal ≥ 0.6)",
    "CPU µs/frame raw / session / rec", "machine",
])


async def receive_raw(url: str) -> tuple[int, float]:
    """(frames after the message, seconds from sending it to agent_completed)."""
    from websockets.asyncio.client import connect

    from wsdash.core.protocol import user_message

    async with connect(url, max_size=64 * 1024 * 1024, open_timeout=10) as ws:
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


def one(variant: str, url: str, tmp: Path, server_cpu: Callable[[], float | None]) -> dict[str, Any]:
    record_to = tmp / "bench.jsonl" if variant == "recording" else None
    coro = receive_raw(url) if variant == "raw" else receive_session(url, record_to)
    s0 = server_cpu()
    with Stopwatch() as sw:
        frames, seconds = asyncio.run(coro)
    s1 = server_cpu()
    if record_to is not None:
        record_to.unlink(missing_ok=True)
    return {
        "rate": frames / seconds,
        "frames": frames,
        "cpu_us": sw.cpu / frames * 1e6,
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
            for v in VARIANTS:  # warm-up: imports, code paths, the server's first burst
                one(v, burst_url(srv.url, min(events, 5000)), tmp, server_cpu)
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
    for v, rs in results.items():
        s[v] = median(r["rate"] for r in rs)
        s[v + "_cpu"] = median(r["cpu_us"] for r in rs)
        server = [r["server_us"] for r in rs if r["server_us"] is not None]
        s[v + "_server"] = median(server) if server else None
        s[v + "_spread"] = spread([r["rate"] for r in rs])
    s["session_ratio"] = s["session"] / s["raw"]
    s["recording_ratio"] = s["recording"] / s["raw"]
    s["session_cpu_ratio"] = s["raw_cpu"] / s["session_cpu"]
    s["recording_cpu_ratio"] = s["raw_cpu"] / s["recording_cpu"]
    return s


def report(s: dict[str, Any], events: int, rounds: int) -> None:
    print(f"\nburst of {events:,} frames, {rounds} rounds, medians (min–max)")
    print(f"{'':12}{'frames/s':>12}  {'spread':>17}  {'ratio':>6}  {'client CPU µs/frame':>20}  {'server CPU µs/frame':>20}")
    for v, goal in (("raw", None), ("session", GOAL_SESSION), ("recording", GOAL_RECORDING)):
        ratio = "" if goal is None else f"{s[v + '_ratio']:.2f}"
        server = "-" if s[v + "_server"] is None else f"{s[v + '_server']:.1f}"
        tail = "" if goal is None else f"   goal ≥ {goal}: {verdict(s[v + '_ratio'] >= goal)}  (by CPU: {s[v + '_cpu_ratio']:.2f})"
        print(f"{v:12}{s[v]:>12,.0f}  {s[v + '_spread']:>17}  {ratio:>6}  {s[v + '_cpu']:>20.1f}  {server:>20}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=None, help="agent_thinking frames per burst (default 100000)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of the three clients (default 5; quick 3)")
    parser.add_argument("--what-if", choices=("no-compression",), action="append", default=[],
                        help="experiment: all three clients connect without permessage-deflate (implies --no-write)")
    parser.add_argument("--thread", action="store_true", help="server in a thread of this process instead of a subprocess (shares the GIL: less fair)")
    common_args(parser)
    args = parser.parse_args(argv)
    events = args.events or 100_000
    rounds = args.rounds or (3 if args.quick else 5)
    if "no-compression" in args.what_if:
        no_compression()
    s = summarise(measure(events, rounds, args.thread))
    report(s, events, rounds)
    if args.what_if:
        print(f"what-if: {', '.join(args.what_if)} (not written to BENCHMARKS.md)")
    elif not args.no_write:
        row = table_row([
            today(), f"{events:,} × {rounds}" + (" (thread)" if args.thread else ""), f"{s['raw']:,.0f}",
            f"{s['session']:,.0f}", f"{s['session_ratio']:.2f}", f"{s['recording']:,.0f}", f"{s['recording_ratio']:.2f}",
            f"{s['raw_cpu']:.1f} / {s['session_cpu']:.1f} / {s['recording_cpu']:.1f}", machine(),
        ])
        append_row(SECTION, HEADER, row, INTRO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
