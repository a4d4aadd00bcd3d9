"""`wsdash web`: the dashboard in a browser, served by textual-serve (the Textual project's own
server) from the optional `web` extra. Each browser tab runs its own `wsdash ARGS` (default:
`demo`). Bound to 127.0.0.1 unless told otherwise: the page has no authentication."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from wsdash.commands.common import listen_host, port_number, reads_shared, usage_error

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "web", help="serve the dashboard in a browser (needs the web extra)",
        description="Serve the dashboard in a browser with textual-serve. Each tab runs `wsdash ARGS` "
        "(default: demo), e.g. `wsdash web -- --target staging` or `wsdash web -- replay run.jsonl --present`.",
    )
    reads_shared(p)  # none of them: the tab's command takes its own (`wsdash web -- --target staging`)
    p.add_argument("--host", type=listen_host, default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port_number, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="-- ARGS", help="what each tab runs (default: demo)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import importlib

    try:  # the optional extra; the server itself is driven from the UI layer (ui/web_server.py)
        importlib.import_module("textual_serve.server")
    except ImportError:
        return usage_error('wsdash web needs the web extra: pip install "wsdash[web]" (textual-serve)')
    from wsdash.ui.web_server import serve

    extra = list(args.args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    if (problem := tab_command_problem(extra, args)) is not None:
        return usage_error(f"each tab would run `wsdash {' '.join(extra)}`, but {problem}")
    port = args.port
    try:  # the free port is found by binding too: a host that does not resolve is said here, named
        port = port or _free_port(args.host)
        _check_bindable(args.host, port)
    except OSError as exc:
        return usage_error(f"cannot listen on {args.host}{f':{port}' if port else ''}: {exc.strerror or exc}")
    if args.host not in LOOPBACK:
        sys.stderr.write(
            f"wsdash web: warning: bound to {args.host}: the page has no authentication — anyone who can reach "
            f"port {port} can run the dashboard (and its tiers) as you. Use the default 127.0.0.1 unless you mean it.\n")
    print(f"wsdash web on http://{'[' + args.host + ']' if ':' in args.host else args.host}:{port}  "
          f"(each tab runs: wsdash {' '.join(extra) or 'demo'}) — Ctrl+C to stop", flush=True)
    serve(extra, args.host, port)
    return 0


def tab_command_problem(extra: list[str], args: argparse.Namespace) -> str | None:
    """Why the command each tab runs cannot open the dashboard, said before serving (it was said
    only inside each browser tab, after the server had started): its arguments are checked by the
    CLI's own parser (handed down as `_parser`, so this layer does not import the CLI), it must be
    the dashboard, `demo` or `replay`, and a replay's file must be there."""
    import contextlib
    import io
    import os

    build = getattr(args, "_parser", None)
    if build is None or not extra:
        return None
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said), contextlib.redirect_stdout(io.StringIO()):
            tab = build().parse_args(extra)
    except SystemExit as exit_:
        if exit_.code == 0:  # --help, --version: they print and end, in each tab
            return "that prints and ends; a tab shows the dashboard"
        return said.getvalue().strip().splitlines()[-1].removeprefix("wsdash: error: ") if said.getvalue().strip() else "its arguments are not valid"
    if tab.command not in (None, "demo", "replay"):
        return f"a tab shows the dashboard: give the dashboard's flags, `demo …` or `replay FILE`, not `{tab.command}`"
    if getattr(tab, "headless", False):
        return "a tab shows the dashboard: leave out --headless"
    from wsdash.commands.common import unused_shared_flag

    if (flag := unused_shared_flag(tab)) is not None:
        return f"{flag} does not apply to `wsdash {tab.command}`"
    if tab.command is None:  # the dashboard: its config and target (the tab said "unknown target")
        from wsdash.core.config import ConfigError, load_config

        try:
            load_config(tab.config).target(tab.target)
        except ConfigError as exc:
            return str(exc)
    if tab.command == "replay":
        if not os.path.isfile(tab.file):
            return f"{tab.file} {'is a folder' if os.path.isdir(tab.file) else 'does not exist'}"
    return None


def _free_port(host: str) -> int:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_bindable(host: str, port: int) -> None:
    """Fail early with the real cause (taken, not an address of this machine) instead of a traceback
    from deep inside the web server."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
