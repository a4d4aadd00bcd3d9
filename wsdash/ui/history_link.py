"""The dashboard and the run history: every golden path and tier run it finishes is written (off
the UI thread), the strip's feed is loaded when it opens; and `w`'s auto-run.

Runs are picked up by a slow poll of what the live session and the tier board already keep
(`results`, each tier's `result`), not by a per-frame listener: nothing is added to the hot path.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from wsdash.core.run_stats import RecentRuns

TICK_S = 0.5
STRIP_RUNS = 100


class HistoryLink:
    def __init__(self, settings: Any, run_worker: Callable[..., Any], tell: Callable[..., None]) -> None:
        self.hc = settings.history
        self.target = settings.history_target
        self.source_name = settings.mode if settings.mode == "demo" else "dashboard"
        self.feed = RecentRuns(self.target, keep=STRIP_RUNS)
        self._run_worker = run_worker
        self._tell = tell
        self._seen_runs = 0
        self._seen_tiers: dict[str, Any] = {}

    def load(self) -> list[Any] | None:
        """In a thread: this target's last runs, oldest first, for the strip (`feed.load` them on
        the UI thread)."""
        from wsdash.core.history import History, HistoryError

        try:
            with History(self.hc.path) as db:
                return db.runs(self.target, limit=STRIP_RUNS)[::-1]
        except HistoryError as exc:
            self._warn(str(exc))
            return None

    def collect(self, source: Any, tier_pane: Any) -> list[Any]:
        """The runs finished since the last look, as history records (the strip gets them now)."""
        from wsdash.core.run_record import RunRecord, TierRecord

        records: list[Any] = []
        results = getattr(source, "results", None) or []
        for result in results[self._seen_runs:]:
            recording = source.last_recording if result is results[-1] else None
            rec = RunRecord.from_result(result, target=self.target, source=self.source_name, recording=recording)
            self.feed.add(rec)
            records.append(rec)
        self._seen_runs = len(results)
        if tier_pane is not None:
            for name, st in tier_pane.board.states.items():
                result = st.result
                if result is not None and self._seen_tiers.get(name) is not result:
                    self._seen_tiers[name] = result
                    if result.started or result.status == "blocked":
                        records.append(TierRecord.from_result(result, source=self.source_name, requires=tuple(st.spec.requires)))
        return records

    def tick(self, source: Any, tier_pane: Any) -> None:
        records = self.collect(source, tier_pane)
        if records:
            self._run_worker(lambda: self.write(records), thread=True, name="history", group="history", exit_on_error=False)

    def write(self, records: list[Any]) -> None:
        from wsdash.core.history import History, HistoryError
        from wsdash.core.run_record import RunRecord

        try:
            with History(self.hc.path) as db:
                for rec in records:
                    add = db.add_run if isinstance(rec, RunRecord) else db.add_tier_run
                    add(rec, keep_days=self.hc.keep_days, max_runs=self.hc.max_runs)
        except HistoryError as exc:
            self._warn(str(exc))

    def _warn(self, message: str) -> None:
        try:  # from a worker thread
            self._tell(f"run history: {message}", severity="warning", timeout=8)
        except RuntimeError:  # quitting (the app's loop is gone) or on the UI thread itself: stderr would garble the screen
            pass


class AutoRun:
    """`w`: a golden path every `every_s` while connected — never two at once (a run still going
    when the next is due delays it), and none queued while disconnected."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self.on = False
        self._due = 0.0

    def toggle(self) -> bool:
        self.on = not self.on
        self._due = time.monotonic()  # the first one now
        return self.on

    def tick(self, source: Any) -> None:
        if not self.on or time.monotonic() < self._due:
            return
        from wsdash.services.session.live import CONNECTED

        if source.status.state == CONNECTED and source.run is None and source.request_run():
            self._due = time.monotonic() + self.every_s

    @property
    def note(self) -> str:
        return f"auto-run every {self.every_s:g} s" if self.on else ""
