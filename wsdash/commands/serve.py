"""`wsdash serve`: the embedded agent server in the foreground until Ctrl+C."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from typing import Any

from wsdash.commands.common import seconds, seconds_or_zero, usage_error

SCENARIOS_HELP = ("golden, nested, missing:<event>, reorder, duplicate, unpaired-tool, malformed, slow-first:<s>, "
                  "stall, drop, close:<code>, auth-reject, burst:<n>")


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0–65535 (0 picks a free one), got {value}")
    return value


def register(sub: Any) -> None:
    sv = sub.add_parser("serve", help="run the embedded agent server (speaks the backend's protocol)")
    sv.add_argument("--host", default="127.0.0.1")
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
    from platformdirs import user_state_dir

    return Path(user_state_dir("wsdash", appauthor=False)) / f"server-secret-{port}"


def run(args: argparse.Namespace) -> int:
    import asyncio  # here, not at the top: building the parser (`wsdash --version`) stays cheap
    import secrets
    import signal

    from wsdash.services.agent_server import AgentServer, ScenarioError
    from wsdash.core.auth import write_secret_file

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
            raise SystemExit(usage_error(
                f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc} — "
                "is another server on that port? pass --port 0 for a free one"))
        secret_file = secret_path(server.port) if secret is not None else None
        if secret_file is not None and secret is not None:
            try:
                write_secret_file(secret_file, secret)
            except OSError as exc:
                await server.stop()
                raise SystemExit(usage_error(f"cannot write the secret file {secret_file}: {exc.strerror or exc}"))
        auth = f" --secret-file {secret_file}" if secret_file else ""
        print(f"wsdash agent server on {server.url}  (scenario {args.scenario}, envelope {args.envelope}"
              f"{', handshake' if args.handshake else ''}{', no auth' if secret is None else ''})")
        print(f"health: {server.http_url}/health")
        print(f"run a golden path:  wsdash golden-path --url {server.url}{auth}")
        print("Ctrl+C to stop", flush=True)
        stop = asyncio.get_running_loop().create_future()
        for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
            try:  # a kill cleans up like Ctrl+C (the secret file goes); Windows has no such handlers
                asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
            except (NotImplementedError, RuntimeError, TypeError, ValueError):
                pass
        try:
            await stop
        finally:
            await server.stop()
            if secret_file is not None:
                secret_file.unlink(missing_ok=True)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
    return 0
