"""What every command shares: the parser class, the shared flags, number types, budgets from flags,
JSON printing and usage errors. Imported on every start: argparse and the cheap core only."""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from wsdash.core import exit_codes

if TYPE_CHECKING:
    from wsdash.core.contract import Budgets


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with the usage line, as argparse does
        self.print_usage(sys.stderr)
        self.exit(exit_codes.USAGE, f"{self.prog}: error: {message}\n")


def target_name(text: str) -> str:
    """A --target: not empty (`--target "$UNSET"` listed every target's runs, ran every tier and
    diffed the newest run's target; a config's name rules are core/config.py's)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a target's name (or a --url run's URL), got an empty one")
    return text


_SHARED = {
    "config": dict(metavar="FILE", help="configuration file (default: ./wsdash.toml, else the user config dir)"),
    "target": dict(metavar="NAME", type=target_name, help="the configured target to use (default: default_target)"),
    "record": dict(metavar="PATH", help="record golden-path runs as JSON lines (secrets redacted): "
                   "a directory gets one file per run; golden-path also takes a file name"),
    "present": dict(action="store_true", help="open in the presentation view: plain words, a big verdict, "
                    "tier tiles (p toggles it)"),
    "no-history": dict(action="store_true", help="do not write runs to the run history (see `wsdash history`)"),
}


def add_shared_flags(parser: argparse.ArgumentParser | Any, *names: str, top_level: bool = False) -> None:
    """The flags a user may put before or after the subcommand. On the subcommand their default is
    SUPPRESS, so an absent flag leaves the top-level value in place and a present one wins.

    `names` are the ones the subcommand reads (`unused_shared_flag` refuses --record and --present
    given before one that does not); `--no-history` is accepted by every one: nothing to leave out
    is no error."""
    chosen = tuple(_SHARED) if top_level else tuple(dict.fromkeys((*names, "no-history")))
    for name in chosen:
        default = (False if name == "present" else None) if top_level else argparse.SUPPRESS
        parser.add_argument(f"--{name}", default=default, **_SHARED[name])
    if not top_level:
        reads_shared(parser, *names)


def reads_shared(parser: argparse.ArgumentParser | Any, *names: str) -> None:
    """Note which shared flags this subcommand reads (none, for one that reads none of them)."""
    parser.set_defaults(_reads_shared=tuple(dict.fromkeys((*(parser.get_default("_reads_shared") or ()), *names))))


# Flags whose effect a user waits to see (a file, a view): given where nothing reads them, refused.
# --config, --target and --no-history have nothing to do there and are no error: an alias such as
# `wsdash --config ~/proj/wsdash.toml` must still run replay, serve and web.
_EXPECTED_TO_SHOW = ("record", "present")


def unused_shared_flag(args: argparse.Namespace) -> str | None:
    """--record or --present given before a subcommand that does not read it (`wsdash --record runs/
    history`): said, not silently ignored. None for the dashboard (no subcommand: it reads them all)."""
    reads = getattr(args, "_reads_shared", None)
    if reads is None:
        return None
    for name in _EXPECTED_TO_SHOW:
        if name not in reads and getattr(args, name, None) not in (None, False):
            return f"--{name}"
    return None


def seconds(text: str) -> float:
    """A finite, positive number of seconds (nan, inf, 0 and negatives are usage errors)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def replay_speed(text: str) -> float:
    """A speed-up factor: a finite number from 0.01 (a hundredth of real time) up, or 0 for as fast as
    possible (-1 and nan played at full speed, 1e-300 froze the replay)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a speed such as 1, 10 or 0, got {text!r}") from None
    if value != 0 and not (math.isfinite(value) and value >= 0.01):
        raise argparse.ArgumentTypeError(f"a speed is 0 (as fast as possible) or a number from 0.01 up, got {text!r}")
    return value


def seconds_or_zero(text: str) -> float:
    """Like `seconds`, but 0 is allowed (no grace, as fast as possible)."""
    if text.strip() in ("0", "0.0"):
        return 0.0
    return seconds(text)


def whole_number(minimum: int, what: str = "a whole number") -> Callable[[str], int]:
    """An argparse type: an integer of at least `minimum`, else a usage error that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what} of at least {minimum}, got {value}")
        return value

    return parse


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0–65535 (0 picks a free one), got {value}")
    return value


def listen_host(text: str) -> str:
    """An address to listen on. An empty one bound every interface (and serve printed ws://:PORT/ws,
    a URL nothing can dial): every interface is said as 0.0.0.0 (or ::)."""
    if not text.strip() or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"expected an address to listen on, such as 127.0.0.1 (this machine) "
                                         f"or 0.0.0.0 (every interface), got {text!r}")
    return text


BUDGET_FLAGS = {"connect_s": "--connect-budget", "first_event_s": "--first-event-budget", "run_s": "--run-budget", "gap_s": "--gap-budget"}


