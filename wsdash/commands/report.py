"""`wsdash report`: run the plan (or read saved results) and write what a stakeholder reads — the
plan's Test Success Criteria and Success Metrics, each row with its measured value and ✅/❌.

Exit 0 only when every criterion holds (a part not measured does not hold), 1 otherwise, 2 for a
usage or configuration error. Every part can come from a saved file instead of a run: a
recording (`golden-path --record`), `tiers run --json` output, `check --json` output.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from wsdash.commands.common import add_shared_flags, load_config_noted, seconds, usage_error
from wsdash.core import exit_codes


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="run the test plan and write its success criteria with measured results (Markdown, HTML, JSON)",
        description="Run environment health, a golden path and the tiers (or read saved results) and lay them out "
        "as the plan's Test Success Criteria and Success Metrics. Exit 0 only when every criterion holds.",
    )
    p.add_argument("--md", metavar="FILE", help="write Markdown (to paste into an issue)")
    p.add_argument("--html", metavar="FILE", help="write one self-contained HTML file (no network: opens from an email)")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout and nothing else")
    p.add_argument("--no-tiers", action="store_true", help="leave the tiers out")
    p.add_argument("--no-health", action="store_true", help="leave environment health out")
    p.add_argument("--no-golden-path", action="store_true", help="leave the golden path out")
    p.add_argument("--recording", metavar="FILE", help="judge this recording instead of running a golden path")
    p.add_argument("--tiers-json", metavar="FILE", help="use this `wsdash tiers run --json` output instead of running the tiers")
    p.add_argument("--check-json", metavar="FILE", help="use this `wsdash check --json` output instead of checking health")
    p.add_argument("--title", default="Golden path test report", help="the report's title")
    p.add_argument("--timeout", type=seconds, default=30.0, metavar="S", help="the golden path's timeout (default 30)")
    add_shared_flags(p, "config", "target")
    p.set_defaults(func=run)


def _live_health(cfg: Any, target: str | None) -> dict[str, Any]:
    import asyncio

    from wsdash.services.health import check

    names = check.names_to_check(cfg, None)
    required = check.required_names(cfg, names)
    if target is not None:
        required.add(target)
    import sys

    from wsdash.core.redact import scrub
    from wsdash.services.health.run_evidence import config_reader

    recent = config_reader(cfg, lambda m: sys.stderr.write(f"wsdash report: warning: {scrub(m)}\n"))
    results = asyncio.run(check.run_checks(cfg, names, timeout=5.0, recent_runs=recent))
    return check.report(results, required)


def _live_run(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    import asyncio

    from wsdash.commands.golden_path import resolve_run_endpoint
    from wsdash.services.session.handshake import SessionOptions
    from wsdash.services.session.once import run_golden_path

    endpoint_args = argparse.Namespace(url=None, token=None, token_env=None, secret=None, secret_file=None, auth=None,
                                       no_tls_verify=False, config=getattr(args, "config", None),
                                       target=getattr(args, "target", None))
    ep = resolve_run_endpoint(endpoint_args)
    opts = SessionOptions(url=ep.url, token=ep.token, auth=ep.auth, tls_verify=ep.tls_verify, timeout_s=args.timeout)
    result = asyncio.run(run_golden_path(opts))
    return result.to_json(), result


def _live_tiers(args: argparse.Namespace) -> list[dict[str, Any]]:
    import asyncio

    from wsdash.commands.tiers import default_health
    from wsdash.commands.tiers_select import load_specs
    from wsdash.services.tiers.batch import run_tiers

    specs, cfg, _ = load_specs(getattr(args, "config", None))
    results = asyncio.run(run_tiers(specs, health=default_health(cfg)))
    return [r.to_dict() for r in results]


# Each saved file stands in for a part of the plan; the flag that leaves that part out contradicts it.
_SAVED_FLAGS = (("--recording", "recording", "--no-golden-path", "no_golden_path", "the golden path", "a recording"),
                ("--tiers-json", "tiers_json", "--no-tiers", "no_tiers", "the tiers", "`wsdash tiers run --json` output"),
                ("--check-json", "check_json", "--no-health", "no_health", "environment health", "`wsdash check --json` output"))


def _saved_flags_problem(args: argparse.Namespace) -> str | None:
    """A saved file the other flags would silently ignore (or an empty name, which read as "not
    given" and ran the part live instead): the usage error, said before anything runs."""
    for flag, attr, off_flag, off_attr, part, what in _SAVED_FLAGS:
        path = getattr(args, attr)
        if path is None:
            continue
        if getattr(args, off_attr):
            return f"{flag} and {off_flag} contradict: {flag} gives {part} from a file, {off_flag} leaves {part} out; drop one"
        if not path:
            return f"{flag} needs a file name: {what}"
    return None


def _say(message: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"wsdash report: {message}\n")


def run(args: argparse.Namespace) -> int:
    import time

    from wsdash.commands.common import output_file_problem, print_json
    from wsdash.commands.report_render import Report, html_page, markdown, terminal
    from wsdash.commands.report_saved import ReportError, saved_health, saved_run, saved_tiers
    from wsdash.commands.tiers_select import UsageError
    from wsdash.core.auth import TokenError
    from wsdash.core.config import ConfigError
    from wsdash.core.criteria import build_plan
    from wsdash.core.story import headline

    if problem := _saved_flags_problem(args):
        return usage_error(problem)
    sources: list[str] = []
    for flag, path, example in (("--md", args.md, "report.md"), ("--html", args.html, "report.html")):
        if path is not None and (problem := output_file_problem(flag, path, example)):  # before minutes of checks and tiers
            return usage_error(problem)
    try:
        cfg = load_config_noted(getattr(args, "config", None))
        target = getattr(args, "target", None)
        if target is not None:
            cfg.target(target)
        # The saved files first: a bad one is said before minutes of live checks, runs and tiers.
        health = None if args.check_json is None else saved_health(args.check_json)
        run_json, result = (None, None) if args.recording is None else saved_run(args.recording)
        tiers = None if args.tiers_json is None else saved_tiers(args.tiers_json)
        if not args.no_health:
            if health is not None:
                sources.append(f"environment from {args.check_json}")
            else:
                _say("checking the environment …")
                health = _live_health(cfg, target)
                sources.append("environment checked now")
        if not args.no_golden_path:
            if run_json is not None:
                sources.append(f"golden path from the recording {args.recording}")
            else:
                _say("running a golden path …")
                run_json, result = _live_run(args)
                sources.append(f"golden path run now against {run_json['url']}")
        if not args.no_tiers:
            if tiers is not None:
                sources.append(f"tiers from {args.tiers_json}")
            else:
                _say("running the tiers …")
                tiers = _live_tiers(args)
                sources.append("tiers run now")
    except (ReportError, ConfigError, TokenError, UsageError) as exc:
        return usage_error(str(exc))
    plan = build_plan(health, run_json, tiers)
    report = Report(
        title=args.title, when=time.strftime("%Y-%m-%d %H:%M %Z"), plan=plan, health=health, run=run_json,
        run_headline=headline(result)[1] if result is not None else None, tiers=tiers, sources=sources,
    )
    for path, render in ((args.md, markdown), (args.html, html_page)):
        if path:
            try:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(render(report))
            except OSError as exc:
                return usage_error(f"cannot write {path}: {exc.strerror or exc}")
    if args.json:
        print_json({**plan.to_json(), "title": report.title, "when": report.when, "sources": sources,
                    "health": health, "golden_path": run_json, "tiers": tiers})
    else:
        print(terminal(report))
        for path in (args.md, args.html):
            if path:
                print(f"wrote {path}")
    return exit_codes.OK if plan.ok else exit_codes.FAILED
