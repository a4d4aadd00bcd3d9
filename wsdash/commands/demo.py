"""`wsdash demo`: the embedded agent server on 127.0.0.1 and a golden path against it.

Port 8002 (the local test stack's) when it is free, else any free port — and it says so.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from wsdash.commands.common import add_shared_flags, load_config_noted, seconds_or_zero, usage_error
from wsdash.commands.term import dashboard_terminal_problem

DEMO_PORT = 8002


def register(sub: Any) -> None:
    dm = sub.add_parser("demo", help="start the embedded agent server and run the golden path against it")
    dm.add_argument("--scenario", default="golden", help="the server's scenario (see `wsdash serve --help`)")
    dm.add_argument("--pace", type=seconds_or_zero, default=0.3, metavar="S", help="seconds between events (default 0.3)")
    dm.add_argument("--headless", action="store_true", help="print the verdict instead of opening the dashboard")
    add_shared_flags(dm, "config", "record", "present", "no-history")
    dm.set_defaults(func=run)


SECRET_ENV = "WSDASH_DEMO_SECRET"  # the demo server's secret, for its tier and its token: in memory, never on disk


def run(args: argparse.Namespace) -> int:
    from wsdash.core.config import ConfigError

    try:  # a broken config is said, named, and stops the demo: never quietly swapped for defaults
        cfg = load_config_noted(getattr(args, "config", None))
    except ConfigError as exc:
        return usage_error(str(exc))
    if args.headless:
        return run_headless(args, cfg)
    from wsdash.services.agent_server import ScenarioError, validate

    try:  # said before the terminal: with both wrong, the scenario is the one to fix in the command
        validate(args.scenario)
    except ScenarioError as exc:
        return usage_error(str(exc))
    if (problem := dashboard_terminal_problem()) is not None:
        return usage_error(f"the dashboard needs a terminal, but {problem}: run it in a terminal, or headless: wsdash demo --headless")
    return run_dashboard(args, cfg)


def start_demo_server(scenario: str = "golden", pace: float = 0.3) -> tuple[Any, Any, str, str | None]:
    """(thread, server, secret, note): the server on its own thread, so a UI's loop stays free.
    The note says when 8002 was taken and another port is used. Raises ScenarioError."""
    import secrets  # here, not at the top: building the parser (`wsdash --version`) stays cheap

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


def run_headless(args: argparse.Namespace, cfg: Any = None) -> int:
    import asyncio

    from wsdash.services.agent_server import ScenarioError
    from wsdash.core.auth import mint_token
    from wsdash.commands.end_signals import as_ctrl_c
    from wsdash.commands.golden_path import start_recording
    from wsdash.commands.history_log import log_run
    from wsdash.commands.run_printer import print_human
    from wsdash.services.session.handshake import SessionOptions
    from wsdash.services.session.once import OnceRun

    try:
        thread, server, secret, note = start_demo_server(args.scenario, args.pace)
    except ScenarioError as exc:
        return usage_error(str(exc))
    try:
        print(f"demo agent server on {server.url}")
        if note:
            print(note)
        recorder = start_recording(getattr(args, "record", None))  # --record was accepted: honour it here too
        once = OnceRun(SessionOptions(url=server.url, token=mint_token(secret)), listener=recorder)
        try:
            with as_ctrl_c():
                result = asyncio.run(once.go())
        except KeyboardInterrupt:
            # Ctrl+C, SIGTERM, SIGHUP: the partial verdict (exit 130), as golden-path gives it.
            result = once.partial()
        finally:
            if recorder is not None:
                recorder.close()
        print_human(result, sys.stdout)
        recorded = recorder is not None and recorder.error is None
        if recorded:
            print(f"recorded to {recorder.path} — replay it with: wsdash replay {recorder.path}")
        # Kept as the dashboard's demo runs are: target "demo", source "demo".
        log_run(args, result, source="demo", target="demo", recording=recorder.path if recorded else None, cfg=cfg)
        return result.exit_code
    finally:
        thread.__exit__(None, None, None)


def run_dashboard(args: argparse.Namespace, cfg: Any) -> int:
    """The embedded server in its own thread (the UI loop stays free), then the dashboard.

    The server's secret is generated here and handed to the tier (pytest, a child) through this
    process's environment, never a file: a demo killed any way at all (kill -9 included) leaves no
    secret behind."""
    import os
    from dataclasses import replace

    from wsdash.services.agent_server import ScenarioError
    from wsdash.ui.settings import AppSettings
    from wsdash.core.redact import register_secret
    from wsdash.commands.dashboard import DEV_TOKEN_TTL_S, history_of, open_dashboard, record_dir, token_source

    try:
        thread, server, secret, note = start_demo_server(args.scenario, args.pace)
    except ScenarioError as exc:
        return usage_error(str(exc))
    notes = ([note] if note else []) + list(cfg.ignored_env)
    register_secret(secret)  # scrubbed from anything that leaves the process
    os.environ[SECRET_ENV] = secret  # inherited by the tier's pytest; gone with the process
    try:
        demo_target = replace(cfg.targets["local"], ws_url=server.url, health_url=f"{server.http_url}/health",
                              secret_file=None, secret_env=SECRET_ENV, token_env=None, auth="subprotocol+header")
        cfg.targets = {"local": demo_target}
        cfg.default_target = "local"
        settings = AppSettings(
            mode="demo", url=server.url, token_source=token_source(demo_target, ttl_s=DEV_TOKEN_TTL_S), config=cfg,
            health_names=[("local", "demo agent server")], target="local", autorun=True, notes=notes,
            tiers=demo_tiers(server.url), title="wsdash · demo", health_interval_s=5.0,
            record_dir=record_dir(args), present=bool(getattr(args, "present", False)),
            history=history_of(args, cfg), history_target="demo", auto_run_every_s=cfg.watch.every_s,
        )
        return open_dashboard(settings)
    finally:
        os.environ.pop(SECRET_ENV, None)
        thread.__exit__(None, None, None)


def demo_tiers(url: str):
    """`wsdash demo` runs a small packaged end-to-end suite against its own server as its tier
    (it reads the secret from SECRET_ENV, inherited)."""
    from pathlib import Path

    from wsdash.services.tiers.spec import TierSpec

    suite = Path(__file__).resolve().parents[1] / "demo_suite"
    return [TierSpec.from_table({
        "name": "demo-e2e", "title": "Demo E2E (golden path)",
        "pytest": [str(suite), "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        "python": sys.executable, "target": 1.0, "timeout_s": 120, "requires": ["local"],
        "env": {"WSDASH_DEMO_URL": url},
    })]
