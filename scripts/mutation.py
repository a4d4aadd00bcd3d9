"""Mutation testing of the judge (wsdash/core/contract.py) and the normaliser (wsdash/core/protocol.py).

mutmut changes the code one small edit at a time (`<` for `<=`, a constant, a dropped call) and runs
the tests that reach the changed function: a mutant the tests do not notice ("survived") is a bug
they would miss. Configuration: [tool.mutmut] in pyproject.toml; results and the score: docs/testing.md.

Slow (about ten minutes on two cores), so not part of `pytest` or CI:

    pip install -e ".[test,mutation]"
    python scripts/mutation.py [--fresh] [--max-children 2] [--examples-scale 0.1] [--goal 90]

Exit 0 when the killed share reaches the goal, 1 below it, 2 when mutmut is missing. Survivors are
printed with their diffs (`mutmut show NAME`); each one left must be explained in docs/testing.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = ("killed", "timeout")  # a mutant that hangs the tests is noticed too
NOT_KILLED = ("survived", "no tests", "suspicious", "skipped")


def mutmut(*args: str, env: dict[str, str] | None = None, capture: bool = False) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("mutmut", path=str(Path(sys.executable).parent)) or shutil.which("mutmut")
    if exe is None:
        print('mutmut is not installed: pip install -e ".[test,mutation]"', file=sys.stderr)
        raise SystemExit(2)
    return subprocess.run([exe, *args], cwd=ROOT, env=env, text=True, capture_output=capture, check=False)


def statuses() -> dict[str, str]:
    """mutant name → status, from `mutmut results --all true` ("    name: status")."""
    out = mutmut("results", "--all", "true", capture=True).stdout
    result = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name.startswith("wsdash."):
            result[name] = status
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--examples-scale", type=float, default=0.1,
                        help="hypothesis examples per property, as a share of the normal run's (default 0.1)")
    parser.add_argument("--goal", type=float, default=90.0, help="the killed share to reach, in %% (default 90)")
    parser.add_argument("--report-only", action="store_true", help="print the last run's score without running")
    parser.add_argument("--fresh", action="store_true",
                        help="forget earlier results (mutants/): mutmut keeps a mutant's verdict until its code changes, "
                             "so after changing only tests, a fresh run is the honest score")
    args = parser.parse_args(argv)

    if args.fresh and not args.report_only:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    if not args.report_only:
        env = {**os.environ, "WSDASH_EXAMPLES_SCALE": str(args.examples_scale)}
        run = mutmut("run", "--max-children", str(args.max_children), env=env)
        if run.returncode not in (0, 1):
            print(f"mutmut run failed (exit {run.returncode})", file=sys.stderr)
            return run.returncode
    found = statuses()
    if not found:
        print("no mutants found: run without --report-only first", file=sys.stderr)
        return 1
    counts: dict[str, int] = {}
    for status in found.values():
        counts[status] = counts.get(status, 0) + 1
    killed = sum(counts.get(s, 0) for s in KILLED)
    score = 100.0 * killed / len(found)
    survivors = sorted(name for name, status in found.items() if status not in KILLED)
    for name in survivors:
        print(f"--- {found[name]}: {name}")
        print(mutmut("show", name, capture=True).stdout.strip())
    print(json.dumps(counts, sort_keys=True))
    print(f"mutation score: {killed}/{len(found)} killed = {score:.1f} % (goal {args.goal:.0f} %)")
    return 0 if score >= args.goal else 1


if __name__ == "__main__":
    raise SystemExit(main())
