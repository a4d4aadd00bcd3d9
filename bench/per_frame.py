"""Per frame: where a burst frame's time goes in `wsdash golden-path --json` (cProfile, in-process).

The embedded agent server runs in its own process and plays `burst:N`; this process runs
`wsdash golden-path --url …?scenario=burst:N --json` (and then with `--record`) through
`wsdash.cli.main` under cProfile, its JSON going to a sink. The time is split by what the code
does, each part the inclusive time of the functions that do it:

  websockets    receiving: `data_received` (WebSocket frames parsed from the socket's bytes) and
                `recv()` (the queue of messages), everything they call
  decode        `protocol.parse_frame` minus `normalise`: JSON text → Python values
  normalise     `protocol.normalise`: any envelope → one Event
  judge         `contract.Contract.feed`
  rows          `run_rows.RunRows.add`: the bounded per-run rows
  received      `judged_run.Run.received`'s own code (counters, the calls above)
  recording     `recording.Recorder.record` (with --record)
  JSON out      `commands.common.print_json`: the result printed at the end
  other         the event loop, the session's receive loop, connecting, the handshake

Time spent waiting for the network (the event loop's poll) is left out. cProfile adds a fixed cost to every Python function call, so the small functions of the per-frame
path weigh more here than they do unprofiled: read the shares as where to look, and bench/ingest.py
for what a change is worth. Printed with µs per frame (profiled), and unprofiled: the run's own time from sending the message
to agent_completed, per frame.

    python bench/per_frame.py [--events 200000] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    ServerProcess, append_row, burst_url, common_args, machine, table_header, table_row, today,
)

SECTION = "per-frame"
PARTS = ("websockets", "decode", "normalise", "judge", "rows", "received", "recording", "JSON out", "other")
INTRO = ("`python bench/per_frame.py`: cProfile of `wsdash golden-path --json` (and `--record`) in-process on a `burst:N` "
         "(server in its own process); the share of the profiled time each part of the per-frame path takes, and µs "
         "per frame under the profiler (which inflates small Python functions: bench/ingest.py has the real costs).")
HEADER = table_header(["date", "run", "frames", "µs/frame profiled (unprofiled)", *[f"{p} %" for p in PARTS], "machine"])


class Sink(io.TextIOBase):
    """Stands in for stdout: keeps what the command prints (a bounded JSON object)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.buffer = self  # print_json writes bytes to sys.stdout.buffer

    def write(self, text: Any) -> int:  # type: ignore[override]
        self.parts.append(text.decode("utf-8") if isinstance(text, bytes) else text)
        return len(text)

    def flush(self) -> None:
        pass


def run(url: str, extra: list[str], profile: bool) -> tuple[float, pstats.Stats | None]:
    """(seconds from the message to agent_completed, the profile)."""
    import json

    from wsdash.cli import main

    argv = ["golden-path", "--url", url, "--json", "--timeout", "900", "--run-budget", "900", *extra]
    profiler = cProfile.Profile() if profile else None
    sink = Sink()
    with contextlib.redirect_stdout(sink):  # type: ignore[type-var]
        code = profiler.runcall(main, argv) if profiler is not None else main(argv)
    result = json.loads("".join(sink.parts))
    if code != 0 or not result["ok"]:
        raise RuntimeError(f"golden-path {' '.join(extra)} exited {code}: {result['violations']}")
    return result["timings"]["total_ms"] / 1000, (pstats.Stats(profiler) if profiler is not None else None)


def split(stats: pstats.Stats) -> dict[str, float]:
    """Seconds per part (see the module's docstring)."""
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]

    def cum(path_part: str, name: str) -> float:
        return sum(v[3] for (f, _, n), v in raw.items() if path_part in f.replace(os.sep, "/") and n == name)

    def own(path_part: str, name: str) -> float:
        return sum(v[2] for (f, _, n), v in raw.items() if path_part in f.replace(os.sep, "/") and n == name)

    parts = {
        "websockets": cum("websockets/asyncio/connection.py", "data_received") + cum("websockets/asyncio/connection.py", "recv"),
        "decode": cum("wsdash/core/protocol.py", "parse_frame") - cum("wsdash/core/protocol.py", "normalise"),
        "normalise": cum("wsdash/core/protocol.py", "normalise"),
        "judge": cum("wsdash/core/contract.py", "feed"),
        "rows": cum("wsdash/core/run_rows.py", "add"),
        "received": own("wsdash/core/judged_run.py", "received"),
        "recording": cum("wsdash/core/recording.py", "record"),
        "JSON out": cum("wsdash/commands/common.py", "print_json"),
    }
    waiting = sum(v[2] for (f, _, n), v in raw.items() if f == "~" and "poll" in n)  # the event loop's epoll/select
    total = stats.total_tt - waiting  # type: ignore[attr-defined] - every function's own time: the whole command
    parts["other"] = max(0.0, total - sum(parts.values()))
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=None, help="agent_thinking frames per burst (default 200000; quick 50000)")
    common_args(parser)
    args = parser.parse_args(argv)
    events = args.events or (50_000 if args.quick else 200_000)
    frames = events + 5
    rows = []
    with ServerProcess() as srv, tempfile.TemporaryDirectory(prefix="wsdash-bench-per-frame-") as tmp:
        url = burst_url(srv.url, events)
        run(burst_url(srv.url, 1000), [], profile=False)  # warm-up: imports, the server's first burst
        for label, extra in (("--json", []), ("--json --record", ["--record", os.path.join(tmp, "run.jsonl")])):
            plain, _ = run(url, extra, profile=False)
            _, stats = run(url, extra, profile=True)
            assert stats is not None
            parts = split(stats)
            total = sum(parts.values())
            print(f"\ngolden-path {label}, burst of {events:,}: {total / frames * 1e6:.1f} µs/frame profiled "
                  f"({plain / frames * 1e6:.1f} µs/frame unprofiled, message to agent_completed)")
            for name in PARTS:
                if parts[name] or name != "recording":
                    print(f"  {name:11} {parts[name] / total:6.1%}  {parts[name] / frames * 1e6:6.2f} µs/frame")
            rows.append(table_row([
                today(), f"golden-path {label}", f"{frames:,}", f"{total / frames * 1e6:.1f} ({plain / frames * 1e6:.1f})",
                *[f"{parts[p] / total * 100:.0f}" for p in PARTS], machine(),
            ]))
    if not args.no_write:
        for row in rows:
            append_row(SECTION, HEADER, row, INTRO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
