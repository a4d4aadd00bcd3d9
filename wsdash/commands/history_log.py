"""Writing runs to the history from the commands: the `[history]` settings, `--no-history`, and a
warning on stderr — never a changed exit code — when the history cannot be written.

`golden-path` opens the history while the run waits on the network (PreparedHistory), so that
after the run it pays only for the insert and the close."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from wsdash.core.config import Config, HistoryConfig
    from wsdash.core.history import History
    from wsdash.core.judged_run import RunResult
    from wsdash.core.run_record import RunRecord, TierRecord


def warn(message: str) -> None:
    from wsdash.core.redact import scrub

    sys.stderr.write(scrub(f"wsdash: warning: {message}") + "\n")


def history_config(args: argparse.Namespace, cfg: Config | None = None) -> tuple[HistoryConfig | None, Config | None]:
    """(the history settings, the config) — (None, …) when history is off for this run. A broken
    configuration file does not stop a run given by --url: its history is skipped with a warning."""
    hc, cfg, problem = _settings(args, cfg)
    if problem:
        warn(problem)
    return hc, cfg


def _settings(args: argparse.Namespace, cfg: Config | None) -> tuple[HistoryConfig | None, Config | None, str | None]:
    """history_config without the warning: (settings, config, what to warn about)."""
    if getattr(args, "no_history", False):
        return None, cfg, None
    if cfg is None:
        from wsdash.commands.common import load_config_noted
        from wsdash.core.config import ConfigError

        try:
            cfg = load_config_noted(getattr(args, "config", None), also_read=(getattr(args, "token_env", None),))
        except ConfigError as exc:
            return None, None, f"the run history was not written: {exc}"
    return (cfg.history if cfg.history.enabled else None), cfg, None


def open_history(hc: HistoryConfig, *, keep_wal: bool = False) -> History:
    """Open it to write (`keep_wal`: a one-shot writer's, core/history_wal.py). Raises HistoryError
    naming the file and the cause."""
    from wsdash.core.history import History

    db = History(hc.path, keep_wal=keep_wal)
    try:
        db.checkpoint_if_due()  # a writer's job: its next write starts the WAL over (core/history_wal.py)
    except BaseException:
        db.close()
        raise
    return db


# How long the command waits for PreparedHistory's thread: past the history's busy timeout
# (core/history.py BUSY_TIMEOUT_S, 10 s: an open waits that long at most for another wsdash's
# migration), so a thread given up on is one stuck where a synchronous open would be stuck too.
JOIN_TIMEOUT_S = 15.0


class PreparedHistory:
    """The history opened off the main thread, while a run waits out its grace: the settings (the
    configuration, for --url), `import sqlite3` and the history modules, the open, the schema check
    and any checkpoint due. None of it needs the run's result, so the command pays after the run
    only for the insert and the close.

    `start()` when the outermost agent_completed has arrived: from there the run only listens
    for late frames for `--grace` seconds (0.5 by default), which are judged whatever their exact
    offset, so a thread holding the GIL (importing a C extension does) skews nothing measured.
    Started earlier it would: the connect phases and the first event's offset are timed then.
    A run that never completes (or `--grace 0`) gets less or no head start: `finish()` then does
    what is left. The thread is a daemon and `finish()` waits for it at most JOIN_TIMEOUT_S, so
    the process never waits on it forever, and any failure in it is warned about once, by
    `finish()`'s caller on the main thread, never as a thread's traceback."""

    def __init__(self, args: argparse.Namespace, cfg: Config | None) -> None:
        self._args = args
        self._cfg = cfg
        self._thread: Any = None  # a threading.Thread once started
        self._ready: tuple[HistoryConfig | None, Config | None, History | None, str | None] | None = None
        self.started = False

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        import threading  # asyncio has imported it already

        self._thread = threading.Thread(target=self._prepare, name="wsdash-history-open", daemon=True)
        self._thread.start()

    def _prepare(self) -> None:
        db = None
        try:
            hc, cfg, problem = _settings(self._args, self._cfg)
            if hc is not None:
                import wsdash.core.run_values  # noqa: F401 - log_run's next import, paid here

                from wsdash.core.history import HistoryError

                try:
                    db = open_history(hc, keep_wal=True)  # one write, then the process ends
                except HistoryError as exc:
                    problem = str(exc)
            self._ready = (hc, cfg, db, problem)
        except BaseException as exc:  # noqa: BLE001 - anything at all is said once, on the main thread
            if db is not None:
                db.close()
            self._ready = (None, None, None, f"the run history was not written: {type(exc).__name__}: {exc}")

    def finish(self) -> tuple[HistoryConfig | None, Config | None, History | None, str | None]:
        """(settings, config, the open history, what to warn about). Runs what was not started;
        waits for what was, JOIN_TIMEOUT_S at most."""
        if self._thread is None:
            self.started = True
            self._prepare()
        else:
            self._thread.join(JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                return None, None, None, (f"the run history was not written: opening it took over {JOIN_TIMEOUT_S:g} s "
                                          "(another wsdash holding it, or a slow disk)")
        return self._ready or (None, None, None, "the run history was not written: its open ended without a word")

    def discard(self) -> None:
        """The command ends without writing (an error before the run's result): close what was
        opened, waiting a bounded time for the thread."""
        if self.started:
            db = self.finish()[2]
            if db is not None:
                db.close()


def prepare(args: argparse.Namespace, cfg: Config | None) -> PreparedHistory | None:
    """A PreparedHistory for this run, or None when it keeps none (--no-history, or a loaded
    configuration that turns the history off). Cheap: nothing is imported or started."""
    if getattr(args, "no_history", False) or (cfg is not None and not cfg.history.enabled):
        return None
    return PreparedHistory(args, cfg)


def write(hc: HistoryConfig, records: Sequence[RunRecord | TierRecord | Any], history: History | None = None) -> bool:
    """Store the records (a TierRecord is a tier run; anything else a golden-path run: a RunRecord
    or run values in a SimpleNamespace); False (after a warning) when the history cannot be written."""
    from wsdash.core.history import HistoryError

    db = history
    try:
        if db is None:
            db = open_history(hc)
        records_mod = sys.modules.get("wsdash.core.run_record")  # not imported: no TierRecord here (and no 3 ms import to tell)
        for rec in records:
            add = db.add_tier_run if records_mod is not None and isinstance(rec, records_mod.TierRecord) else db.add_run
            add(rec, keep_days=hc.keep_days, max_runs=hc.max_runs)  # type: ignore[arg-type]
        return True
    except HistoryError as exc:
        warn(str(exc))
        return False
    finally:
        if history is None and db is not None:
            db.close()


def target_name(args: argparse.Namespace, cfg: Config | None) -> str | None:
    """The configured target a run went to; None for --url (the history keys it by its URL)."""
    if getattr(args, "url", None) or cfg is None:
        return None
    return getattr(args, "target", None) or cfg.default_target


def log_run(args: argparse.Namespace, result: RunResult, *, source: str = "golden-path", recording: Any = None,
            cfg: Config | None = None, prepared: PreparedHistory | None = None, target: str | None = None) -> None:
    """One golden-path run, as `wsdash golden-path` ran it (`cfg`: the configuration it already
    loaded, not read and parsed a second time; `prepared`: the history it opened during the run;
    `target`: the name to keep it under, when not the configured target's — the demo's)."""
    if prepared is None:
        prepared = prepare(args, cfg)
        if prepared is None:
            return
    hc, cfg, db, problem = prepared.finish()
    if problem:
        warn(problem)
    if hc is None or db is None:
        return
    try:
        from types import SimpleNamespace

        from wsdash.core.run_values import run_values

        # The record's values without the RunRecord class: one process, one write, nothing to read back.
        rec = SimpleNamespace(**run_values(result, target=target or target_name(args, cfg), source=source,
                                           recording=str(recording) if recording else None))
        write(hc, [rec], history=db)
    finally:
        db.close()


def log_tiers(args: argparse.Namespace, specs: Sequence[Any], results: Sequence[Any], *, source: str = "tiers") -> None:
    """Every tier that ran or was blocked (a tier cancelled before its turn ran nothing to keep)."""
    hc, _ = history_config(args)
    if hc is None:
        return
    import time

    from wsdash.core.run_record import TierRecord

    records = []
    end = time.time()  # they ran one after the other: each ended where the next began
    for spec, result in reversed(list(zip(specs, results))):
        if result.started or result.status == "blocked":
            records.append(TierRecord.from_result(result, source=source, requires=tuple(spec.requires), ended_at=end))
        end -= result.duration_s or 0.0
    if records:
        write(hc, records[::-1])
