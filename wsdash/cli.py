"""The front door: subcommands and exit codes. Heavy imports stay inside the commands so that
`wsdash --version` answers at once."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from wsdash import __version__

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2 with a hint, as argparse does
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _golden_path(args: argparse.Namespace) -> int:
    from wsdash.commands.golden_path import run

    return run(args)


def _serve(args: argparse.Namespace) -> int:
    from wsdash.commands.serve import run

    return run(args)


def _replay(args: argparse.Namespace) -> int:
    if args.headless or args.json:
        from wsdash.commands.replay import run

        return run(args)
    from wsdash.commands.dashboard import run_replay

    return run_replay(args)


def _config(args: argparse.Namespace) -> int:
    from wsdash.commands.config import run

    return run(args)


def _demo(args: argparse.Namespace) -> int:
    if args.headless:
        from wsdash.commands.demo import run_headless

        return run_headless(args)
    from wsdash.commands.dashboard import run_demo

    return run_demo(args)


def _dashboard(args: argparse.Namespace) -> int:
    from wsdash.commands.dashboard import run_dashboard

    return run_dashboard(args)


def _add_budget_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("budgets (seconds; defaults from the backend's tests)")
    g.add_argument("--connect-budget", type=float, default=2.0, metavar="S", help="connect within S (default 2)")
    g.add_argument("--first-event-budget", type=float, default=5.0, metavar="S", help="first agent event within S of sending (default 5)")
    g.add_argument("--run-budget", type=float, default=60.0, metavar="S", help="whole run within S (default 60)")
    g.add_argument("--gap-budget", type=float, default=None, metavar="S", help="opt-in: at most S between consecutive events (strict suites: 0.1)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="wsdash",
        description="Watch an AI chat backend's WebSocket golden path: environment health, live events, test tiers. With no command, opens the dashboard on the default target.",
    )
    parser.add_argument("--version", action="version", version=f"wsdash {__version__}")
    parser.add_argument("--target", metavar="NAME", help="the target whose events the dashboard streams (default: default_target)")
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: ./wsdash.toml, else the user config dir)")
    parser.add_argument("--record", metavar="DIR", help="dashboard: record every golden-path run to DIR (one JSON-lines file each; replay with `wsdash replay FILE`)")
    parser.set_defaults(default_func=_dashboard)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    gp = sub.add_parser("golden-path", help="run one golden path against a server and judge it")
    where = gp.add_mutually_exclusive_group()
    where.add_argument("--target", metavar="NAME", help="a configured target (URL and auth from wsdash.toml)")
    where.add_argument("--url", metavar="URL", help="a WebSocket URL (ws:// or wss://); needs no config")
    tok = gp.add_mutually_exclusive_group()
    tok.add_argument("--token", metavar="T", help="a JWT (prefer --token-env: a flag shows up in shell history)")
    tok.add_argument("--token-env", metavar="VAR", help="read the JWT from environment variable VAR")
    tok.add_argument("--secret", metavar="S", help="mint a valid token signed with this secret")
    tok.add_argument("--secret-file", metavar="PATH", help="mint a valid token signed with the secret in PATH")
    gp.add_argument("--auth", choices=("subprotocol+header", "subprotocol", "header", "query"), help="where the token travels (default: the target's, else subprotocol+header)")
    gp.add_argument("--message", metavar="TEXT", help="the chat message to send")
    gp.add_argument("--timeout", type=float, default=30.0, metavar="S", help="wait at most S for the run to complete (default 30)")
    gp.add_argument("--grace", type=float, default=0.5, metavar="S", help="keep listening S after completion to judge late frames (default 0.5)")
    gp.add_argument("--no-tls-verify", action="store_true", help="turn TLS certificate verification off (on by default)")
    gp.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    gp.add_argument("--record", metavar="FILE", help="record every frame (JSON lines, token redacted)")
    gp.add_argument("--config", metavar="FILE", help="configuration file (default: ./wsdash.toml, else the user config dir)")
    _add_budget_args(gp)
    gp.set_defaults(func=_golden_path)

    sv = sub.add_parser("serve", help="run the embedded agent server (speaks the backend's protocol)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8002, help="0 picks a free port (default 8002)")
    auth = sv.add_mutually_exclusive_group()
    auth.add_argument("--secret", metavar="S", help="JWT signing secret (default: generated, kept in a user-only file)")
    auth.add_argument("--no-auth", action="store_true", help="accept connections without a token")
    sv.add_argument("--scenario", default="golden", help="golden, nested, missing:<event>, reorder, duplicate, unpaired-tool, malformed, slow-first:<s>, stall, drop, close:<code>, auth-reject, burst:<n>")
    sv.add_argument("--envelope", default="nested", choices=("nested", "flat", "wrapped", "payload", "demo"))
    sv.add_argument("--handshake", action="store_true", help="send handshake_response and expect an acknowledgement")
    sv.add_argument("--pace", type=float, default=0.25, metavar="S", help="seconds between events (default 0.25)")
    sv.add_argument("--heartbeat", type=float, default=10.0, metavar="S", help="heartbeat after S idle seconds (default 10)")
    sv.set_defaults(func=_serve)

    dm = sub.add_parser("demo", help="start the embedded agent server and run the golden path against it")
    dm.add_argument("--scenario", default="golden", help="the server's scenario (see `wsdash serve --help`)")
    dm.add_argument("--pace", type=float, default=0.3, metavar="S", help="seconds between events (default 0.3)")
    dm.add_argument("--headless", action="store_true", help="print the verdict instead of opening the dashboard")
    dm.add_argument("--record", metavar="DIR", help="record every run to DIR (one JSON-lines file each)")
    dm.set_defaults(func=_demo)

    rp = sub.add_parser("replay", help="re-judge (or watch) a recorded session")
    rp.add_argument("file", metavar="FILE")
    rp.add_argument("--headless", action="store_true", help="judge without the dashboard")
    rp.add_argument("--json", action="store_true", help="print the same JSON as golden-path --json (implies --headless)")
    rp.add_argument("--speed", type=float, default=1.0, help="dashboard replay speed: 1, 10, or 0 for as fast as possible")
    _add_budget_args(rp)
    rp.set_defaults(func=_replay)

    cf = sub.add_parser("config", help="show the merged configuration or where it is read from")
    cf_sub = cf.add_subparsers(dest="config_command", metavar="ACTION", parser_class=_Parser, required=True)
    show = cf_sub.add_parser("show", help="every value with where it came from (secrets masked)")
    show.add_argument("--json", action="store_true")
    show.add_argument("--config", metavar="FILE")
    cf_sub.add_parser("path", help="the configuration file locations, in the order they are tried")
    cf.set_defaults(func=_config)

    for register in _plugins():
        register(sub)
    return parser


def _plugins() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Subcommands that live with their own package (health, tiers, dashboard)."""
    found = []
    for module in ("wsdash.commands.check", "wsdash.commands.tiers"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError:
            continue
        found.append(mod.register)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    for stream in (sys.stdout, sys.stderr):
        # A redirected Windows console is cp1252: ✓ and — must not crash a report.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        func = args.default_func
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:  # last resort: a clear line, never a traceback
        from wsdash.core.redact import scrub

        print(f"wsdash: error: {scrub(str(exc)) or type(exc).__name__}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
