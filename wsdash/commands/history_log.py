"""Writing runs to the history from the commands: the `[history]` settings, `--no-history`, and a
warning on stderr — never a changed exit code — when the history cannot be written."""

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
    if getattr(args, "no_history", False):
        return None, cfg
    if cfg is None:
        from wsdash.core.config import ConfigError, load_config

        try:
            cfg = load_config(getattr(args, "config", None))
        except ConfigError as exc:
            warn(f"the run history was not written: {exc}")
            return None, None
    return (cfg.history if cfg.history.enabled else None), cfg


def open_history(hc: HistoryConfig) -> History:
    """Raises HistoryError naming the file and the cause."""
    from wsdash.core.history import History

    return History(hc.path)


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
            cfg: Config | None = None) -> None:
    """One golden-path run, as `wsdash golden-path` ran it (`cfg`: the configuration it already
    loaded, not read and parsed a second time)."""
    hc, cfg = history_config(args, cfg)
    if hc is None:
        return
    from types import SimpleNamespace

    from wsdash.core.run_values import run_values

    # The record's values without the RunRecord class: one process, one write, nothing to read back.
    rec = SimpleNamespace(**run_values(result, target=target_name(args, cfg), source=source, recording=str(recording) if recording else None))
    write(hc, [rec])


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
