"""`wsdash watch`: a health check and a golden path on a schedule, one line per run, an alert (and
the terminal bell) when it goes from passing to failing or back, every run in the history, and
metrics for Prometheus on request.

The schedule is services/watch (never two runs at once); the run is services/session's, the
health check services/health's: this module only wires them and prints.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any, NamedTuple

from wsdash.commands.common import (add_budget_flags, add_shared_flags, load_config_noted, output_file_problem, port_number,
                                    seconds, seconds_or_zero, usage_error, whole_number)
from wsdash.commands.golden_path import add_endpoint_flags

HEALTH_TIMEOUT_S = 5.0


def register(sub: Any) -> None:
    w = sub.add_parser(
        "watch", help="run a health check and a golden path on a schedule; alert when it breaks or recovers",
        description="Run a health check and a golden path every S seconds (never two at once: a run longer than "
        "the interval delays the next). One line per run; an alert line and the terminal bell when it goes from "
        "passing to failing or back. Ctrl+C prints a summary. Exit 0 if the last run passed, 1 if it failed, "
        "3 if it could not run.")
    add_endpoint_flags(w, tls=True)
    w.add_argument("--every", type=seconds, default=None, metavar="S", help="seconds from one run's start to the next (default: [watch] every_s, 60)")
    w.add_argument("--runs", type=whole_number(1), default=None, metavar="N", help="stop after N runs (default: until Ctrl+C)")
    w.add_argument("--until-fail", action="store_true", help="stop after the first run that fails or cannot run")
    w.add_argument("--json", action="store_true", help="JSON Lines: one object per run, alert and the summary")
    w.add_argument("--message", metavar="TEXT", help="the chat message to send")
    w.add_argument("--timeout", type=seconds, default=30.0, metavar="S", help="wait at most S for a run to complete (default 30)")
    w.add_argument("--grace", type=seconds_or_zero, default=0.5, metavar="S", help="keep listening S after completion (default 0.5)")
    m = w.add_argument_group("metrics for Prometheus (needs the optional extra: pip install 'wsdash[metrics]')")
    m.add_argument("--metrics-port", type=port_number, metavar="PORT", help="serve /metrics (OpenMetrics) on PORT")
    m.add_argument("--metrics-addr", default="127.0.0.1", metavar="ADDR", help="the address to serve metrics on (default 127.0.0.1; 0.0.0.0 for a Prometheus on another host)")
    m.add_argument("--metrics-file", metavar="FILE", help="write the node_exporter textfile format to FILE after every run (.prom)")
    add_shared_flags(w, "config", "target", "record")
    add_budget_flags(w)
    w.set_defaults(func=run)


class Watched(NamedTuple):
    """One run as watch saw it: the history's record, the health check's verdict on the target."""

    record: Any  # RunRecord
    exit_code: int
    target_up: bool | None
    target_note: str
    late_s: float
    history_id: int | None
    hint: str = ""  # what to do about the error, when there is one


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from wsdash.commands.history_log import history_config, target_name, warn
    from wsdash.commands.watch_printer import Printer
    from wsdash.core import exit_codes
    from wsdash.core.auth import TokenError
    from wsdash.core.config import ConfigError
    from wsdash.core.history import HistoryError

    from wsdash.commands.golden_path import resolve_run_endpoint

    cfg = None
    try:
        cfg = load_config_noted(getattr(args, "config", None), also_read=(getattr(args, "token_env", None),))
    except ConfigError as exc:
        if not args.url:
            return usage_error(str(exc))
        warn(f"{exc} — watching {args.url} with built-in settings")
    try:
        resolve_run_endpoint(args)  # bad flags, URL or token: say so before the first run
    except (ConfigError, TokenError) as exc:
        return usage_error(str(exc))
    every = args.every or (cfg.watch.every_s if cfg is not None else 60.0)
    if args.metrics_file is not None and (problem := output_file_problem("--metrics-file", args.metrics_file, "wsdash.prom")):
        return usage_error(problem)  # before --record's folder is made: a refused run leaves nothing behind
    record_dir = getattr(args, "record", None)
    if record_dir:
        if os.path.exists(record_dir) and not os.path.isdir(record_dir):
            return usage_error(f"--record {record_dir}: watch records one file per run, so it needs a directory")
        try:
            os.makedirs(record_dir, exist_ok=True)
        except OSError as exc:
            return usage_error(f"--record {record_dir}: cannot create the directory: {exc.strerror or exc}")
    metrics = None
    if args.metrics_port or args.metrics_file:
        from wsdash.services.watch.metrics import MetricsUnavailable, WatchMetrics

        try:
            metrics = WatchMetrics()
        except MetricsUnavailable as exc:
            flag = "--metrics-port" if args.metrics_port else "--metrics-file"
            return usage_error(f"{flag}: {exc}")
    history = None
    hc, _ = history_config(args, cfg) if cfg is not None else (None, None)
    if hc is not None:
        from wsdash.commands.history_log import open_history

        try:
            history = open_history(hc)
        except HistoryError as exc:
            warn(f"{exc} — watching without a history")
    name = target_name(args, cfg) if cfg is not None else None
    if metrics is not None:
        if history is not None:
            try:
                from wsdash.core.run_values import target_key

                key = target_key(name or args.url)
                metrics.seed(key, history.last(key, passed=True))
                metrics.observe_tiers(history.latest_tier_runs())
            except HistoryError as exc:
                warn(str(exc))
        if args.metrics_port:
            try:
                server = metrics.serve(args.metrics_port, args.metrics_addr)
            except OSError as exc:
                return usage_error(f"--metrics-port {args.metrics_port}: cannot serve metrics on {args.metrics_addr}: {exc.strerror or exc}")
    printer = Printer(sys.stdout, json_mode=args.json)
    printer.start(name or args.url, every, metrics_url=f"http://{args.metrics_addr}:{args.metrics_port}/metrics" if args.metrics_port else None)
    watch = _Watch(args, cfg, name, history, hc, metrics, printer)
    from wsdash.commands.end_signals import as_ctrl_c

    try:
        with as_ctrl_c():  # SIGTERM and SIGHUP end it with the summary, as Ctrl+C does
            asyncio.run(watch.loop(every))
    except KeyboardInterrupt:
        pass
    finally:
        if history is not None:
            history.close()
        if metrics is not None and args.metrics_port:
            server.shutdown()
    printer.summary(watch.seen, interrupted=not watch.finished)
    if not watch.seen:
        return exit_codes.INTERRUPTED
    return watch.seen[-1].exit_code


class _Watch:
    def __init__(self, args: argparse.Namespace, cfg: Any, name: str | None, history: Any, hc: Any, metrics: Any, printer: Any) -> None:
        from wsdash.services.watch.schedule import StateTracker

        self.args, self.cfg, self.name = args, cfg, name
        self.history, self.hc, self.metrics, self.printer = history, hc, metrics, printer
        self.state = StateTracker()
        self.seen: list[Watched] = []
        self.finished = False

    async def loop(self, every: float) -> None:
        from wsdash.services.watch.schedule import run_schedule

        until = (lambda w: w.exit_code != 0) if self.args.until_fail else None
        await run_schedule(self.one, every, runs=self.args.runs, until=until, on_result=lambda slot, w: self.report(w))
        self.finished = True

    async def one(self, slot: Any) -> Watched:
        from wsdash.commands.common import budgets_from
        from wsdash.commands.golden_path import resolve_run_endpoint
        from wsdash.core.auth import TokenError
        from wsdash.core.config import ConfigError
        from wsdash.core.recording import Recorder, recording_file
        from wsdash.core.run_record import NO_RUN, RunRecord
        from wsdash.services.session.handshake import DEFAULT_MESSAGE, SessionOptions
        import asyncio  # here, not at the top: building the parser stays cheap (`wsdash --version`)

        from wsdash.services.session.once import OnceRun

        started = time.time()
        try:
            # Every run afresh: a minted token lives minutes, a watch hours.
            ep = resolve_run_endpoint(self.args)
        except (ConfigError, TokenError) as exc:  # a secret file gone mid-watch: this run cannot run
            rec = RunRecord(started_at=started, target=self.name or self.args.url, url=self.args.url or "", source="watch",
                            verdict=NO_RUN, error_kind="config", error_message=str(exc))
            return self._store(rec, 3, None, str(exc), slot.late_s)
        up, note = await self._health(ep)
        opts = SessionOptions(url=ep.url, token=ep.token, auth=ep.auth, tls_verify=ep.tls_verify,
                              message=self.args.message or DEFAULT_MESSAGE, timeout_s=self.args.timeout,
                              grace_s=self.args.grace, budgets=budgets_from(self.args))
        recorder = None
        if getattr(self.args, "record", None):
            try:
                recorder = Recorder(recording_file(self.args.record, slot.number))
            except OSError as exc:
                self.printer.note(f"cannot record this run: {exc.strerror or exc}")
        once = OnceRun(opts, listener=recorder)
        try:
            result = await once.go()
        except asyncio.CancelledError:
            # Ctrl+C, SIGTERM, SIGHUP mid-run: this run is judged on what arrived — printed, counted
            # in the summary, kept in the history — as golden-path does, not thrown away.
            result = once.partial()
            self.report(self._stored(result, recorder, started, up, note, slot.late_s))
            raise
        finally:
            if recorder is not None:
                recorder.close()
        return self._stored(result, recorder, started, up, note, slot.late_s)

    def _stored(self, result: Any, recorder: Any, started: float, up: bool | None, note: str, late_s: float) -> Watched:
        from wsdash.core.run_record import RunRecord

        rec = RunRecord.from_result(result, target=self.name, source="watch", started_at=started,
                                    recording=str(recorder.path) if recorder is not None else None)
        return self._store(rec, result.exit_code, up, note, late_s, result.error.hint if result.error else "")

    async def _health(self, ep: Any) -> tuple[bool | None, str]:
        """The target's health check (the same probe as `wsdash check`): usable or not, and why."""
        from dataclasses import replace

        from wsdash.core.config import TargetConfig
        from wsdash.services.health.service import probe_target

        env: dict[str, str] = {}
        if self.name is not None and self.cfg is not None:
            target = self.cfg.target(self.name)
        else:
            target = TargetConfig(name="url", ws_url=ep.url, auth=ep.auth, tls_verify=ep.tls_verify)
        if self.args.url or self.args.token or self.args.token_env or self.args.secret or self.args.secret_file:
            # The token the run uses, handed to the probe the way a target names one: a variable.
            target = replace(target, ws_url=ep.url, token_env="WSDASH_WATCH_TOKEN" if ep.token else None,
                             secret_env=None, secret_file=None, e2e_key_env=None, auth=ep.auth, tls_verify=ep.tls_verify)
            env = {"WSDASH_WATCH_TOKEN": ep.token} if ep.token else {}
        probe = await probe_target(target, timeout=HEALTH_TIMEOUT_S, env=env)
        if probe.usable:
            return True, probe.status
        why = probe.error.message if probe.error is not None else (probe.hint or "not usable")
        return False, f"{probe.status}: {why}"

    def _store(self, rec: Any, exit_code: int, up: bool | None, note: str, late_s: float, hint: str = "") -> Watched:
        from wsdash.commands.history_log import warn
        from wsdash.core.history import HistoryError

        history_id = None
        if self.history is not None:
            try:
                history_id = self.history.add_run(rec, keep_days=self.hc.keep_days, max_runs=self.hc.max_runs)
            except HistoryError as exc:
                warn(str(exc))
        if self.metrics is not None:
            self.metrics.observe_run(rec, up)
            if self.history is not None:
                try:
                    self.metrics.observe_tiers(self.history.latest_tier_runs())
                except HistoryError:
                    pass
            if self.args.metrics_file:
                try:
                    self.metrics.write_textfile(self.args.metrics_file)
                except OSError as exc:
                    warn(f"cannot write --metrics-file {self.args.metrics_file}: {exc.strerror or exc}")
        return Watched(rec, exit_code, up, note, late_s, history_id, hint)

    def report(self, w: Watched) -> None:
        self.seen.append(w)
        change = self.state.observe(w.exit_code == 0, w.record.started_at)
        self.printer.run(w)
        if change is not None:
            self.printer.alert(w, change)
