"""`wsdash history`: the golden-path runs (or tier runs) the history keeps, as a table and a
summary — pass rate, p50/p95/p99 of first event and total, longest failing streak, last change."""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

from wsdash.commands.common import add_shared_flags, load_config_noted, print_json, usage_error, whole_number

TABLE_ROWS = 20
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def since(text: str) -> float:
    """'90m', '24h', '30d', '2w' ago, or a local date/time ('2026-11-25', '2026-11-25T09:00'): the
    Unix time the window starts."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if m:
        return time.time() - float(m.group(1)) * _UNITS[m.group(2)]
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return time.mktime(time.strptime(text.strip(), fmt))
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"expected an age like 90m, 24h, 30d, 2w or a date like 2026-11-25[T09:00], got {text!r}")


def register(sub: Any) -> None:
    h = sub.add_parser(
        "history", help="the runs wsdash remembers: a table and a summary (pass rate, p50/p95/p99, failing streaks)",
        description="Golden-path runs from every wsdash golden-path, watch and dashboard on this machine (or, with "
        "--tiers, tier runs). --target filters by target name (or the URL of a --url run).")
    h.add_argument("--since", type=since, metavar="AGE|DATE", help="only runs since then: 90m, 24h, 30d, 2w, or 2026-11-25[T09:00] (default: all kept)")
    h.add_argument("--limit", type=whole_number(0), default=None, metavar="N", help=f"rows to list (default {TABLE_ROWS} in the table, all with --json/--csv; 0 = all)")
    out = h.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object: summaries and runs (newest first)")
    out.add_argument("--csv", action="store_true", help="the runs as CSV (newest first), nothing else")
    h.add_argument("--tiers", nargs="?", const="", default=None, metavar="NAME", help="tier runs instead of golden-path runs (of tier NAME only)")
    add_shared_flags(h, "config", "target")
    h.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from wsdash.core.config import ConfigError
    from wsdash.core.history import History, HistoryError, default_path

    try:
        cfg = load_config_noted(getattr(args, "config", None))
    except ConfigError as exc:
        return usage_error(str(exc))
    path = cfg.history.path or default_path()
    import os

    if not os.path.exists(path):
        return _empty(args, str(path), "no runs yet: golden-path, watch, the dashboard and tier runs write here")
    try:
        with History(path) as db:
            code = _tiers(args, db, cfg) if args.tiers is not None else _runs(args, db, cfg)
            for note in db.damaged:  # after the output: --json stays one document on stdout
                sys.stderr.write(f"wsdash: note: {note}\n")
            return code
    except HistoryError as exc:
        return usage_error(str(exc))


def _empty(args: argparse.Namespace, path: str, why: str) -> int:
    if args.json:
        print_json({"history": path, "summaries": [], "runs": []})
    elif not args.csv:
        print(f"{why}\nhistory: {path}")
    return 0


def _runs(args: argparse.Namespace, db: Any, cfg: Any) -> int:
    from wsdash.commands.history_table import print_csv, print_summary, print_table

    target = getattr(args, "target", None)
    if target is not None:
        from wsdash.core.run_values import target_key

        target = target_key(target)
    summaries = db.summaries(target, args.since)
    runs = sum(s.runs for s in summaries)
    limit = args.limit if args.limit is not None else (0 if (args.json or args.csv) else TABLE_ROWS)
    if args.csv:
        print_csv(db.iter_runs(target, args.since, limit or None), sys.stdout)
    elif args.json:
        import json

        from wsdash.commands.common import JsonLines

        # Streamed, one run a line: the same JSON value as one indented document, without holding
        # 100,000 runs (and their text) in memory at once.
        runs_json = JsonLines(json.dumps(r.to_json(), ensure_ascii=True) for r in db.iter_runs(target, args.since, limit or None))
        print_json({"history": str(db.path), "target": target, "since": args.since and time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(args.since)),
                    "summaries": [s.to_json() for s in summaries], "runs": runs_json}, one_per_line=("runs",))
    else:
        records = db.runs(target, args.since, limit or None)
        if not runs:
            known = db.targets()
            where = f" for {target}" if target else ""
            print(f"no runs{where} in this window" + (f" (targets in the history: {', '.join(known)})" if known and target not in known else ""))
        else:
            print_table(records[::-1], sys.stdout)
            if len(records) < runs:
                print(f"(the newest {len(records):,} of {runs:,} runs: --limit N for more, 0 for all; --json or --csv for every run)")
            for s in summaries:
                print_summary(s, sys.stdout)
        _footer(db, cfg)
    return 0


def _tiers(args: argparse.Namespace, db: Any, cfg: Any) -> int:
    from wsdash.commands.history_table import print_tier_table

    if getattr(args, "target", None) is not None:  # tier runs are kept by tier, not by target
        return usage_error("--target picks golden-path runs; tier runs are kept by tier: `history --tiers NAME`")
    limit = args.limit if args.limit is not None else (0 if (args.json or args.csv) else TABLE_ROWS)
    records = db.tier_runs(args.tiers or None, args.since, limit or None)
    if args.json:
        print_json({"history": str(db.path), "tier_runs": [r.to_json() for r in records]})
    elif args.csv:
        from wsdash.commands.history_table import print_tier_csv

        print_tier_csv(records, sys.stdout)
    else:
        if records:
            print_tier_table(records[::-1], sys.stdout)
        else:
            known = db.targets(tiers=True)
            unknown = bool(args.tiers) and args.tiers not in known
            said = f"no runs of tier {args.tiers!r} in this window" if args.tiers else "no tier runs in this window"
            print(said + (f" (tiers in the history: {', '.join(known)})" if unknown and known else ""))
        _footer(db, cfg)
    return 0


def _footer(db: Any, cfg: Any) -> None:
    from wsdash.commands.term import painter

    h = cfg.history
    keeps = f"keeps {h.keep_days:g} days" + (f", at most {h.max_runs:,} runs" if h.max_runs else "")
    off = "" if h.enabled else " · writing is OFF ([history] enabled = false)"
    print(painter(sys.stdout)(f"history: {db.path} ({keeps}){off}", "dim"))