def add_budget_flags(p: argparse.ArgumentParser, *, recorded: bool = False) -> None:
    """The budget flags. `recorded` (replay): each defaults to None, i.e. the recording's own."""
    if recorded:
        g = p.add_argument_group("budgets (seconds; default: the ones the run was recorded with)")
        for flag in BUDGET_FLAGS.values():
            g.add_argument(flag, type=seconds, default=None, metavar="S", help="judge with S instead of the recorded budget")
        return
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
    """One object on stdout and nothing else, scrubbed like everything that leaves the process.

    ASCII only (non-ASCII as \\uXXXX escapes): Windows PowerShell 5.1 decodes a program's output
    with the console's code page, so UTF-8 "•••" or "→" in a hint reached ConvertFrom-Json mangled;
    escapes read the same in every decoder. The top-level lists named in
    `one_per_line` print one item per line (a run's events: readable, greppable, and encoded by
    json's C encoder rather than the slow indenting one); a `JsonLines` value there is streamed."""
    import json

    from wsdash.core.redact import scrub, scrub_obj

    lists: dict[str, Any] = {}
    head = dict(obj)
    for key in one_per_line:
        if isinstance(head.get(key), (list, JsonLines)):
            lists[key] = head[key]
            head[key] = f"\x00{key}\x00"  # a placeholder no scrubbed value can contain
    text = scrub(json.dumps(scrub_obj(head), ensure_ascii=True, indent=2)) + "\n"
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
        texts = value.texts if isinstance(value, JsonLines) else (json.dumps(scrub_obj(item), ensure_ascii=True) for item in value)
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

        from wsdash.core.redact import scrub
        from wsdash.core.run_rows import row_json

        self._scrub = scrub
        self._f = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")
        self._row_json = row_json
        self._dumps = json.JSONEncoder(ensure_ascii=True).encode  # ASCII like print_json

    def __call__(self, row: Any) -> None:
        self._f.write(self._scrub(self._dumps(self._row_json(row))) + "\n")

    def lines(self) -> Iterator[str]:
        self._f.flush()
        self._f.seek(0)
        for line in self._f:
            yield line.rstrip("\n")

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> EventSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def all_events_usage(args: argparse.Namespace) -> int | None:
    """--all-events without --json: the usage error (exit 2); None when the flags agree."""
    if args.all_events and not args.json:
        return usage_error("--all-events lists the events in the JSON output: add --json")
    return None


def event_spool(args: argparse.Namespace) -> Any:
    """A context giving `--all-events`' spool (None without the flag), closed however the run ends."""
    if args.all_events:
        return EventSpool()
    from contextlib import nullcontext

    return nullcontext()


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


def print_run(result: Any, args: argparse.Namespace, spool: EventSpool | None) -> None:
    """A judged run's output on stdout: `--json`'s one object, else the summary for a person."""
    if args.json:
        print_run_json(result, spool)
    else:
        from wsdash.commands.run_printer import print_human

        print_human(result, sys.stdout)


def usage_error(message: str) -> int:
    from wsdash.core.redact import scrub

    sys.stderr.write(f"wsdash: error: {scrub(message)}\n")
    return exit_codes.USAGE


def output_file_problem(flag: str, path: str, example: str) -> str | None:
    """Why a file a command writes only at its end (`--junit`, `--md`, `--metrics-file`) cannot be
    written there, said before anything runs; None when it can be tried. Writing it is still
    checked: this catches the mistakes a user makes (an empty name, a folder, a folder that is not
    there). Call it whenever the flag was given (`is not None`): an empty name is falsy, and a
    check behind `if path` let `--md ""` write nothing and exit 0."""
    import os

    if not path:  # `--md ""`, `--junit "$UNSET_VARIABLE"`
        return f"{flag} needs a file name, e.g. {flag} {example}"
    if os.path.isdir(path):
        return f"{flag} {path} is a folder: give a file name, e.g. {os.path.join(path, example)}"
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        what = "is not a folder" if os.path.exists(parent) else "does not exist"
        return f"{flag} {path}: its folder {parent} {what}"
    return None


_NOTED: set[str] = set()


def load_config_noted(path: Any = None, env: Any = None, *, also_read: Iterable[str | None] = ()) -> Any:
    """core.config.load_config, then a note on stderr for each WSDASH_* variable it did not read
    but looks meant to (a typo, a target not configured): an override that silently did nothing
    would have the run judged against the wrong place. Each note once per process. `also_read`:
    variables a flag names (`--token-env WSDASH_MY_TOKEN`), read though no config key says so."""
    from wsdash.core.config import load_config

    cfg = load_config(path, env=env, read_elsewhere=[name for name in also_read if name])
    for message in cfg.ignored_env:
        if message not in _NOTED:
            _NOTED.add(message)
            sys.stderr.write(f"wsdash: note: {message}\n")
    return cfg
