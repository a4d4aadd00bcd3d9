"""The dashboard's health checker, joined to the golden-path runs it knows (services/health/
run_evidence.py): a target that accepts connections but whose runs the server keeps ending shows
yellow, not UP.

The streamed target's runs come from memory (the history strip's feed, which holds the history's
and this session's; without a history, this session's results), the other targets' from the
history file in a thread. A run that just finished asks for a check round at once, so the card
changes with the run, not a poll interval later.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from wsdash.services.health.run_evidence import READ_LIMIT, history_reader


class HealthRuns:
    def __init__(self, settings: Any, source: Callable[[], Any], feed: Any, warn: Callable[[str], None]) -> None:
        self.settings = settings
        self._source = source  # the live session (made on mount, after this)
        self._feed = feed  # RecentRuns of the streamed target, or None without a history
        self._started = time.time()
        self._seen = 0
        history = settings.history
        # A demo's server is new each time: its old runs under "demo" say nothing about this one.
        self._history = (history_reader(history.path, warn) if history is not None and settings.mode != "demo" else None)

    def checker(self) -> Callable[[Sequence[str] | None], Any]:
        from wsdash.services.health.check import run_checks

        s = self.settings
        names = [n for n, _ in s.health_names]

        async def check(only: Sequence[str] | None) -> Any:
            return await run_checks(s.config, only or names, timeout=s.health_timeout_s, recent_runs=self.recent)
        return check

    async def recent(self, names: Sequence[str]) -> dict[str, list[Any]]:
        """On the app's loop (the feed is appended to there): name → recent runs."""
        lead = self.settings.target
        runs: dict[str, list[Any]] = {}
        others = [n for n in names if n != lead]
        if others and self._history is not None:
            runs.update(await self._history(others))
        if lead in names:
            runs[lead] = self._mine()
        return runs

    def _mine(self) -> list[Any]:
        if self.settings.mode == "replay":  # a recording's run happened elsewhere, some other time
            return []
        if self._feed is not None:
            records = list(self._feed.records)
            if self.settings.mode == "demo":
                records = [r for r in records if r.started_at >= self._started]
            return records
        from wsdash.core.run_record import RunRecord

        results = (getattr(self._source(), "results", None) or [])[-READ_LIMIT:]
        now = time.time()  # results carry no wall clock: newest last, a millisecond apart
        records = [RunRecord.from_result(r, target="-", source="dashboard", started_at=now - (len(results) - i) / 1000)
                   for i, r in enumerate(results)]
        for rec in records:
            rec.target = ""  # not kept in a history: nothing for `wsdash history` to list
        return records

    def run_finished(self) -> bool:
        """Whether a golden path ended since the last call (the app then asks for a check round)."""
        if self.settings.mode == "replay":
            return False
        n = len(getattr(self._source(), "results", None) or [])
        finished, self._seen = n > self._seen, n
        return finished
