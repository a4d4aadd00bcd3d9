"""Benchmark: the cost of running a suite through wsdash's tier runner instead of plain pytest.

Generates a suite of N quick tests (passes, failures, skips, xfails, parametrization), then runs
it alternately through plain ``python -m pytest`` and through ``wsdash.services.tiers.runner.run_tier``
(several rounds each, so that both see the same machine state), and reports:

* the wall-clock ratio wsdash / plain pytest (goal ≤ 1.10): the median of the per-round ratios,
  and the ratio of the best times (the least disturbed by other load on the machine);
* the CPU ratio of the pytest process itself (with the plugin / without), which other load on
  the machine does not distort;
* result latency: the plugin stamps each result with time.time() when pytest produced it, the
  runner stamps it when it arrived; p50 / p99 over all results (goal p99 < 100 ms);
* whether wsdash's counts equal pytest's own summary line.

The CPU figures move by several per cent with other load on the machine; for a change of a
few per cent in the plugin, count instructions instead (bench/tiers_instructions.py).

A dated row goes to BENCHMARKS.md (section "## tiers") unless --no-write.

    python bench/tiers.py [--tests 2000] [--rounds 3] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/tiers.py`: make `bench` and `wsdash` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import append_row, common_args, machine, percentile, table_header, table_row, today  # noqa: E402
from wsdash.services.tiers.events import TestFinished, TierEvent  # noqa: E402
from wsdash.services.tiers.spec import TierSpec  # noqa: E402
from wsdash.services.tiers.runner import run_tier  # noqa: E402

# Both sides run without the environment's auto-loaded third-party plugins: they cost the same
# on both sides and would only add noise to the ratio.
ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
ARGS = ["-p", "no:cacheprovider"]
SECTION = "tiers"
INTRO = "`python bench/tiers.py`: wsdash tier runner vs plain pytest on the same generated suite (goals: wall ratio ≤ 1.10, latency p99 < 100 ms)."
COLUMNS = (
    "date", "tests", "rounds", "plain pytest (s, median)", "wsdash (s, median)", "wall ratio (median / best)",
    "pytest CPU ratio", "latency p50 (ms)", "latency p99 (ms)", "counts match", "machine",
)


def make_suite(root: Path, n_tests: int) -> None:
    """n_tests tests in files of 200: 1 in 20 fails, 1 in 25 skips, 1 in 50 is an xfail."""
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    per_file = 200
    for f in range((n_tests + per_file - 1) // per_file):
        count = min(per_file, n_tests - f * per_file)
        (root / f"test_bench_{f:02d}.py").write_text(
            "import pytest\n\n"
            f"@pytest.mark.parametrize('i', range({count}))\n"
            "def test_case(i):\n"
            "    if i % 50 == 7:\n"
            "        pytest.xfail('known')\n"
            "    if i % 25 == 3:\n"
            "        pytest.skip('not here')\n"
            "    assert i % 20 != 11\n",
            encoding="utf-8",
        )


_WORD = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?)\b")


def summary_counts(output: str) -> dict[str, int]:
    line = [ln for ln in output.splitlines() if re.search(r"\bin \d+(\.\d+)?s\b", ln)][-1]
    return {("error" if w.startswith("error") else w): int(n) for n, w in _WORD.findall(line)}


def children_cpu() -> float:
    try:
        import resource
    except ImportError:  # Windows: no CPU figure
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_plain(root: Path) -> tuple[float, float, dict[str, int]]:
    """(wall s, pytest CPU s, counts)."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *ARGS], cwd=root, env={**os.environ, **ENV},
        capture_output=True, text=True, encoding="utf-8", errors="replace",
    )
    return time.perf_counter() - t0, children_cpu() - cpu0, summary_counts(proc.stdout)


def run_wsdash(root: Path, latencies: list[float]) -> tuple[float, float, dict[str, int]]:
    spec = TierSpec.from_table({"name": "bench", "pytest": ARGS, "cwd": str(root), "env": ENV})

    def on_event(event: TierEvent) -> None:
        if isinstance(event, TestFinished):
            r = event.result
            if r.finished_at is not None and r.received_at is not None:
                latencies.append((r.received_at - r.finished_at) * 1000)

    cpu0, t0 = children_cpu(), time.perf_counter()
    result = asyncio.run(run_tier(spec, on_event=on_event))
    return time.perf_counter() - t0, children_cpu() - cpu0, {k: v for k, v in result.counts.items() if v}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=None, help="rounds of each (default 5, 2 with --quick)")
    common_args(parser)  # --quick, --no-write
    args = parser.parse_args()
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5

    plain_times: list[float] = []
    wsdash_times: list[float] = []
    plain_cpu: list[float] = []
    wsdash_cpu: list[float] = []
    latencies: list[float] = []
    match = True
    host = machine()  # before the runs: it records the load average other work puts on the machine
    with tempfile.TemporaryDirectory(prefix="wsdash-bench-tiers-") as tmp:
        root = Path(tmp)
        make_suite(root, args.tests)
        run_plain(root)  # warm-up: bytecode caches, page cache
        for i in range(args.rounds):
            t_plain, cpu_plain, c_plain = run_plain(root)
            t_ws, cpu_ws, c_ws = run_wsdash(root, latencies)
            plain_times.append(t_plain)
            wsdash_times.append(t_ws)
            plain_cpu.append(cpu_plain)
            wsdash_cpu.append(cpu_ws)
            match = match and c_plain == c_ws
            print(f"round {i + 1}: plain {t_plain:.2f} s  wsdash {t_ws:.2f} s  counts {'match' if c_plain == c_ws else f'DIFFER {c_plain} vs {c_ws}'}")

    plain, ws = statistics.median(plain_times), statistics.median(wsdash_times)
    ratio = statistics.median(w / p for w, p in zip(wsdash_times, plain_times))
    best_ratio = min(wsdash_times) / min(plain_times)
    cpu_ratio = statistics.median(wsdash_cpu) / statistics.median(plain_cpu) if statistics.median(plain_cpu) else float("nan")
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(f"tests: {args.tests}  rounds: {args.rounds}  machine: {host}")
    print(f"plain pytest median: {plain:.2f} s   wsdash median: {ws:.2f} s")
    print(f"wall ratio: {ratio:.3f} (median of rounds), {best_ratio:.3f} (best times); goal ≤ 1.10")
    print(f"pytest CPU ratio (with plugin / without): {cpu_ratio:.3f}")
    print(f"result latency over {len(latencies)} results: p50 {p50:.2f} ms  p99 {p99:.2f} ms (goal p99 < 100 ms)")
    print(f"counts equal pytest's summary: {match}")

    if not args.no_write:
        row = table_row([
            today(), args.tests, args.rounds, f"{plain:.2f}", f"{ws:.2f}", f"{ratio:.3f} / {best_ratio:.3f}",
            f"{cpu_ratio:.3f}", f"{p50:.2f}", f"{p99:.2f}", "yes" if match else "NO", host,
        ])
        append_row(SECTION, table_header(COLUMNS), row, intro=INTRO)
    return 0 if match else 1


if __name__ == "__main__":
    raise SystemExit(main())
