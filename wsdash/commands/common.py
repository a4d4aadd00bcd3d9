"""What every command shares: the parser class, the shared flags, number types, budgets from flags,
JSON printing and usage errors. Imported on every start: argparse and the cheap core only."""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from wsdash.core import exit_codes
from wsdash.core.redact import scrub, scrub_obj

if TYPE_CHECKING:
    from wsdash.core.contract import Budgets


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with the usage line, as argparse does
        self.print_usage(sys.stderr)
        self.exit(exit_codes.USAGE, f"{self.prog}: error: {message}\n")


_SHARED = {
    "config": dict(metavar="FILE", help="configuration file (default: ./wsdash.toml, else the user config dir)"),
    "target": dict(metavar="NAME", help="the configured target to use (default: default_target)"),
    "record": dict(metavar="PATH", help="record golden-path runs as JSON lines (secrets redacted): "
                   "a directory gets one file per run; golden-path also takes a file name"),
}


def add_shared_flags(parser: argparse.ArgumentParser | Any, *names: str, top_level: bool = False) -> None:
    """The flags a user may put before or after the subcommand. On the subcommand their default is
    SUPPRESS, so an absent flag leaves the top-level value in place and a present one wins."""
    for name in names or tuple(_SHARED):
        default = None if top_level else argparse.SUPPRESS
        parser.add_argument(f"--{name}", default=default, **_SHARED[name])


def seconds(text: str) -> float:
    """A finite, positive number of seconds (nan, inf, 0 and negatives are usage errors)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def seconds_or_zero(text: str) -> float:
    """Like `seconds`, but 0 is allowed (no grace, as fast as possible)."""
    if text.strip() in ("0", "0.0"):
        return 0.0
    return seconds(text)


def add_budget_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("budgets (seconds; defaults from the backend's tests)")
    g.add_argument("--connect-budget", type=seconds, default=2.0, metavar="S", help="connect within S (default 2)")
    g.add_argument("--first-event-budget", type=seconds, default=5.0, metavar="S", help="first agent event within S of sending (default 5)")
    g.add_argument("--run-budget", type=seconds, default=60.0, metavar="S", help="whole run within S (default 60)")
    g.add_argument("--gap-budget", type=seconds, default=None, metavar="S", help="opt-in: at most S between consecutive events (strict suites: 0.1)")


def budgets_from(args: argparse.Namespace) -> "Budgets":
    from wsdash.core.contract import Budgets

    return Budgets(
        connect_s=args.connect_budget,
        first_event_s=args.first_event_budget,
        run_s=args.run_budget,
        gap_s=args.gap_budget,
    )


class JsonLines:
    """A list `print_json` writes as it iterates, never holding it: each item a JSON text."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = texts


def print_json(obj: Any, one_per_line: tuple[str, ...] = ()) -> None:
    """One object on stdout and nothing else, scrubbed like everything that leaves the process,
    in UTF-8 whatever the console's code page (Windows). The top-level lists named in
    `one_per_line` print one item per line (a run's events: readable, greppable, and encoded by
    json's C encoder rather than the slow indenting one); a `JsonLines` value there is streamed."""
    import json

    lists: dict[str, Any] = {}
    head = dict(obj)
    for key in one_per_line:
        if isinstance(head.get(key), (list, JsonLines)):
            lists[key] = head[key]
            head[key] = f"\x00{key}\x00"  # a placeholder no scrubbed value can contain
    text = scrub(json.dumps(scrub_obj(head), ensure_ascii=False, indent=2)) + "\n"
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        sys.stdout.flush()

        def write(part: str) -> None:
            buffer.write(part.encode("utf-8"))
    else:
        write = sys.stdout.write
    for key, value in lists.items():
        before, text = text.split(json.dumps(f"\x00{key}\x00"), 1)
        write(before)
        texts = value.texts if isinstance(value, JsonLines) else (json.dumps(scrub_obj(item), ensure_ascii=False) for item in value)
        sep = "[\n    "
        for item in texts:
            write(sep + scrub(item))
            sep = ",\n    "
        write("[]" if sep == "[\n    " else "\n  ]")
    write(text)
    if buffer is not None:
        buffer.flush()


class EventSpool:
    """Every event row of a run as a JSON line in a temporary file (user-only, gone when closed):
    `--all-events` lists a run of any length without holding it in memory. A `RowSink`."""

    def __init__(self) -> None:
        import json
        import tempfile

        from wsdash.core.run_rows import row_json

        self._f = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
        self._row_json = row_json
        self._dumps = json.JSONEncoder(ensure_ascii=False).encode

    def __call__(self, row: Any) -> None:
        self._f.write(scrub(self._dumps(self._row_json(row))) + "\n")

    def lines(self) -> Iterator[str]:
        self._f.flush()
        self._f.seek(0)
        for line in self._f:
            yield line.rstrip("\n")

    def close(self) -> None:
        self._f.close()


def add_all_events_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all-events", action="store_true",
                        help="with --json: list every event, however long the run (streamed through a temporary file); "
                             "by default the list keeps every milestone, the first event of each type and the first and "
                             "last 1000 others, and `events_omitted` says how many it left out")


def print_run_json(result: Any, spool: EventSpool | None) -> None:
    """A judged run as `--json` prints it; with a spool (`--all-events`), every event."""
    obj = result.to_json()
    if spool is not None:
        obj["events"] = JsonLines(spool.lines())
        obj["events_omitted"] = 0
        obj["events_omitted_by_type"] = {}
    print_json(obj, one_per_line=("events",))


def usage_error(message: str) -> int:
    sys.stderr.write(f"wsdash: error: {scrub(message)}\n")
    return exit_codes.USAGE
