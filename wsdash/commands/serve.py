"""`wsdash serve`: the embedded agent server in the foreground until Ctrl+C."""

from __future__ import annotations

import argparse
import sys

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

from wsdash.commands.common import listen_host, port_number, reads_shared, seconds, seconds_or_zero, usage_error

SCENARIOS_HELP = ("golden, nested, missing:<event>, reorder, duplicate, unpaired-tool, swapped-tool, malformed, bad-utf8, unfinished, "
                  "slow-first:<s>, stall, drop, close:<code>, auth-reject, burst:<n>")


def register(sub: Any) -> None:
    sv = sub.add_parser("serve", help="run the embedded agent server (speaks the backend's protocol)")
    reads_shared(sv)  # none of them
    sv.add_argument("--host", type=listen_host, default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=port_number, default=8002, help="0 picks a free port (default 8002)")
    auth = sv.add_mutually_exclusive_group()
    auth.add_argument("--secret", metavar="S", help="JWT signing secret (default: generated, kept in a user-only file)")
    auth.add_argument("--no-auth", action="store_true", help="accept connections without a token")
    sv.add_argument("--scenario", default="golden", help=SCENARIOS_HELP)
    sv.add_argument("--envelope", default="nested", choices=("nested", "flat", "wrapped", "payload", "demo"))
    sv.add_argument("--handshake", action="store_true", help="send handshake_response and expect an acknowledgement")
    sv.add_argument("--pace", type=seconds_or_zero, default=0.25, metavar="S", help="seconds between events (default 0.25)")
    sv.add_argument("--heartbeat", type=seconds, default=10.0, metavar="S", help="heartbeat after S idle seconds (default 10)")
    sv.set_defaults(func=run)


def secret_path(port: int) -> Path:
    """One file per port: a second server must not change the secret a first one told you to use."""
    from pathlib import Path

    from platformdirs import user_state_dir

    return Path(user_state_dir("wsdash", appauthor=False)) / f"server-secret-{port}"


def run(args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: building the parser (`wsdash --version`) stays cheap
    import secrets

    from wsdash.services.agent_server import AgentServer, ScenarioError
    from wsdash.commands import serve_lifecycle as life

    if args.secret is not None and not args.secret:  # `--secret "$UNSET"`: not a reason to make one up
        return usage_error("--secret is empty: give the signing secret, or leave --secret out to have one generated")
    secret = None if args.no_auth else args.secret or secrets.token_urlsafe(32)
    try:
        server = AgentServer(
            args.host, args.port, secret=secret, scenario=args.scenario, envelope=args.envelope,
            handshake=args.handshake, pace=args.pace, heartbeat_s=args.heartbeat,
        )
    except (ScenarioError, ValueError) as exc:
        return usage_error(str(exc))

    async def main() -> None:
        try:
            await server.start()
        except OSError as exc:
            from wsdash.core.errors import listen_error

            error = listen_error(exc, args.host, args.port)
            raise SystemExit(usage_error(f"{error.message} — {error.hint}"))
        secret_file = secret_path(server.port) if secret is not None else None
        if secret_file is not None and secret is not None:
            try:
                life.clean_stale_secrets(secret_file.parent)  # left by servers that died without stopping
                life.write_server_secret(secret_file, secret)
            except OSError as exc:
                await server.stop()
                raise SystemExit(usage_error(f"cannot write the secret file {secret_file}: {exc.strerror or exc}"))
        stop = asyncio.get_running_loop().create_future()
        # SIGTERM/SIGHUP (POSIX), Ctrl+Break and closing the console (Windows) clean up like Ctrl+C.
        # Installed before the first line is printed: a script that reads it and stops us at once
        # must find the handlers in place.
        stopper = life.install_stop(asyncio.get_running_loop(), lambda: stop.done() or stop.set_result(None))
        auth = f" --secret-file {secret_file}" if secret_file else ""
        print(f"wsdash agent server on {server.url}  (scenario {args.scenario}, envelope {args.envelope}"
              f"{', handshake' if args.handshake else ''}{', no auth' if secret is None else ''})")
        print(f"health: {server.http_url}/health")
        print(f"run a golden path:  wsdash golden-path --url {server.url}{auth}")
        print("Ctrl+C to stop", flush=True)
        try:
            await stop
        finally:
            try:
                await server.stop()
            finally:
                if secret_file is not None:
                    life.remove_server_secret(secret_file)
                stopper.cleaned()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
    return 0
