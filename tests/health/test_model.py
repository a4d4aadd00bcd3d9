"""The health model: folding checks into a status, the board's memory, ensure() and the poller."""

from __future__ import annotations

import asyncio
from typing import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsdash.core.errors import ClassifiedError
from wsdash.services.health.model import DEGRADED, DOWN, SKIPPED, UNKNOWN, UP, CheckResult, ProbeResult, summarize
from wsdash.services.health.board import HealthBoard, poll

REFUSED = ClassifiedError("refused", "Connect call failed", "no service is listening on 127.0.0.1:8002")


def result(name: str, status: str, at: float = 0.0, hint: str = "") -> ProbeResult:
    err = REFUSED if status == DOWN else None
    return ProbeResult(name, status, 1.0, hint or (err.hint if err else ""), [], error=err, at=at)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- summarize ------------------------------------------------------------------------------------
def test_core_failure_is_down_and_its_hint_wins() -> None:
    health_err = ClassifiedError("http", "HTTP 503", "health hint")
    checks = [CheckResult("health", DOWN, 1, health_err), CheckResult("tcp", DOWN, 1, REFUSED)]
    res = summarize("local", checks, 5.0, core=("tcp",))
    assert res.status == DOWN and res.error is REFUSED and res.hint == REFUSED.hint


def test_auxiliary_failure_only_degrades() -> None:
    res = summarize("local", [CheckResult("tcp", UP, 1), CheckResult("health", DOWN, 1, REFUSED)], 2.0, core=("tcp",))
    assert res.status == DEGRADED and res.usable and res.hint == REFUSED.hint


def test_skipped_checks_do_not_spoil_an_up_target() -> None:
    res = summarize("x", [CheckResult("tcp", UP, 1), CheckResult("auth", SKIPPED, None, None, "no token")], 1.0)
    assert res.status == UP
    assert summarize("x", [CheckResult("a", SKIPPED)], 1.0).status == SKIPPED


def test_json_shape() -> None:
    res = summarize("local", [CheckResult("tcp", DOWN, 1.234, REFUSED)], 2.0, core=("tcp",))
    data = res.to_json()
    assert {"name", "status", "latency_ms", "hint", "checks"} <= set(data)
    assert data["checks"][0] == {"name": "tcp", "status": DOWN, "latency_ms": 1.2, "detail": "",
                                 "error": {"kind": "refused", "message": REFUSED.message, "hint": REFUSED.hint}}
    assert summarize("ok", [CheckResult("tcp", UP, 1)], 1.0).to_json()["checks"][0]["error"] is None


# -- the board --------------------------------------------------------------------------------------
def test_status_since_and_reason_follow_transitions() -> None:
    clock = Clock()
    board = HealthBoard(clock=clock)
    assert board.status("staging") == UNKNOWN and not board.usable("staging")
    assert "not been checked" in board.reason("staging")
    board.update(result("staging", UP, at=100.0))
    board.update(result("staging", UP, at=110.0))  # same status: "since" does not move
    assert board.since("staging") == 100.0 and board.usable("staging")
    board.update(result("staging", DOWN, at=120.0))
    clock.now = 120.0 + 185
    assert board.since("staging") == 120.0 and not board.usable("staging")
    reason = board.reason("staging")
    assert reason.startswith("staging is down since ") and "(3m05s ago)" in reason
    assert REFUSED.hint in reason
    board.update(result("staging", DEGRADED, at=130.0, hint="health says degraded"))
    assert board.usable("staging") and board.since("staging") == 130.0


def test_subscribers_hear_every_update_with_the_previous_status() -> None:
    board = HealthBoard()
    seen: list[tuple[str, str | None]] = []
    unsubscribe = board.subscribe(lambda res, prev: seen.append((res.status, prev)))
    board.subscribe(lambda res, prev: 1 / 0)  # a broken subscriber must not break the others
    board.update(result("docker", UP))
    board.update(result("docker", DOWN))
    unsubscribe()
    board.update(result("docker", UP))
    assert seen == [(UP, None), (DOWN, UP)]


class CountingChecker:
    def __init__(self, statuses: dict[str, list[str]], delay: float = 0.0) -> None:
        self.statuses = statuses
        self.delay = delay
        self.calls: list[Sequence[str] | None] = []
        self.running = 0
        self.max_running = 0

    async def __call__(self, names: Sequence[str] | None) -> list[ProbeResult]:
        self.calls.append(names)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await asyncio.sleep(self.delay)
            wanted = names or list(self.statuses)
            return [result(n, self.statuses[n].pop(0) if len(self.statuses[n]) > 1 else self.statuses[n][0],
                           at=asyncio.get_running_loop().time()) for n in wanted]
        finally:
            self.running -= 1


async def test_ensure_checks_when_unknown_and_blocks_a_down_target() -> None:
    checker = CountingChecker({"staging": [DOWN]})
    board = HealthBoard(checker)
    ok, why = await board.ensure("staging")
    assert not ok and why.startswith("staging is down since") and REFUSED.hint in why
    assert checker.calls == [["staging"]]


