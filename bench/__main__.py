"""`python -m bench`: every benchmark, one after another, in quick mode (a few minutes in all).

Each runs as its own process, with the same interpreter, and appends its dated row to
BENCHMARKS.md (unless --no-write). `--full` drops the quick settings (default events/rounds,
well over five minutes); `--only ingest,ui` picks some.

    python -m bench [--full] [--only NAMES] [--no-write]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"

# name → (file, quick arguments). check.py and tiers.py are others' benchmarks with their own CLI.
SUITE: dict[str, tuple[str, list[str]]] = {
    "ingest": ("ingest.py", ["--quick"]),
    "ui": ("ui.py", ["--quick"]),
    "startup": ("startup.py", ["--quick"]),
    "memory": ("memory.py", ["--quick"]),
    "per-frame": ("per_frame.py", ["--quick"]),
    "check": ("check.py", ["--rounds", "3"]),
    "tiers": ("tiers.py", ["--rounds", "3"]),  # its default 2000 tests: fewer make start-up dominate the ratio
    "history": ("history.py", ["--quick"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="each benchmark's default (longer) settings")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(SUITE)}")
    parser.add_argument("--no-write", action="store_true", help="print only; do not touch BENCHMARKS.md")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(SUITE)
    unknown = [n for n in names if n not in SUITE]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(SUITE)}")
    failed: list[str] = []
    started = time.perf_counter()
    timings: list[tuple[str, float, int]] = []
    for name in names:
        file, quick = SUITE[name]
        path = BENCH / file
        if not path.exists():
            print(f"\n=== {name}: {path.name} not found, skipped", flush=True)
            continue
        cmd = [sys.executable, str(path), *([] if args.full else quick), *(["--no-write"] if args.no_write else [])]
        print(f"\n=== {name}: {' '.join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call(cmd, cwd=ROOT)
        timings.append((name, time.perf_counter() - t0, code))
        if code != 0:
            failed.append(name)
    print(f"\n=== done in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{n} {s:.0f} s" + ("" if c == 0 else f" (exit {c})") for n, s, c in timings))
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
