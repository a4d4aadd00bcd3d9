"""`wsdash check`: probe Docker and the targets once, print a table (or JSON), exit 0/1/2.

Imported by `wsdash.cli` to build the parser on every start, so only argparse is imported at
module level; httpx, websockets and the probes load when the command actually runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence, TextIO

from wsdash.commands.common import add_shared_flags, load_config_noted, seconds
from wsdash.core import exit_codes

_STYLE = {"up": ("green",), "down": ("red", "bold"), "degraded": ("yellow",), "skipped": ("dim",)}


def register(subparsers: Any) -> None:
    """Add `check` to the CLI's subparsers."""
    p = subparsers.add_parser(
        "check",
        help="probe Docker and every target once; exit 0 when the required ones are up",
        description="Probe Docker and every configured target concurrently (DNS, TCP, TLS, "
        "WebSocket upgrade, token acceptance, health endpoints) and say what still works. "
        "Exit 0 when every required target is up (with --only: every named one), 1 otherwise, "
        "2 for usage or configuration errors.",
    )
    p.add_argument("--only", metavar="NAMES", type=_names,
                   help="comma-separated names to check, e.g. docker,local,staging (default: all)")
    p.add_argument("--json", action="store_true", help="print only {ok, targets: [...]} as JSON")
    p.add_argument("--timeout", type=seconds, default=5.0, metavar="S",
                   help="the whole check finishes within S seconds (default 5)")
    add_shared_flags(p, "config", "target")
    p.set_defaults(func=run_check)


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated names, e.g. docker,local")
    return names


def run_check(args: argparse.Namespace, *, env: Any = None, docker_options: Any = None) -> int:
    """Run the check; `env` / `docker_options` let tests point the probes at local fakes."""
    import asyncio

    from wsdash.core.config import ConfigError
    from wsdash.services.health import check
    from wsdash.core.redact import scrub

    only = getattr(args, "only", None)
    try:
        config = load_config_noted(getattr(args, "config", None), env=env)
        target = getattr(args, "target", None)
        if target is not None:
            config.target(target)  # an unknown name is a usage error naming the known ones
        names = check.names_to_check(config, only)
    except ConfigError as exc:
        sys.stderr.write(f"wsdash check: error: {scrub(str(exc))}\n")
        return exit_codes.USAGE
    timeout = float(getattr(args, "timeout", 5.0) or 5.0)
    from wsdash.services.health.run_evidence import config_reader

    # What the golden-path runs already say (a probe never starts one).
    recent = config_reader(config, lambda m: sys.stderr.write(f"wsdash check: warning: {scrub(m)}\n"))
    results = asyncio.run(check.run_checks(config, names, timeout=timeout, env=env, docker_options=docker_options,
                                           recent_runs=recent))
    required = check.required_names(config, names, explicit=bool(only))
    if target is not None and target in names:
        required.add(target)  # the target you said you use decides the exit code
    if getattr(args, "json", False):
        from wsdash.commands.common import print_json

        print_json(check.report(results, required))
    else:
        try:
            from wsdash.services.tiers.spec import tiers_from_config

            tiers: Any = tiers_from_config(config.tiers)
        except (ValueError, ConfigError):  # a bad [[tiers]] table is `wsdash tiers`' to report: speak generally
            tiers = None
        print_table(results, required, check.what_still_works(results, tiers), sys.stdout)
    return exit_codes.OK if check.all_up(results, required) else exit_codes.FAILED


def print_table(results: Sequence[Any], required: set[str], notes: Sequence[str], out: TextIO) -> None:
    """TARGET  STATUS  LATENCY  DETAIL — coloured on a TTY unless NO_COLOR is set."""
    from wsdash.core.redact import scrub
    from wsdash.commands.term import painter

    paint = painter(out)
    rows = [(r.name + (" *" if r.name in required else ""), r.status, _latency(r.latency_ms), _detail(r))
            for r in results]
    w_name = max([len("TARGET"), *(len(r[0]) for r in rows)])
    w_status = max([len("STATUS"), *(len(r[1]) for r in rows)])
    w_lat = max([len("LATENCY"), *(len(r[2]) for r in rows)])
    out.write(paint(f"{'TARGET':<{w_name}}  {'STATUS':<{w_status}}  {'LATENCY':>{w_lat}}  DETAIL", "bold") + "\n")
    for name, status, latency, detail in rows:
        # Pad before painting: escape codes would otherwise break the column widths.
        cell = paint(f"{status:<{w_status}}", *_STYLE.get(status, ()))
        out.write(f"{name:<{w_name}}  {cell}  {latency:>{w_lat}}  {scrub(detail)}\n")
    if required:
        out.write(paint("* required", "dim") + "\n")
    if notes:
        out.write("\n")
        for line in notes:
            out.write(scrub(line) + "\n")


def _latency(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _detail(result: Any) -> str:
    """Up: what it is (versions, timings). Otherwise: which check failed, how, and what to do."""
    if result.status in ("up", "skipped") or result.error is None:
        extra = result.hint if result.status != "up" and result.hint else ""
        return " — ".join(p for p in (result.detail, extra) if p)
    failed = next((c for c in result.checks if c.error is result.error), None)
    err = result.error
    where = f"{failed.name} " if failed is not None and failed.name not in ("ping", "cli", err.kind) else ""
    # The message only where the hint cannot stand alone (unclassified failures, HTTP statuses, a bad setting).
    said = f" ({err.message})" if err.kind in ("unknown", "http", "config") else ""
    return f"{where}{err.kind}{said}: {err.hint}"
