"""``wsdash tiers list|run``: the headless twin of the tier pane.

Import cost matters (``wsdash --version`` imports the CLI, which imports this): only argparse
and the standard basics at module level; asyncio, the runner, the model and the progress printer
(progress.py) load inside the command functions.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any, Sequence, TextIO

from wsdash.commands.common import add_shared_flags, reads_shared, target_name
from wsdash.commands.tiers_select import UsageError, check_before_run, load_specs, point_at, select_tiers
from wsdash.commands.term import isatty, silence
from wsdash.core import exit_codes

if TYPE_CHECKING:
    from wsdash.services.tiers.events import TierEvent
    from wsdash.services.tiers.model import TierResult
    from wsdash.services.tiers.spec import TierSpec
    from wsdash.commands.tiers_progress import HumanReporter
    from wsdash.services.tiers.batch import HealthCheck


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``tiers list`` and ``tiers run`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "tiers",
        help="list and run the test tiers",
        description="Run the project's test tiers (pytest selections or commands) and judge each against its pass-rate target.",
    )
    tiers_sub = parser.add_subparsers(dest="tiers_command", metavar="{list,run}")
    tiers_sub.required = True

    # default=SUPPRESS: a top-level --config of the main parser must not be reset by these
    # sub-parsers' defaults (argparse copies sub-parser defaults over the namespace).
    common = argparse.ArgumentParser(add_help=False)
    add_shared_flags(common, "config")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print only JSON on stdout")

    p_list = tiers_sub.add_parser("list", parents=[common], help="show the configured tiers", description="Show the configured tiers.")
    p_list.set_defaults(func=cmd_list)

    p_run = tiers_sub.add_parser(
        "run",
        parents=[common],
        help="run tiers (all by default)",
        description="Run tiers one after the other. Exit 0 only when every tier that ran met its target; "
        "1 otherwise; 2 for usage or configuration errors. Ctrl-C stops the running tier and prints a partial summary.",
    )
    p_run.add_argument("names", nargs="*", metavar="NAME", help="tiers to run, in this order (default: all)")
    p_run.add_argument(
        "--target", default=argparse.SUPPRESS, metavar="NAME", type=target_name,
        help="point the tiers at a configured target: each tier's [tiers.target_env.NAME] variables (plus WSDASH_TARGET and "
        "WSDASH_WS_URL) are set and the tier requires that target instead of its own requires",
    )
    p_run.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report to FILE")
    p_run.add_argument("--rerun-failed", action="store_true", help="run only the tests that failed in the last run of each tier")
    p_run.add_argument("--skip-requires", action="store_true",
                       help="check no target's health: run every tier without its `requires` check, and say the "
                       "causes of skipped tests as 'not checked' instead of probing them after the run")
    p_run.set_defaults(func=cmd_run)
    reads_shared(p_run, "target")  # its own --target (a tiers' target, from target_env)


# --------------------------------------------------------------------------------------------
# Loading


HEALTH_TIMEOUT_S = 5.0


def default_health(cfg: Any) -> HealthCheck:
    """Health check for `requires`: the same probes as `wsdash check`. --skip-requires skips it."""
    from wsdash.services.health.check import known_names, run_checks

    async def check(target: str) -> tuple[bool, str]:
        known = known_names(cfg)
        if target not in known:
            return False, f"unknown target {target!r} (known: {', '.join(known)})"
        [probe] = await run_checks(cfg, [target], timeout=HEALTH_TIMEOUT_S)
        if probe.usable:
            return True, probe.detail or probe.status
        why = str(probe.error) if probe.error is not None else (probe.hint or "not usable")
        return False, f"{probe.status}: {why}"

    return check


# --------------------------------------------------------------------------------------------
# Commands


def _err(message: str) -> None:
    from wsdash.core.redact import scrub

    print(f"wsdash tiers: {scrub(message)}", file=sys.stderr)  # a --target URL's password, say


def _print_json(data: Any) -> None:
    from wsdash.commands.common import print_json

    print_json(data)


def cmd_list(args: argparse.Namespace) -> int:
    try:
        specs, _cfg, source = load_specs(getattr(args, "config", None))
    except UsageError as exc:
        _err(str(exc))
        return exit_codes.USAGE
    if getattr(args, "json", False):
        _print_json({"ok": True, "source": source, "tiers": [s.to_dict() for s in specs]})
        return exit_codes.OK
    from wsdash.commands.tiers_progress import Style, pct

    style = Style(sys.stdout)
    rows = [
        (
            s.name,
            s.title,
            s.display_command(),
            pct(s.target),
            ", ".join(s.requires) or "-",
            f"{s.timeout_s:g} s" if s.timeout_s else "-",
            "-" if s.max_skipped is None else s.max_skipped_text(),
        )
        for s in specs
    ]
    header = ("NAME", "TITLE", "RUNS", "TARGET", "REQUIRES", "TIMEOUT", "MAX SKIPPED")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(style("bold", "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    print(style("dim", f"tiers from: {source}"))
    return exit_codes.OK


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    json_mode = bool(getattr(args, "json", False))
    try:
        specs, cfg, source = load_specs(getattr(args, "config", None))
        chosen = point_at(select_tiers(specs, getattr(args, "names", []) or []), cfg, getattr(args, "target", None))
        junit = getattr(args, "junit", None)
        check_before_run(chosen, junit, source)
    except UsageError as exc:
        _err(str(exc))
        return exit_codes.USAGE

    if not json_mode:
        # A test id in a script the console cannot encode must not crash the report.
        with contextlib.suppress(AttributeError, ValueError):
            sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]
    # Progress goes to stdout, or to a terminal on stderr in JSON mode (stdout is only JSON).
    progress_out: TextIO | None = sys.stdout if not json_mode else (sys.stderr if sys.stderr.isatty() else None)
    from wsdash.commands.tiers_progress import HumanReporter

    reporter = HumanReporter(progress_out) if progress_out is not None else None

    only: dict[str, list[str] | None] = {}
    notes: dict[str, str] = {}
    if getattr(args, "rerun_failed", False):
        from wsdash.services.tiers.state import previous_failures

        for spec in chosen:
            if spec.kind != "pytest":
                notes[spec.name] = "a command tier: running it whole"
                continue
            before = previous_failures(spec)
            if before:
                only[spec.name] = before
                notes[spec.name] = f"rerunning {len(before)} test(s) that failed last time"
            else:
                notes[spec.name] = "no failure recorded last time: running the whole tier" if before == [] else "no previous run recorded: running the whole tier"

    health_check = None
    if not getattr(args, "skip_requires", False):
        health_check = default_health(cfg)

    try:
        results = asyncio.run(_run(chosen, reporter, health_check, only, notes))
    except KeyboardInterrupt:  # second Ctrl-C: the tree has been killed on the way out
        _err("killed")
        return exit_codes.INTERRUPTED

    from wsdash.services.tiers.model import ST_CANCELLED, exit_code_for

    code = exit_code_for(results)
    if any(r.status == ST_CANCELLED for r in results):
        code = exit_codes.INTERRUPTED  # Ctrl+C, SIGTERM, SIGHUP: not "the tests failed" to a CI job
    from wsdash.commands.history_log import log_tiers

    log_tiers(args, chosen, results)
    try:
        asyncio.run(explain_skips(chosen, results, cfg, probe=health_check is not None))
    except KeyboardInterrupt:  # the run is over: an impatient Ctrl-C only skips the explanation
        pass
    try:
        from wsdash.services.tiers.state import record_results

        record_results(list(zip(chosen, results)))
    except OSError as exc:
        _err(f"warning: could not record this run for --rerun-failed: {exc}")
    if junit:
        from wsdash.core.redact import scrub
        from wsdash.services.tiers.junit import write_junit

        try:
            write_junit(junit, results, scrub=scrub)
        except OSError as exc:
            _err(f"cannot write JUnit report {junit}: {exc.strerror or exc}")
            code = exit_codes.USAGE
    if json_mode:
        _print_json({"ok": code == 0, "tiers": [r.to_dict() for r in results]})
    if reporter is not None:
        reporter.summary(results, code)
    return code


async def explain_skips(specs: Sequence[TierSpec], results: Sequence[TierResult], cfg: Any, *, probe: bool = True) -> None:
    """Trace skip reasons to what the health model knows (Docker, a target's host:port, a token
    variable), check those now, and store what to say and do on each result (skips.advice).
    probe=False (--skip-requires: no health checks at all) says them "not checked" at once: a
    probe of a hanging target would hold the run's end for HEALTH_TIMEOUT_S."""
    from wsdash.services.tiers.causes import explain, health_names, landmarks, trace

    marks = landmarks(cfg)
    pairs = [(s, r) for s, r in zip(specs, results) if r.skips is not None and r.skips.groups]
    needed: list[str] = []
    for spec, r in pairs:
        needed += health_names(trace(r.skips, marks), spec)  # type: ignore[arg-type]
    if not needed:
        return
    import asyncio

    names = list(dict.fromkeys(needed))
    if probe:
        check = default_health(cfg)
        answers = await asyncio.gather(*(check(n) for n in names), return_exceptions=True)
    else:
        answers = [None] * len(names)
    # A probe that failed leaves the state unknown (None): the advice then says "not checked".
    usable = {n: (a[0] if isinstance(a, tuple) else None) for n, a in zip(names, answers)}
    for spec, r in pairs:
        explain(r.skips, marks, spec, usable, lambda v, s=spec: bool(s.env.get(v) or os.environ.get(v)))  # type: ignore[arg-type]


