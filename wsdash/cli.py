"""The front door: the parser, the shared flags, dispatch to one module per subcommand, exit codes.

Each subcommand lives in `wsdash/commands/<name>.py` with `register(subparsers, shared)` and the
function it dispatches to. Those modules import only argparse at module level, so building the
parser stays cheap (`wsdash --version` answers at once); their heavy imports load when they run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from wsdash import __version__
from wsdash.commands.common import Parser, add_shared_flags, unused_shared_flag
from wsdash.core import exit_codes

# In the order `wsdash --help` lists them.
COMMANDS = ("golden_path", "watch", "check", "tiers", "report", "history", "diff", "serve", "demo", "replay", "web", "config")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="wsdash",
        description="Watch an AI chat backend's WebSocket golden path: environment health, live events, "
        "test tiers. With no command, opens the dashboard on the default target.",
    )
    parser.add_argument("--version", action="version", version=f"wsdash {__version__}")
    # The shared flags are accepted before the subcommand and after it; after it wins.
    add_shared_flags(parser, top_level=True)
    parser.set_defaults(func=_dashboard, _parser=build_parser)  # `web` checks its tabs' command with it
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"wsdash.commands.{name}").register(sub)
    return parser


def _dashboard(args: argparse.Namespace) -> int:
    from wsdash.commands.dashboard import run

    return run(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    for stream in (sys.stdout, sys.stderr):
        # A redirected Windows console is cp1252: ✓ and — must not crash a report.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = parser.parse_args(argv)
    if (flag := unused_shared_flag(args)) is not None:  # given before a command that does not read it
        command = " ".join(c for c in (args.command, getattr(args, "tiers_command", None), getattr(args, "config_command", None)) if c)
        parser.error(f"{flag} does not apply to `wsdash {command}`: it was given before the command, and the command does not read it")
    from wsdash.commands.end_signals import as_ctrl_c

    try:
        with as_ctrl_c():  # SIGTERM and SIGHUP end every command as Ctrl+C does: its own cleanup runs
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return exit_codes.INTERRUPTED
    except BrokenPipeError:
        # `wsdash history | head`: the reader has what it wanted. Stop quietly, and point stdout at the
        # null device so the interpreter's last flush does not raise again (Python's signal docs).
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return exit_codes.BROKEN_PIPE
    except (OSError, ValueError) as exc:  # last resort: a clear line, never a traceback
        from wsdash.core.redact import scrub

        print(f"wsdash: error: {scrub(str(exc)) or type(exc).__name__}", file=sys.stderr)
        return exit_codes.USAGE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
