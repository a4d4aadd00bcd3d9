"""`wsdash demo`: the embedded agent server on 127.0.0.1 and a golden path against it.

Port 8002 (the local test stack's) when it is free, else any free port — and it says so.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from typing import Any

DEMO_PORT = 8002


async def start_demo_server(scenario: str = "golden", pace: float = 0.3, port: int = DEMO_PORT) -> tuple[Any, str, str | None]:
    """(server, secret, note). The note says when 8002 was taken and another port is used."""
    from wsdash.agent_server import AgentServer

    secret = secrets.token_urlsafe(32)
    note = None
    server = AgentServer("127.0.0.1", port, secret=secret, scenario=scenario, pace=pace)
    try:
        await server.start()
    except OSError:
        server = AgentServer("127.0.0.1", 0, secret=secret, scenario=scenario, pace=pace)
        await server.start()
        note = f"port {port} is taken (is the Docker test stack up?): the demo server uses port {server.port} instead"
    return server, secret, note


def run_headless(args: argparse.Namespace) -> int:
    from wsdash.auth import mint_token
    from wsdash.commands.report import print_human
    from wsdash.session import SessionOptions, run_golden_path

    async def main() -> int:
        server, secret, note = await start_demo_server(args.scenario, args.pace)
        try:
            print(f"demo agent server on {server.url}")
            if note:
                print(note)
            result = await run_golden_path(SessionOptions(url=server.url, token=mint_token(secret)))
            print_human(result, sys.stdout)
            return result.exit_code
        finally:
            await server.stop()

    return asyncio.run(main())
