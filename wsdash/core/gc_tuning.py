"""Garbage-collector settings for the processes that take a burst — the dashboard and its stream
worker — measured in bench/ui.py.

Process-wide: `restore` puts back what `tune_for_bursts` changed, so another app in the same
process (the tests run many) starts afresh.
"""

from __future__ import annotations

import gc


def freeze_imports() -> None:
    """What the imports built (~200k objects: Textual, rich, our modules) lives as long as the
    process: out of the collector's sight, each collection before the first frame stays short."""
    gc.freeze()


def tune_for_bursts() -> tuple[int, ...]:
    """Once what lives as long as the process is built (the dashboard's widget tree, the worker's
    session). Returns the threshold to restore.

    Freezing the tree keeps full collections short during a burst (60–180 ms each before,
    10–40 ms after). Every frame of a burst leaves a row in the ring for a while: at the default
    young threshold (700) that meant ~400 collections per 100k frames, 250–450 ms in all; at 5000,
    ~25 and ~120 ms, each still under 10 ms. In the stream worker, whose ring holds tuples of text
    the collector stops tracking, it took another ~10 % off a burst's time."""
    gc.collect()
    gc.freeze()
    previous = gc.get_threshold()
    gc.set_threshold(5000, 10, 10)
    return previous


def restore(previous: tuple[int, ...] | None) -> None:
    gc.unfreeze()
    if previous is not None:
        gc.set_threshold(*previous)
