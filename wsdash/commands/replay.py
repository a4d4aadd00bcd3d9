"""`wsdash replay FILE`: re-judge a recording (headless), or play it in the dashboard.

A replay judges with the budgets the live run was judged with (they are in the recording), so it
gives the live verdict; a budget flag overrides one of them and the replay says so.
"""

from __future__ import annotations

import argparse
import sys

from typing import Any

from wsdash.commands.common import (
    BUDGET_FLAGS, add_all_events_flag, replay_speed, add_budget_flags, add_shared_flags, all_events_usage, event_spool, print_run, usage_error,
)
from wsdash.commands.term import dashboard_terminal_problem


def register(sub: Any) -> None:
    rp = sub.add_parser("replay", help="re-judge (or watch) a recorded session")
    rp.add_argument("file", metavar="FILE")
    rp.add_argument("--headless", action="store_true", help="judge without the dashboard (the default when stdout, or the terminal the dashboard needs, is not one)")
    rp.add_argument("--json", action="store_true", help="print the same JSON as golden-path --json (implies --headless)")
    add_all_events_flag(rp)
    rp.add_argument("--speed", type=replay_speed, default=1.0, help="dashboard replay speed: 1, 10, or 0 for as fast as possible")
    add_shared_flags(rp, "present")
    add_budget_flags(rp, recorded=True)
    rp.set_defaults(func=run)


def budget_overrides(args: argparse.Namespace) -> dict[str, float]:
    """The budgets given on the command line, by Budgets field."""
    given = {field: getattr(args, flag[2:].replace("-", "_"), None) for field, flag in BUDGET_FLAGS.items()}
    return {field: value for field, value in given.items() if value is not None}


def budget_notes(start: dict[str, Any] | None, overrides: dict[str, float]) -> list[str]:
    """What the replay judges with, where that is not what the live run was judged with."""
    from wsdash.core.recording import recorded_budgets

    recorded = recorded_budgets(start)
    if recorded is None:
        return ["the recording does not say which budgets its run was judged with (an older wsdash wrote it): "
                "judged with the defaults" + (" and " + ", ".join(f"{BUDGET_FLAGS[f]} {v:g}" for f, v in overrides.items()) if overrides else "")]

    def shown(value: float | None) -> str:
        return "none" if value is None else f"{value:g} s"

    return [f"judged with {BUDGET_FLAGS[field]} {value:g} instead of the recorded {shown(getattr(recorded, field))}"
            for field, value in overrides.items() if getattr(recorded, field) != value]


def _named(path: str, exc: Exception) -> str:
    """The error with the recording it is about (a damaged budgets line said only "a damaged 'start' record")."""
    text = str(exc)
    return text if path in text else f"{path}: {text}"


def _note(text: str) -> None:
    from wsdash.core.redact import scrub

    sys.stderr.write(f"wsdash: note: {scrub(text)}\n")


def run(args: argparse.Namespace) -> int:
    if (misused := all_events_usage(args)) is not None:
        return misused
    # Piped or redirected, a dashboard would draw into a file and wait for keys no one can press.
    if args.headless or args.json or not sys.stdout.isatty() or dashboard_terminal_problem() is not None:
        return run_headless(args)
    return run_dashboard(args)


def run_headless(args: argparse.Namespace) -> int:
    from wsdash.core.recording import RecordingError, replay, start_record

    overrides = budget_overrides(args)
    with event_spool(args) as spool:
        try:
            notes = budget_notes(start_record(args.file), overrides)
            result = replay(args.file, overrides, row_sink=spool)
        except RecordingError as exc:
            return usage_error(_named(args.file, exc))
        except OSError as exc:  # a read error mid-file (a network drive gone)
            return usage_error(f"cannot read recording {args.file}: {exc.strerror or exc}")
        for note in notes:
            _note(note)
        print_run(result, args, spool)
    return result.exit_code


def _say_when_big(path: str) -> None:
    import os

    try:
        size = os.path.getsize(path)
    except OSError:
        return
    if size >= 20_000_000 and sys.stderr.isatty():
        sys.stderr.write(f"wsdash: checking {path} ({size / 1e6:,.0f} MB) before it plays …\n")
        sys.stderr.flush()


def run_dashboard(args: argparse.Namespace) -> int:
    from wsdash.commands.dashboard import open_dashboard
    from wsdash.ui.settings import AppSettings
    from pathlib import Path

    from wsdash.core.recording import RecordingError, replay, start_record

    overrides = budget_overrides(args)
    try:  # what can be said before the screen opens: not a recording, a newer format, bad budgets
        notes = budget_notes(start_record(args.file), overrides)
        # The whole file, read and judged once as fast as it goes: a damaged line deep in it is
        # exit 2 here, as in --headless, not an error the dashboard meets mid-play. About 1 s per
        # 40 MB (100,000 frames): a big one says why the screen has not opened yet.
        _say_when_big(args.file)
        replay(args.file, overrides)
    except RecordingError as exc:
        return usage_error(_named(args.file, exc))
    except OSError as exc:
        return usage_error(f"cannot read recording {args.file}: {exc.strerror or exc}")
    settings = AppSettings(mode="replay", replay_path=Path(args.file), budget_overrides=overrides, notes=notes,
                           replay_speed=args.speed if args.speed > 0 else float("inf"), title=f"wsdash · replay {Path(args.file).name}",
                           present=bool(getattr(args, "present", False)))
    return open_dashboard(settings)
