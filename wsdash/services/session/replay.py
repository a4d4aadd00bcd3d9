"""Play a recording into the dashboard at ×1, ×10 or as fast as possible, with pause.

The same judge as a live run (Run), fed from the file with the recorded pauses between frames
divided by the speed. Exposes the same face as LiveSession (store, run, results, status).
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

from wsdash.core.event_store import EventStore
from wsdash.services.session.live import LiveStatus
from wsdash.core.protocol import Event
from wsdash.core.recording import RecordingError, time_of, feed, iter_records, numbered_records
from wsdash.core.judged_run import Run, RunResult

SPEEDS = (1.0, 10.0, math.inf)


def relative_clock(base: float):
    """Seconds since `base` as HH:MM:SS.mmm: a replay shows the recording's own clock."""

    def label(t: float) -> str:
        d = max(0.0, t - base)
        return time.strftime("%H:%M:%S", time.gmtime(d)) + f".{int((d % 1) * 1000):03d}"

    return label


def _first_time(path: Path) -> float:
    try:
        for rec in iter_records(path):
            if "t" in rec:
                return float(rec["t"])
    except RecordingError:
        pass  # playing it will report the problem where the user sees it
    return 0.0
REPLAYING, PAUSED, DONE = "replaying", "paused", "done"


class ReplayPlayer:
    def __init__(self, path: str | Path, store: EventStore | None = None, overrides: dict[str, float] | None = None, speed: float = 1.0) -> None:
        self.path = Path(path)
        self.store = store if store is not None else EventStore()
        self.overrides = overrides  # budgets given on the command line; the rest as recorded
        self.speed = speed
        self.status = LiveStatus(state=REPLAYING)
        self.results: list[RunResult] = []
        self.run: Run | None = None
        self.token_info = None
        self._resume = asyncio.Event()
        self._resume.set()
        self._restart = False
        self._stopped = False
        self._base = _first_time(self.path)
        self.clock = relative_clock(self._base)

    # ---- commands from the UI ---------------------------------------------------------------
    def toggle_pause(self) -> bool:
        """Pause or resume; True when now paused. A finished replay has nothing to pause."""
        if self.status.state == DONE:
            return False
        if self._resume.is_set():
            self._resume.clear()
            self._set(PAUSED)
            return True
        self._resume.set()
        self._set(REPLAYING if self.status.state == PAUSED else self.status.state)
        return False

    def cycle_speed(self) -> float:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 0
        self.speed = SPEEDS[(i + 1) % len(SPEEDS)]
        return self.speed

    def request_run(self, message: str | None = None) -> bool:
        """Play the recording again from the start."""
        self._restart = True
        self._resume.set()
        return True

    def reconnect_now(self) -> None:  # the same face as LiveSession
        pass

    def stop(self) -> None:
        """End the replay (the app quits): no further frame is fed, a paused replay wakes to end."""
        self._stopped = True
        self._resume.set()

    def _set(self, state: str) -> None:
        self.status.state = state
        self.status.since = time.monotonic()

    # ---- playing ----------------------------------------------------------------------------
    async def run_forever(self) -> None:
        while not self._stopped:
            await self._play_once()
            self._set(DONE)
            while not self._restart and not self._stopped:
                await asyncio.sleep(0.1)
            self._restart = False
            self._set(REPLAYING)

    async def _play_once(self) -> None:
        run_no = len(self.results) + 1

        def on_event(event: Event) -> None:
            sent = run.contract.sent_at
            self.store.append(event, event.received - sent if sent is not None else None, run_no)

        run = Run("", None, on_event=on_event)  # the recorded budgets arrive with its start record
        self.run = run
        self.status.runs = run_no
        prev: float | None = None
        last = 0.0
        timed_out = False
        interrupted = None
        count = 0
        for line, rec in numbered_records(self.path):
            if line == 1:
                continue  # the header
            at = time_of(rec, last) or 0.0
            if prev is not None and at > prev and math.isfinite(self.speed):
                await asyncio.sleep((at - prev) / self.speed)
            await self._resume.wait()
            if self._restart or self._stopped:
                self.run = None  # a replay cut short by "from the start" or by quitting is not a verdict
                return
            prev = last = at
            if feed(run, rec, self.overrides, name=str(self.path), line=line):
                timed_out = bool(rec.get("timed_out"))
                interrupted = rec.get("interrupted")  # a Ctrl+C'd run replays as INTERRUPTED, as headless says
                break  # what follows is checked before the dashboard opens (commands/replay.py)
            count += 1
            if count % 256 == 0:
                await asyncio.sleep(0)  # as fast as possible, but keys still answered
        self.results.append(run.finish(last, timed_out=timed_out, interrupted=interrupted))
        self.run = None
