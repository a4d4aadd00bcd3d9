"""Benchmark `wsdash check`: is the whole check as fast as its slowest probe, and how fast is a
refused local port detected?

    python bench/check.py [--rounds N] [--no-write]

Peers are local: the embedded agent server (one fast target, one with a slow health endpoint), a
refused port, and a Docker socket that does not exist. Goals: total ≤ 1.1 × the slowest single
probe (they run concurrently), refused port detected in < 50 ms. Appends a dated row to
BENCHMARKS.md under `## check`.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import socket
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import append_row  # noqa: E402
from wsdash.services.agent_server import AgentServer  # noqa: E402
from wsdash.core.config import Config, DockerConfig, TargetConfig  # noqa: E402
from wsdash.services.health.check import run_checks  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"
SLOW_HEALTH_S = 0.3
HEADER = ("| date | total ms | slowest probe ms | ratio (goal ≤ 1.1) | refused port ms (goal < 50) | "
          "python | platform |\n|---|---|---|---|---|---|---|\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def timed(cfg: Config, names: list[str] | None) -> float:
    t0 = time.perf_counter()
    await run_checks(cfg, names, timeout=5.0, env={"BENCH_SECRET": SECRET}, docker_options={"cli": None})
    return (time.perf_counter() - t0) * 1000


async def measure(rounds: int) -> dict[str, float]:
    async with AgentServer(host="127.0.0.1", port=0, secret=SECRET, pace=0.0) as fast, \
            AgentServer(host="127.0.0.1", port=0, secret=SECRET, http_delay=SLOW_HEALTH_S) as slow:
        refused = free_port()
        targets = {
            "fast": TargetConfig("fast", fast.url, health_url=fast.http_url + "/health", secret_env="BENCH_SECRET"),
            "slow": TargetConfig("slow", slow.url, health_url=slow.http_url + "/health", secret_env="BENCH_SECRET"),
            "refused": TargetConfig("refused", f"ws://127.0.0.1:{refused}/ws"),
        }
        cfg = Config(targets=targets, docker=DockerConfig(host="unix:///nonexistent/wsdash-bench.sock"), default_target="fast")
        names = ["docker", *targets]
        await timed(cfg, None)  # warm-up: imports, CA store, executor threads
        singles = {n: statistics.median([await timed(cfg, [n]) for _ in range(rounds)]) for n in names}
        total = statistics.median([await timed(cfg, None) for _ in range(rounds)])
        refused_ms = statistics.median([await timed(cfg, ["refused"]) for _ in range(rounds * 3)])
    slowest = max(singles.values())
    return {"total": total, "slowest": slowest, "ratio": total / slowest, "refused": refused_ms,
            **{f"single:{n}": v for n, v in singles.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="repetitions per figure (medians; default 7)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not touch BENCHMARKS.md")
    args = parser.parse_args()
    m = asyncio.run(measure(args.rounds))
    for key, value in m.items():
        if key.startswith("single:"):
            print(f"  {key[7:]:<8} alone   {value:8.1f} ms")
    print(f"check, all at once  {m['total']:8.1f} ms")
    print(f"slowest single      {m['slowest']:8.1f} ms")
    print(f"ratio               {m['ratio']:8.2f}   (goal ≤ 1.10: {'ok' if m['ratio'] <= 1.1 else 'MISSED'})")
    print(f"refused port        {m['refused']:8.1f} ms (goal < 50: {'ok' if m['refused'] < 50 else 'MISSED'})")
    row = (f"| {date.today().isoformat()} | {m['total']:.0f} | {m['slowest']:.0f} | {m['ratio']:.2f} | "
           f"{m['refused']:.1f} | {platform.python_version()} | {sys.platform} |\n")
    if not args.no_write:
        append_row("check", HEADER, row, "`python bench/check.py`: `wsdash check` against local peers (medians). "
                   "The total should track the slowest probe, not the sum.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
