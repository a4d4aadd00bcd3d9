"""Build AppSettings from the command line and open the dashboard (`wsdash`, `demo`, `replay`)."""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from wsdash.commands.common import usage_error
from wsdash.core.config import Config, ConfigError, load_config


def _token_source(target, env=os.environ, ttl_s: int = 300):
    from wsdash.core.auth import token_for

    def source() -> str | None:
        # Fetched or minted afresh on every (re)connect: an expired token never blocks a reconnect.
        return token_for(target, env=env, ttl_s=ttl_s)

    return source


def _record_dir(args: argparse.Namespace) -> Path | None:
    value = getattr(args, "record", None)
    return Path(value) if value else None


DEV_TOKEN_TTL_S = 7200  # a demo lasts longer than a test token's 5 minutes (PROTOCOL.md §2: dev = 120 min)


def _tiers(cfg: Config):
    from wsdash.services.tiers.model import tiers_from_config

    return tiers_from_config(cfg.tiers)


def run_dashboard(args: argparse.Namespace) -> int:
    from wsdash.ui.app import AppSettings, make_app
    from wsdash.core.auth import TokenError

    try:
        cfg = load_config(getattr(args, "config", None))
        target = cfg.target(getattr(args, "target", None))
        tiers = _tiers(cfg)
    except (ConfigError, TokenError, ValueError) as exc:
        return usage_error(str(exc))
    names = [("docker", "Docker")] + [(n, n) for n in cfg.targets]
    settings = AppSettings(
        mode="live", url=target.ws_url, token_source=_token_source(target), auth=target.auth,
        tls_verify=target.tls_verify, config=cfg, health_names=names, tiers=tiers,
        title=f"wsdash · {target.name}", record_dir=_record_dir(args),
    )
    make_app(settings).run()
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """The embedded server in its own thread (the UI loop stays free), then the dashboard."""
    from wsdash.services.agent_server import ScenarioError
    from wsdash.ui.app import AppSettings, make_app
    from wsdash.core.auth import write_secret_file
    from wsdash.commands.demo import start_demo_server

    try:
        thread, server, secret, note = start_demo_server(args.scenario, args.pace)
    except ScenarioError as exc:
        return usage_error(str(exc))
    notes = [note] if note else []
    with tempfile.TemporaryDirectory(prefix="wsdash-demo-") as tmp:
        secret_file = Path(tmp) / "secret"
        write_secret_file(secret_file, secret)
        try:
            cfg = load_config(getattr(args, "config", None))
        except ConfigError:
            cfg = load_config(env={}, cwd=Path(tmp))
        demo_target = replace(cfg.targets["local"], ws_url=server.url, health_url=f"{server.http_url}/health",
                              secret_file=str(secret_file), secret_env=None, token_env=None, auth="subprotocol+header")
        cfg.targets = {"local": demo_target}
        cfg.default_target = "local"
        settings = AppSettings(
            mode="demo", url=server.url, token_source=_token_source(demo_target, ttl_s=DEV_TOKEN_TTL_S), config=cfg,
            health_names=[("local", "demo agent server")], autorun=True, notes=notes,
            tiers=_demo_tiers(server.url, secret_file), title="wsdash · demo", health_interval_s=5.0,
            record_dir=_record_dir(args),
        )
        try:
            make_app(settings).run()
        finally:
            thread.__exit__(None, None, None)
    return 0


def _demo_tiers(url: str, secret_file: Path):
    """`wsdash demo` runs a small packaged end-to-end suite against its own server as its tier."""
    import sys

    from wsdash.services.tiers.model import TierSpec

    suite = Path(__file__).resolve().parents[1] / "demo_suite"
    return [TierSpec.from_table({
        "name": "demo-e2e", "title": "Demo E2E (golden path)",
        "pytest": [str(suite), "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        "python": sys.executable, "target": 1.0, "timeout_s": 120, "requires": ["local"],
        "env": {"WSDASH_DEMO_URL": url, "WSDASH_DEMO_SECRET_FILE": str(secret_file)},
    })]


def run_replay(args: argparse.Namespace) -> int:
    from wsdash.ui.app import AppSettings, make_app
    from wsdash.commands.common import budgets_from
    from wsdash.core.recording import RecordingError, iter_records

    try:
        next(iter(iter_records(args.file)))
    except (RecordingError, StopIteration) as exc:
        return usage_error(str(exc) or f"{args.file} is empty")
    settings = AppSettings(mode="replay", replay_path=Path(args.file), budgets=budgets_from(args),
                           replay_speed=args.speed if args.speed > 0 else float("inf"), title=f"wsdash · replay {Path(args.file).name}")
    make_app(settings).run()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: ARG001 - the UI adds no subcommand of its own
    """The dashboard is the default command and a mode of `demo` and `replay` (see cli.py)."""
