"""The golden-path pane's history strip: the last runs of this target as a row of pass/fail marks
and sparklines of first-event and total time, with p50/p95 — from the run history, so the
morning's runs are there the moment the dashboard opens."""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.widgets import Static

from wsdash.core.run_stats import RecentRuns
from wsdash.ui.widgets.refresh import update_if_changed

BARS = "▁▂▃▄▅▆▇█"
LABEL = 6  # "first " — the three rows' labels, padded alike so their columns line up
SYNC_S = 0.5


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value, scaled between the smallest and largest shown; · for a run that
    never got that far."""
    known = [v for v in values if v is not None]
    if not known:
        return "·" * len(values)
    lo, hi = min(known), max(known)
    span = hi - lo
    return "".join("·" if v is None else BARS[0 if span == 0 else round((v - lo) / span * (len(BARS) - 1))] for v in values)


def _ms(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v / 1000:.1f} s" if v >= 10_000 else f"{v:,.0f} ms"


def strip_text(feed: RecentRuns, width: int) -> Text:
    runs = list(feed.records)
    s = feed.summary()
    rate = f"{s.passed}/{s.runs} passed" if s.runs else "no runs yet"
    suffixes = [
        f"{rate}" + (f" · {feed.note}" if feed.note else ""),
        f"p50 {_ms(s.first_event_ms.p50)} · p95 {_ms(s.first_event_ms.p95)}",
        f"p50 {_ms(s.total_ms.p50)} · p95 {_ms(s.total_ms.p95)}",
    ]
    room = max(4, width - LABEL - max(len(x) for x in suffixes) - 3)
    shown = runs[-room:]
    marks = Text()
    for r in shown:
        marks.append(*(("✓", "green") if r.ok else (("✗", "red") if r.verdict == "failed" else ("○", "red"))))
    first = sparkline([r.first_event_ms for r in shown])
    total = sparkline([r.total_ms if r.completed else None for r in shown])
    pad = "  "
    text = Text()
    text.append("runs  ", "bold")
    text.append_text(marks)
    text.append(pad + suffixes[0], "dim")
    text.append("\nfirst ", "bold")
    text.append(first)
    text.append(pad + suffixes[1], "dim")
    text.append("\ntotal ", "bold")
    text.append(total)
    text.append(pad + suffixes[2], "dim")
    return text


class HistoryStrip(Static):
    """Redraws on its own slow timer, and only when the feed moved or the width changed."""

    def __init__(self, feed: RecentRuns, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.feed = feed
        self._shown: tuple[int, int] | None = None
        self._given_way = False

    def give_way(self, hidden: bool) -> None:
        """Hidden for a while whatever the feed holds (the inspector takes its rows on a short terminal)."""
        if hidden == self._given_way:
            return
        self._given_way = hidden
        self._shown = None
        self.sync()

    def on_mount(self) -> None:
        self.sync()
        self.set_interval(SYNC_S, self.sync)

    def on_resize(self) -> None:
        self.sync()

    def sync(self) -> None:
        width = self.content_region.width or self.size.width
        key = (self.feed.version, width)
        if key == self._shown:
            return
        self._shown = key
        self.display = not self._given_way and bool(self.feed.records or self.feed.note)
        if self.display:
            update_if_changed(self, strip_text(self.feed, width))
