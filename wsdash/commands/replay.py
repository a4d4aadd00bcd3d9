"""`wsdash replay FILE`: re-judge a recording (headless), or play it in the dashboard."""

from __future__ import annotations

import argparse
import sys

from typing import Any

from wsdash.commands.common import EventSpool, add_all_events_flag, add_budget_flags, budgets_from, print_run_json, usage_error


def register(sub: Any) -> None:
    rp = sub.add_parser("replay", help="re-judge (or watch) a recorded session")
    rp.add_argument("file", metavar="FILE")
    rp.add_argument("--headless", action="store_true", help="judge without the dashboard (the default when stdout is not a terminal)")
    rp.add_argument("--json", action="store_true", help="print the same JSON as golden-path --json (implies --headless)")
    add_all_events_flag(rp)
    rp.add_argument("--speed", type=float, default=1.0, help="dashboard replay speed: 1, 10, or 0 for as fast as possible")
    add_budget_flags(rp)
    rp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Piped or redirected, a dashboard would draw into a file and wait for keys no one can press.
    if args.all_events and not args.json:
        return usage_error("--all-events lists the events in the JSON output: add --json")
    if args.headless or args.json or not sys.stdout.isatty():
        return run_headless(args)
    return run_dashboard(args)


def run_headless(args: argparse.Namespace) -> int:
    from wsdash.commands.run_printer import print_human
    from wsdash.core.recording import RecordingError, replay

    spool = EventSpool() if args.all_events else None
    try:
        try:
            result = replay(args.file, budgets_from(args), row_sink=spool)
        except RecordingError as exc:
            return usage_error(str(exc))
        if args.json:
            print_run_json(result, spool)
    finally:
        if spool is not None:
            spool.close()
    if not args.json:
        print_human(result, sys.stdout)
    return result.exit_code


def run_dashboard(args: argparse.Namespace) -> int:
    from wsdash.ui.app import AppSettings, make_app
    from pathlib import Path

    from wsdash.core.recording import RecordingError, iter_records

    try:
        next(iter(iter_records(args.file)))
    except (RecordingError, StopIteration) as exc:
        return usage_error(str(exc) or f"{args.file} is empty")
    settings = AppSettings(mode="replay", replay_path=Path(args.file), budgets=budgets_from(args),
                           replay_speed=args.speed if args.speed > 0 else float("inf"), title=f"wsdash · replay {Path(args.file).name}")
    make_app(settings).run()
    return 0