async def _run(
    specs: list[TierSpec],
    reporter: HumanReporter | None,
    health: HealthCheck | None,
    only: dict[str, list[str] | None],
    notes: dict[str, str],
) -> list[TierResult]:
    import asyncio
    import signal

    from wsdash.services.tiers.events import TierFinished, TierStarted
    from wsdash.services.tiers.batch import run_tiers

    loop = asyncio.get_running_loop()
    cancel = asyncio.Event()
    main = asyncio.current_task()
    presses = 0
    by_name = {s.name: s for s in specs}
    headed: set[str] = set()

    def on_event(event: TierEvent) -> None:
        if reporter is None:
            return
        name = event.tier
        if isinstance(event, (TierStarted, TierFinished)) and name not in headed:
            headed.add(name)
            reporter.tier_header(by_name[name], notes.get(name))
        reporter(event)

    def on_interrupt() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            cancel.set()
            if reporter is not None:
                reporter.note("   cancelling: stopping the running tier (Ctrl-C again to kill it now)")
            else:
                _err("cancelling (Ctrl-C again to kill now)")
        elif main is not None:
            main.cancel()

    terminals = [fd for fd in (1, 2) if isatty(fd)]  # known now: after a hangup isatty() fails

    def on_hangup() -> None:
        # The terminal is gone (window closed, SSH dropped): writing to it would fail with EIO.
        # Stop like Ctrl-C (the JUnit file and the --rerun-failed record are still written),
        # talking to nobody.
        silence(terminals)
        on_interrupt()

    # Ctrl-C, SIGTERM (a CI runner's timeout), SIGHUP (a closed terminal) and Windows' Ctrl+Break
    # or console close (SIGBREAK) cancel cleanly; the child is in its own process group, so it
    # hears about it from us, once, after which it gets a grace period. kill -9 cannot be
    # handled: the tier's lifeline (POSIX) or job (Windows) ends the tree then.
    installed: list[int] = []
    previous: dict[int, Any] = {}
    for name, handler in (("SIGINT", on_interrupt), ("SIGTERM", on_interrupt), ("SIGHUP", on_hangup), ("SIGBREAK", on_interrupt)):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            try:
                previous[sig] = signal.signal(sig, lambda *_, h=handler: loop.call_soon_threadsafe(h))
            except ValueError:
                pass
    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.5)
            reporter.tick()  # type: ignore[union-attr]

    ticking = asyncio.create_task(ticker()) if reporter is not None and reporter.live else None
    try:
        return await run_tiers(specs, on_event=on_event, cancel=cancel, health=health, only_nodeids=only)
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    finally:
        if ticking is not None:
            ticking.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
