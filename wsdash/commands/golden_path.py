"""`wsdash golden-path`: one run against a server, judged; human or JSON output."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from urllib.parse import urlsplit
from dataclasses import dataclass

from wsdash.core.auth import TokenError, resolve_token, token_for
from wsdash.commands.common import budgets_from, print_json, usage_error
from wsdash.commands.run_printer import print_human
from wsdash.core.config import ConfigError, load_config
from wsdash.core.redact import redact_url


@dataclass
class Endpoint:
    url: str
    token: str | None
    auth: str
    tls_verify: bool


def resolve_endpoint(args: argparse.Namespace) -> Endpoint:
    """URL and token from --url/--target and the token flags. Raises ConfigError or TokenError."""
    auth = "subprotocol+header"
    tls_verify = True
    target = None
    if args.url:
        url = args.url
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError as exc:
            raise ConfigError(f"--url is not a valid URL: {exc}") from None
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ConfigError(f"--url must look like ws://host[:port]/path or wss://…, got {redact_url(url)!r}")
    else:
        target = load_config(args.config).target(args.target)
        url, auth, tls_verify = target.ws_url, target.auth, target.tls_verify
    if args.token_env and not os.environ.get(args.token_env):
        raise TokenError(f"environment variable {args.token_env} is not set or empty")
    if args.token or args.token_env or args.secret or args.secret_file:  # a flag wins over the target
        token = resolve_token(token=args.token, token_env=args.token_env, secret=args.secret, secret_file=args.secret_file)
    else:
        token = token_for(target) if target is not None else None
    return Endpoint(url, token, args.auth or auth, tls_verify and not args.no_tls_verify)


def run(args: argparse.Namespace) -> int:
    from wsdash.core.recording import Recorder
    from wsdash.services.session.once import DEFAULT_MESSAGE, SessionOptions, run_golden_path

    try:
        ep = resolve_endpoint(args)
    except (ConfigError, TokenError) as exc:
        return usage_error(str(exc))
    if args.timeout <= 0:
        return usage_error("--timeout must be positive")
    opts = SessionOptions(
        url=ep.url,
        token=ep.token,
        auth=ep.auth,
        tls_verify=ep.tls_verify,
        message=args.message or DEFAULT_MESSAGE,
        timeout_s=args.timeout,
        grace_s=args.grace,
        budgets=budgets_from(args),
    )
    recorder = None
    if args.record:
        try:
            recorder = Recorder(args.record)
        except OSError as exc:
            return usage_error(f"cannot write recording {args.record}: {exc.strerror or exc}")
    try:
        result = asyncio.run(run_golden_path(opts, listener=recorder))
    finally:
        if recorder is not None:
            recorder.close()
    if args.json:
        print_json(result.to_json())
    else:
        print_human(result, sys.stdout)
        if recorder is not None:
            print(f"recorded to {args.record} — replay it with: wsdash replay {args.record}")
    return result.exit_code
