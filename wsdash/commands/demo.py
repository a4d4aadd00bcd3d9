"""`wsdash demo`: the embedded agent server on 127.0.0.1 and a golden path against it.

Port 8002 (the local test stack's) when it is free, else any free port — and it says so.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from typing import Any

from wsdash.commands.common import usage_error

DEMO_PORT = 8002


def start_demo_server(scenario: str = "golden", pace: float = 0.3) -> tuple[Any, Any, str, str | None]:
    """(thread, server, secret, note): the server on its own thread, so a UI's loop stays free.
    The note says when 8002 was taken and another port is used. Raises ScenarioError."""
    from wsdash.services.agent_server import ServerThread

    secret = secrets.token_urlsafe(32)
    try:
        thread = ServerThread(host="127.0.0.1", port=DEMO_PORT, secret=secret, scenario=scenario, pace=pace)
        return thread, thread.__enter__(), secret, None
    except OSError:
        thread = ServerThread(host="127.0.0.1", port=0, secret=secret, scenario=scenario, pace=pace)
        server = thread.__enter__()
        note = f"port {DEMO_PORT} is taken (is the Docker test stack up?): the demo server uses port {server.port} instead"
        return thread, server, secret, note


def run_headless(args: argparse.Namespace) -> int:
    from wsdash.services.agent_server import ScenarioError
    from wsdash.core.auth import mint_token
    from wsdash.commands.run_printer import print_human
    from wsdash.services.session.once import SessionOptions, run_golden_path

    try:
        thread, server, secret, note = start_demo_server(args.scenario, args.pace)
    except ScenarioError as exc:
        return usage_error(str(exc))
    try:
        print(f"demo agent server on {server.url}")
        if note:
            print(note)
        result = asyncio.run(run_golden_path(SessionOptions(url=server.url, token=mint_token(secret))))
        print_human(result, sys.stdout)
        return result.exit_code
    finally:
        thread.__exit__(None, None, None)
