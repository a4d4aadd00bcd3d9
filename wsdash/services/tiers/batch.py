"""Several tiers in a row: the blocked check against health, cancel between tiers, and the
event stream of the whole run."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, Sequence

from wsdash.services.tiers.events import OnEvent, TierEvent, TierFinished
from wsdash.services.tiers.model import ST_BLOCKED, ST_CANCELLED, TierResult, not_run
from wsdash.services.tiers.runner import DEFAULT_GRACE_S, run_tier
from wsdash.services.tiers.spec import TierSpec

HealthCheck = Callable[[str], Awaitable[tuple[bool, str]]]


# --------------------------------------------------------------------------------------------
# Several tiers


async def _health_of(health: HealthCheck, target: str) -> tuple[bool, str]:
    try:
        ok, why = await health(target)
        return bool(ok), str(why)
    except Exception as exc:  # a failing probe is a reason to block, shown as such
        return False, f"health check failed: {type(exc).__name__}: {exc}"


async def blocked_by(spec: TierSpec, health: HealthCheck | None, cache: dict[str, tuple[bool, str]] | None = None) -> list[tuple[str, str]]:
    """The required targets that are not usable, with why: [] when the tier may run."""
    if health is None or not spec.requires:
        return []
    cache = {} if cache is None else cache
    todo = [t for t in dict.fromkeys(spec.requires) if t not in cache]
    for target, answer in zip(todo, await asyncio.gather(*(_health_of(health, t) for t in todo))):
        cache[target] = answer
    return [(t, cache[t][1]) for t in spec.requires if not cache[t][0]]


async def run_tiers(
    specs: Sequence[TierSpec],
    *,
    on_event: OnEvent | None = None,
    cancel: asyncio.Event | None = None,
    health: HealthCheck | None = None,
    only_nodeids: Mapping[str, Sequence[str] | None] | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    platform: str | None = None,
) -> list[TierResult]:
    """Run tiers one after the other; every tier gets a TierResult (and a TierFinished event).

    A tier whose `requires` names a target that `health(target)` says is not usable is
    `blocked` and runs nothing. health=None checks nothing. After a cancel, the tiers not yet
    started are `cancelled` without running.
    """
    cache: dict[str, tuple[bool, str]] = {}
    results: list[TierResult] = []
    for spec in specs:
        if cancel is not None and cancel.is_set():
            result = not_run(spec, ST_CANCELLED, "not started: the run was cancelled")
        else:
            unusable = await blocked_by(spec, health, cache)
            if unusable:
                why = "; ".join(f"{t}: {reason}" for t, reason in unusable)
                result = not_run(spec, ST_BLOCKED, f"requires {', '.join(t for t, _ in unusable)} — {why}", blocked_by=unusable[0][0])
            else:
                only = (only_nodeids or {}).get(spec.name)
                results.append(await run_tier(spec, on_event=on_event, cancel=cancel, only_nodeids=only or None, grace_s=grace_s, platform=platform))
                continue
        if on_event is not None:
            on_event(TierFinished(spec.name, result))
        results.append(result)
    return results


_END = object()


async def iter_tier_events(specs: Sequence[TierSpec], **kwargs: Any) -> AsyncIterator[TierEvent]:
    """The events of `run_tiers(specs, **kwargs)` as an async iterator (ends after the last).

    Leaving the loop early (break, aclose, task cancelled) stops the run and its processes.
    """
    queue: asyncio.Queue[Any] = asyncio.Queue()
    task = asyncio.create_task(run_tiers(specs, on_event=queue.put_nowait, **kwargs))
    task.add_done_callback(lambda _: queue.put_nowait(_END))
    try:
        while (item := await queue.get()) is not _END:
            yield item
        task.result()  # re-raise a failure of the run itself
    finally:
        if not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
