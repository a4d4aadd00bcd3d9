"""Benchmark: the instructions pytest executes with wsdash's plugin and without, counted by
valgrind (callgrind): a figure that other load on the machine does not move.

CPU seconds on a shared 2-core machine spread by ±8 % between runs of the same code, so the CPU
ratio of bench/tiers.py cannot tell a 1 % change from none. This counts what the tested
interpreter itself does: the same generated suite run once by plain ``python -m pytest`` and
once through ``run_tier`` (the plugin loaded, its socket read by the real runner), each under
callgrind with a fixed hash seed, and reports the ratio. It leaves out what the kernel does
(socket writes) and the runner's lifeline process: see bench/tiers.py for those.

Slow (valgrind runs Python some 50× slower): about two minutes per 1000 tests per side.

    python bench/tiers_instructions.py [--tests 1000] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # `python bench/tiers_instructions.py`: make `bench` and `wsdash` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import append_row, machine, table_header, table_row, today  # noqa: E402
from bench.tiers import ARGS, ENV, make_suite  # noqa: E402
from wsdash.services.tiers.runner import run_tier  # noqa: E402
from wsdash.services.tiers.spec import TierSpec  # noqa: E402

# The same string hashes (so the same dict probes) in both runs.
FIXED = {**ENV, "PYTHONHASHSEED": "0"}
SECTION = "tiers: instructions"
INTRO = ("`python bench/tiers_instructions.py`: the instructions pytest executes on the same generated suite, plain and "
         "through wsdash's tier runner (the plugin loaded), counted by callgrind with a fixed hash seed. Unmoved by other "
         "load, unlike the CPU ratio of `## tiers`; leaves out kernel time and the lifeline process.")
COLUMNS = ("date", "tests", "plain pytest (instructions)", "pytest with the plugin (instructions)", "ratio", "machine")


def callgrind_command(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + str(out)]


def total_instructions(out: Path) -> int:
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise ValueError(f"{out}: no 'totals:' line (did valgrind run?)")


def count_plain(root: Path, work: Path) -> int:
    out = work / "plain.callgrind"
    subprocess.run(
        [*callgrind_command(out), sys.executable, "-m", "pytest", *ARGS], cwd=root, env={**os.environ, **FIXED},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )
    return total_instructions(out)


def count_wsdash(root: Path, work: Path) -> int:
    """Through the real runner: its `python` is a script that runs the interpreter under valgrind."""
    out = work / "wsdash.callgrind"
    wrapper = work / "python-under-callgrind"
    command = " ".join(f"'{part}'" for part in [*callgrind_command(out), sys.executable])
    wrapper.write_text(f'#!/bin/sh\nexec {command} "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    spec = TierSpec.from_table({"name": "bench", "pytest": ARGS, "cwd": str(root), "env": FIXED, "python": str(wrapper)})
    result = asyncio.run(run_tier(spec))
    if not result.session_ended:
        raise RuntimeError(f"the tier did not finish: {result.status} {result.message}")
    return total_instructions(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="print only; do not touch BENCHMARKS.md")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or sys.platform == "win32":
        print("needs valgrind (Linux, macOS): apt install valgrind", file=sys.stderr)
        return 2
    host = machine()
    with tempfile.TemporaryDirectory(prefix="wsdash-bench-instr-") as tmp:
        work = Path(tmp)
        root = work / "suite"
        root.mkdir()
        make_suite(root, args.tests)
        plain = count_plain(root, work)
        with_plugin = count_wsdash(root, work)
    ratio = with_plugin / plain
    print(f"tests: {args.tests}  machine: {host}")
    print(f"instructions: plain pytest {plain:,}  with the plugin {with_plugin:,}  ratio {ratio:.4f}")
    if not args.no_write:
        row = table_row([today(), args.tests, f"{plain:,}", f"{with_plugin:,}", f"{ratio:.4f}", host])
        append_row(SECTION, table_header(COLUMNS), row, intro=INTRO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
