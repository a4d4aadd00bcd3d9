"""Toasts without a flood: Textual keeps every notification, so the same message within 30 s is
counted ("Docker down ×12") instead of shown again. Everything shown is scrubbed of secrets."""

from __future__ import annotations

import time
from typing import Callable

from wsdash.core.redact import scrub

REPEAT_WINDOW_S = 30.0


class Notifier:
    def __init__(self, notify: Callable[..., None], clock: Callable[[], float] = time.monotonic) -> None:
        self._notify = notify
        self._clock = clock
        self._told: dict[str, tuple[int, float]] = {}

    def tell(self, message: str, *, severity: str = "information", timeout: float = 5) -> None:
        now = self._clock()
        count, last = self._told.get(message, (0, -REPEAT_WINDOW_S - 1))
        repeat = now - last <= REPEAT_WINDOW_S
        self._told[message] = (count + 1, last if repeat else now)
        if repeat:
            return
        suffix = f" (×{count + 1})" if count else ""
        self._notify(scrub(message) + suffix, severity=severity, timeout=timeout, markup=False)
