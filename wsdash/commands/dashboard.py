"""`wsdash` with no command: the dashboard on a configured target. Also the helpers `demo` and
`replay` use to open it (token source, record folder)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from wsdash.commands.common import load_config_noted, usage_error
from wsdash.commands.term import dashboard_terminal_problem
from wsdash.core.config import Config, ConfigError


def token_source(target, env=os.environ, ttl_s: int = 300):
    from wsdash.core.auth import token_for

    def source() -> str | None:
        # Fetched or minted afresh on every (re)connect: an expired token never blocks a reconnect.
        return token_for(target, env=env, ttl_s=ttl_s)

    return source


def record_dir(args: argparse.Namespace) -> Path | None:
    value = getattr(args, "record", None)
    return Path(value) if value else None


def history_of(args: argparse.Namespace, cfg: Config):
    """The [history] settings, or None when --no-history or `enabled = false` turn it off."""
    return None if getattr(args, "no_history", False) or not cfg.history.enabled else cfg.history


def open_dashboard(settings) -> int:
    """Run the dashboard until it ends: 0 for `q`, 130 when a signal ended it (SIGTERM, SIGHUP)."""
    from wsdash.ui.app import make_app

    app = make_app(settings)
    app.run()
    return app.return_code or 0


DEV_TOKEN_TTL_S = 7200  # a demo lasts longer than a test token's 5 minutes (docs/protocol.md §2: dev = 120 min)


def _tiers(cfg: Config):
    from wsdash.services.tiers.spec import tiers_for_config

    return tiers_for_config(cfg)  # relative cwd/python from the file; target names checked


def run(args: argparse.Namespace) -> int:
    from wsdash.ui.settings import AppSettings
    from wsdash.core.auth import TokenError

    try:
        cfg = load_config_noted(getattr(args, "config", None))
        target = cfg.target(getattr(args, "target", None))
        tiers = _tiers(cfg)
    except (ConfigError, TokenError, ValueError) as exc:
        return usage_error(str(exc))
    if (problem := dashboard_terminal_problem()) is not None:
        return usage_error(f"the dashboard needs a terminal, but {problem}: run it in a terminal, or headless: "
                           f"wsdash golden-path --target {target.name} (once) or wsdash watch --target {target.name}")
    names = [("docker", "Docker")] + [(n, n) for n in cfg.targets]
    settings = AppSettings(
        mode="live", url=target.ws_url, token_source=token_source(target), auth=target.auth,
        tls_verify=target.tls_verify, config=cfg, health_names=names, target=target.name, tiers=tiers,
        title=f"wsdash · {target.name}", record_dir=record_dir(args), present=bool(getattr(args, "present", False)),
        history=history_of(args, cfg), history_target=target.name, auto_run_every_s=cfg.watch.every_s,
        notes=list(cfg.ignored_env),  # also on stderr, but the screen hides that until it closes
    )
    return open_dashboard(settings)
