"""`wsdash diff A B`: what changed between two golden-path runs — two recordings, two history run
ids, or `last-good` against `last`. Exit 0 when only timings differ, 1 when the verdict, events,
order, violations or error differ, 2 when a run cannot be found."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from wsdash.commands.common import add_shared_flags, load_config_noted, print_json, usage_error

NAMED = ("last", "last-good", "last-failed")


def register(sub: Any) -> None:
    d = sub.add_parser(
        "diff", help="compare two runs: timings per checkpoint, events, order, violations, frames",
        description="Compare two golden-path runs. Each of A and B is a recording file (--record), a run id from "
        "`wsdash history` (12 or #12), or last, last-good, last-failed (of --target, else of the newest run's target). "
        "`wsdash diff last-good last` says what changed since it last worked. Exit 0 when only timings differ, "
        "1 when anything else does, 2 when a run cannot be found.")
    d.add_argument("a", metavar="A", help="the earlier (reference) run")
    d.add_argument("b", metavar="B", help="the run to compare with it")
    d.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    add_shared_flags(d, "config", "target")
    d.set_defaults(func=run)


class NotFound(Exception):
    pass


def run(args: argparse.Namespace) -> int:
    from wsdash.commands.diff_printer import print_diff
    from wsdash.core import exit_codes
    from wsdash.core.history import HistoryError
    from wsdash.core.recording import RecordingError
    from wsdash.core.run_diff import diff_runs

    resolver = _Resolver(args)
    try:
        a, b = resolver.get(args.a), resolver.get(args.b)
    except (NotFound, HistoryError, RecordingError) as exc:
        return usage_error(str(exc))
    finally:
        resolver.close()
    d = diff_runs(a, b)
    # `last-good last` right after a passing run names one run twice (or one recording, by two
    # paths): say so, not "only timings differ".
    same_run = (a.id is not None and a.id == b.id) or (
        a.id is None and b.id is None and a.recording is not None and _same_file(a.recording, b.recording))
    if args.json:
        print_json({**d.to_json(), "same_run": same_run})
    elif same_run:
        which = f"#{a.id}" if a.id is not None else "one recording"
        print(f"{args.a} and {args.b} are the same run, {which} ({a.verdict}): nothing to compare"
              + (" — the last run passed, so nothing has broken since it last worked."
                 if a.verdict == "passed" and a.id is not None else "."))
    else:
        print_diff(d, (args.a, args.b), sys.stdout)
    return exit_codes.OK if d.same else exit_codes.FAILED


class _Resolver:
    """A, B → RunRecords; the history opens once, when an argument needs it."""

    def __init__(self, args: argparse.Namespace) -> None:
        from wsdash.core.run_values import target_key

        self.args = args
        self.db: Any = None
        target = getattr(args, "target", None)
        self.target: str | None = target_key(target) if target is not None else None

    def _history(self) -> Any:
        if self.db is None:
            from wsdash.core.config import ConfigError
            from wsdash.core.history import History, default_path

            try:
                cfg = load_config_noted(getattr(self.args, "config", None))
            except ConfigError as exc:
                raise NotFound(str(exc)) from None
            path = cfg.history.path or default_path()
            if not os.path.exists(path):
                raise NotFound(f"the run history {path} does not exist yet: run a golden path first, or compare two recordings")
            self.db = History(path)
        return self.db

    def get(self, ref: str) -> Any:
        key = ref.strip().lstrip("#")
        if not (key.isdigit() or key in NAMED):  # a run id or a keyword first: a file named `3` or `last` is ./3, ./last
            if os.path.isfile(ref):
                return _from_recording(ref)
            if os.path.isdir(ref):
                raise NotFound(f"{ref} is a folder, not a recording")
            if os.sep in ref or (os.altsep and os.altsep in ref) or "." in ref:
                raise NotFound(f"{ref} does not exist (a recording file, a run id such as 12, or one of {', '.join(NAMED)})")
        if key.isdigit():
            rec = self._history().run(int(key))
            if rec is None:
                raise NotFound(f"no run #{key} in the history (see `wsdash history`; old runs are pruned)")
            return rec
        if key in NAMED:
            db = self._history()
            if self.target is None:  # the newest run's target: last-good must be good at the same thing
                newest = db.last()
                if newest is None:
                    raise NotFound("the run history is empty: run a golden path first")
                self.target = newest.target
            rec = db.last(self.target, passed={"last": None, "last-good": True, "last-failed": False}[key])
            if rec is None:
                what = {"last": "run", "last-good": "passing run", "last-failed": "failed run"}[key]
                raise NotFound(f"no {what} of {self.target} in the history")
            return rec
        raise NotFound(f"{ref!r} is not a recording file, a run id (12 or #12) or one of {', '.join(NAMED)}")

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def _same_file(a: str, b: str | None) -> bool:
    try:
        return b is not None and os.path.samefile(a, b)
    except OSError:
        return False


def _from_recording(path: str) -> Any:
    from wsdash.core.recording import replay
    from wsdash.core.run_record import RunRecord

    result = replay(path)
    return RunRecord.from_result(result, target=None, source="recording", started_at=os.path.getmtime(path), recording=path)