async def test_ensure_uses_a_fresh_result_without_checking() -> None:
    checker = CountingChecker({"local": [DOWN]})
    clock = Clock(50.0)
    board = HealthBoard(checker, clock=clock, max_age_s=30)
    board.update(result("local", UP, at=40.0))
    assert await board.ensure("local") == (True, board.reason("local"))
    assert checker.calls == []
    clock.now = 75.0  # now stale: ensure checks again
    ok, _ = await board.ensure("local")
    assert not ok and checker.calls == [["local"]]


async def test_concurrent_ensures_share_one_check() -> None:
    checker = CountingChecker({"staging": [UP]}, delay=0.05)
    board = HealthBoard(checker)
    answers = await asyncio.gather(*(board.ensure("staging") for _ in range(5)))
    assert all(ok for ok, _ in answers) and len(checker.calls) == 1


async def test_ensure_waits_until_an_update_brings_the_target_back() -> None:
    board = HealthBoard()
    board.update(result("staging", DOWN))

    async def recover() -> None:
        await asyncio.sleep(0.05)
        board.update(result("staging", UP))

    task = asyncio.create_task(recover())
    ok, why = await board.ensure("staging", wait_s=5)
    await task
    assert ok and why.startswith("staging is up")


async def test_ensure_rechecks_by_itself_while_waiting_and_gives_up_at_wait_s() -> None:
    checker = CountingChecker({"staging": [DOWN, DOWN, UP]})
    board = HealthBoard(checker)
    ok, _ = await board.ensure("staging", wait_s=5, retry_s=0.01)
    assert ok and len(checker.calls) == 3
    stuck = HealthBoard(CountingChecker({"staging": [DOWN]}))
    ok, why = await stuck.ensure("staging", wait_s=0.05, retry_s=0.01)
    assert not ok and "down" in why


async def test_a_broken_checker_is_recorded_not_raised() -> None:
    async def broken(names: Sequence[str] | None) -> list[ProbeResult]:
        raise RuntimeError("boom")

    board = HealthBoard(broken)
    assert (await board.ensure("x"))[0] is False
    assert isinstance(board.last_error, RuntimeError)


# -- the poller -------------------------------------------------------------------------------------
async def test_poll_never_overlaps_rounds_even_when_slower_than_the_interval() -> None:
    checker = CountingChecker({"docker": [UP]}, delay=0.03)
    board = HealthBoard()
    await poll(board, 0.001, checker, rounds=4)
    assert len(checker.calls) == 4 and checker.max_running == 1
    assert board.rounds == 4 and board.status("docker") == UP


async def test_recheck_now_cuts_the_wait_short_and_keeps_polling_after_errors() -> None:
    calls = 0

    async def flaky(names: Sequence[str] | None) -> list[ProbeResult]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("first round fails")
        return [result("docker", UP)]

    board = HealthBoard()
    task = asyncio.create_task(poll(board, 3600, flaky))  # an hour: only recheck_now can wake it
    await asyncio.sleep(0.02)
    assert calls == 1 and isinstance(board.last_error, OSError)
    board.recheck_now()
    for _ in range(100):
        if calls == 2:
            break
        await asyncio.sleep(0.01)
    assert calls == 2 and board.last_error is None and board.usable("docker")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_recheck_during_a_round_runs_one_more_round_right_after() -> None:
    checker = CountingChecker({"docker": [UP]}, delay=0.05)
    board = HealthBoard()
    task = asyncio.create_task(poll(board, 3600, checker))
    await asyncio.sleep(0.01)  # first round in progress
    board.recheck_now()
    board.recheck_now()  # coalesced: one extra round, not two
    await asyncio.sleep(0.2)
    task.cancel()
    assert len(checker.calls) == 2 and checker.max_running == 1


async def test_poll_needs_a_checker() -> None:
    with pytest.raises(ValueError):
        await poll(HealthBoard(), 1.0)


# -- properties -------------------------------------------------------------------------------------
NAMES = ("dns", "tcp", "websocket", "auth", "health", "tls")
checks_st = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from((UP, DOWN, DEGRADED, SKIPPED))), max_size=8)


@given(checks_st)
def test_summarize_invariants(pairs: list[tuple[str, str]]) -> None:
    core = ("dns", "tcp", "websocket", "auth")
    checks = [CheckResult(n, s, 1.0, REFUSED if s in (DOWN, DEGRADED) else None) for n, s in pairs]
    res = summarize("t", checks, 1.0, core=core)
    core_down = any(c.status == DOWN and c.name in core for c in checks)
    assert (res.status == DOWN) == core_down
    if res.status == UP:  # up means nothing failed or degraded anywhere
        assert all(c.status in (UP, SKIPPED) for c in checks)
    if res.status in (DOWN, DEGRADED):
        assert res.error is not None and res.hint == res.error.hint  # never a failure without a hint
