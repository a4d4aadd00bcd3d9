"""`wsdash golden-path`: one run against a server, judged; human or JSON output."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NamedTuple

from wsdash.commands.common import (
    add_all_events_flag, add_budget_flags, add_shared_flags, all_events_usage, budgets_from, event_spool, load_config_noted,
    print_run, seconds, seconds_or_zero, usage_error,
)


def register(sub: Any) -> None:
    gp = sub.add_parser("golden-path", help="run one golden path against a server and judge it")
    add_endpoint_flags(gp)
    gp.add_argument("--message", metavar="TEXT", help="the chat message to send")
    gp.add_argument("--timeout", type=seconds, default=30.0, metavar="S",
                    help="the whole run, connect included, ends within S (default 30); a timeout names the phase it cut")
    gp.add_argument("--grace", type=seconds_or_zero, default=0.5, metavar="S", help="keep listening S after completion to judge late frames (default 0.5)")
    gp.add_argument("--no-tls-verify", action="store_true", help="turn TLS certificate verification off (on by default)")
    gp.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    add_all_events_flag(gp)
    add_shared_flags(gp, "config", "target", "record")
    add_budget_flags(gp)
    gp.set_defaults(func=run)


def add_endpoint_flags(p: argparse.ArgumentParser, *, tls: bool = False) -> None:
    """Where a run goes and with which token: golden-path's flags, which `watch` takes too."""
    p.add_argument("--url", metavar="URL", help="a WebSocket URL (ws:// or wss://); needs no config (wins over --target)")
    tok = p.add_mutually_exclusive_group()
    tok.add_argument("--token", metavar="T", help="a JWT (prefer --token-env: a flag shows up in shell history)")
    tok.add_argument("--token-env", metavar="VAR", help="read the JWT from environment variable VAR")
    tok.add_argument("--secret", metavar="S", help="mint a valid token signed with this secret")
    tok.add_argument("--secret-file", metavar="PATH", help="mint a valid token signed with the secret in PATH")
    p.add_argument("--auth", choices=("subprotocol+header", "subprotocol", "header", "query"), help="where the token travels (default: the target's, else subprotocol+header)")
    if tls:
        p.add_argument("--no-tls-verify", action="store_true", help="turn TLS certificate verification off (on by default)")


class RunEndpoint(NamedTuple):
    url: str
    token: str | None
    auth: str
    tls_verify: bool
    config: Any = None  # the Config a --target run loaded (its [history] settings, read again by nobody)


def resolve_run_endpoint(args: argparse.Namespace) -> RunEndpoint:
    """URL and token from --url/--target and the token flags. Raises ConfigError or TokenError."""

    from wsdash.core.auth import TokenError, resolve_token, token_for, token_text_problem
    from wsdash.core.undecodable import not_text
    from wsdash.core.config import ConfigError
    from wsdash.core.ws_url import ws_url_problem

    auth = "subprotocol+header"
    tls_verify = True
    target = cfg = None
    if args.url:
        url = args.url
        if (problem := ws_url_problem(url)) is not None:
            raise ConfigError(f"--url {problem}")
    else:
        cfg = load_config_noted(getattr(args, "config", None), also_read=(getattr(args, "token_env", None),))
        target = cfg.target(getattr(args, "target", None))
        url, auth, tls_verify = target.ws_url, target.auth, target.tls_verify
    for flag, value in (("--token", args.token), ("--token-env", args.token_env), ("--secret", args.secret),
                        ("--secret-file", args.secret_file)):
        if value is not None and not value.strip():  # given, but empty: never "no token" in silence
            raise TokenError(f"{flag} is empty")
    if args.token_env and not os.environ.get(args.token_env):
        raise TokenError(f"environment variable {args.token_env} is not set or empty")
    for what, value in (("--token", args.token), (f"environment variable {args.token_env}", os.environ.get(args.token_env or ""))):
        if value and (problem := token_text_problem(value)):
            raise TokenError(f"{what} {problem}")
    if args.secret and not_text(args.secret):
        raise TokenError("--secret holds bytes that are not text (an undecodable byte in the argument)")
    if args.token or args.token_env or args.secret or args.secret_file:  # a flag wins over the target
        token = resolve_token(token=args.token, token_env=args.token_env, secret=args.secret, secret_file=args.secret_file)
    else:
        token = token_for(target) if target is not None else None
    return RunEndpoint(url, token, args.auth or auth, tls_verify and not args.no_tls_verify, cfg)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from wsdash.core.auth import TokenError
    from wsdash.core.config import ConfigError
    from wsdash.commands.golden_progress import Tee, progress_for
    from wsdash.services.session.handshake import DEFAULT_MESSAGE, SessionOptions
    from wsdash.services.session.once import OnceRun

    if (misused := all_events_usage(args)) is not None:
        return misused
    try:
        ep = resolve_run_endpoint(args)
    except (ConfigError, TokenError) as exc:
        return usage_error(str(exc))
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
    from wsdash.commands.end_signals import as_ctrl_c
    from wsdash.commands.history_log import log_run, prepare

    recorder = start_recording(getattr(args, "record", None))
    # Checkpoints as they arrive, on stderr and only for a person at a terminal (stdout keeps the
    # one JSON object or the report).
    progress = progress_for(sys.stderr)
    # The history is opened in the grace, when the outermost agent_completed has arrived (history_log.PreparedHistory).
    prepared = prepare(args, ep.config)
    try:
        with event_spool(args) as spool:
            once = OnceRun(opts, listener=Tee(recorder, progress) if progress else recorder,
                           on_event=progress.on_event if progress else None, row_sink=spool,
                           on_done=prepared.start if prepared is not None else None)
            try:
                with as_ctrl_c():
                    result = asyncio.run(once.go())
            except KeyboardInterrupt:
                # Ctrl+C, SIGTERM, SIGHUP: judge what arrived (exit 130), rather than throw the run away.
                result = once.partial()
            finally:
                if recorder is not None:
                    recorder.close()
            try:
                print_run(result, args, spool)
            except OSError:  # the terminal was closed (SIGHUP): nobody to tell, the history still gets the run
                pass
    except BaseException:
        if prepared is not None:
            prepared.discard()  # nothing to write: close what the thread opened (a bounded wait)
        raise
    if not args.json and recorder is not None and recorder.error is None:
        print(f"recorded to {recorder.path} — replay it with: wsdash replay {recorder.path}")
    log_run(args, result, recording=str(recorder.path) if recorder is not None and recorder.error is None else None, cfg=ep.config,
            prepared=prepared)
    return result.exit_code


def start_recording(record: str | None) -> Any:
    """A Recorder for --record, or None. A path that cannot be written, or a disk that fills up
    mid-run, is said once on stderr and the run goes on unrecorded: the server is what is tested."""
    from wsdash.core.recording import Recorder, recording_file

    if not record:
        return None
    from wsdash.core.redact import scrub

    path = recording_file(record)

    def warn(message: str) -> None:  # from this thread or the recorder's timer thread
        sys.stderr.write(f"wsdash: warning: {scrub(message)}\n")
        sys.stderr.flush()

    try:
        return Recorder(path, on_error=warn)
    except OSError as exc:
        warn(f"cannot record to {path}: {exc.strerror or exc} — the run goes on unrecorded")
        return None
