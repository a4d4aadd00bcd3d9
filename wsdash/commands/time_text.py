"""How the commands write times for a person: one home, so `history`, `watch` and `diff` agree."""

from __future__ import annotations

import time


def ms(value: float | None) -> str:
    """Milliseconds, "1,234 ms"; "—" when there is none."""
    return "—" if value is None else f"{value:,.0f} ms"


def clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def stamp(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def when(at: float | None, today: str = "") -> str:
    """The clock time for today (after `today`, e.g. "today "), else the date and minute; "?" for none."""
    if at is None:
        return "?"
    same_day = time.localtime(at)[:3] == time.localtime()[:3]
    return time.strftime(f"{today}%H:%M:%S" if same_day else "%Y-%m-%d %H:%M", time.localtime(at))
