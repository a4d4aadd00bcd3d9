"""A health checker that raises is a failure of the check, said on the cards it concerns (their
last result is stale) and once as a toast — never silently kept in `last_error`."""

from __future__ import annotations

from typing import Any, Sequence

from tests.ui.helpers import DOCKER_DOWN, STAGING_UP, FixedChecker, probe
from tests.ui.test_flows import until
from tests.ui.test_layout import closed_port
from wsdash.services.health.board import CHECK_FAILED_HINT, HealthBoard, poll
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings


class BreakingChecker(FixedChecker):
    """Answers fixed results until `broken` is set, then raises like a buggy probe round."""

    def __init__(self, results: list[Any]) -> None:
        super().__init__(results)
        self.broken: BaseException | None = None
        self.calls = 0

    async def __call__(self, names: Sequence[str] | None) -> list[Any]:
        self.calls += 1
        if self.broken is not None:
            raise self.broken
        return await super().__call__(names)


async def test_the_board_keeps_a_classified_failure_until_a_newer_result() -> None:
    checker = BreakingChecker([DOCKER_DOWN, STAGING_UP])
    board = HealthBoard(checker)
    told: list[tuple[str, Any]] = []
    board.subscribe_failures(lambda error, names: told.append((error.message, names)))
    await poll(board, 0.001, rounds=1)
    assert board.failure("docker") is None
    checker.broken = RuntimeError("probe table is empty")
    await poll(board, 0.001, rounds=1)
    failure = board.failure("docker")
    assert failure is not None and failure.message == "RuntimeError: probe table is empty" and failure.hint == CHECK_FAILED_HINT
    assert board.failure("staging") is failure  # a round for everything: every card
    assert "its last check failed: RuntimeError: probe table is empty" in board.reason("staging")
    assert told == [("RuntimeError: probe table is empty", None)]
    checker.broken = None
    await board.ensure("staging", max_age_s=0)  # a newer result for staging alone…
    assert board.failure("staging") is None and board.failure("docker") is not None  # …clears only staging
    checker.broken = OSError("no such file: /var/run/docker.sock")
    await board.ensure("docker", max_age_s=0)
    assert board.failure("docker").message.startswith("OSError") and board.failure("staging") is None
    assert told[-1][1] == ("docker",)


async def test_a_health_checker_that_raises_shows_on_its_card_and_as_one_toast() -> None:
    checker = BreakingChecker([probe("docker", "down", hint="start Docker"), probe("local", "up")])
    app = make_app(AppSettings(mode="live", url=f"ws://127.0.0.1:{closed_port()}/ws",
                               health_names=[("docker", "Docker"), ("local", "local")], checker=checker, health_interval_s=0.1))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.health_board.result("local") is not None)
        card = app.screen.query_one("#health-local")
        assert "-up" in card.classes and app.screen.query_one("#still-works").display  # "Docker is down: …"
        checker.broken = RuntimeError("boom in the probe round")
        await until(pilot, lambda: "-check-failed" in card.classes)
        calls = checker.calls
        await until(pilot, lambda: checker.calls >= calls + 3)  # it keeps failing, round after round
        text = card.render().plain
        assert "CHECK FAILED" in text and "last: UP" in text
        assert "check failed: RuntimeError: boom in the probe round — the check broke, not necessarily" in " ".join(text.split())
        assert "-up" not in card.classes  # the stale UP is not shown as current
        assert "-check-failed" in app.screen.query_one("#health-docker").classes
        assert not app.screen.query_one("#still-works").display  # no summary drawn from stale results
        toasts = [n.message for n in app._notifications if "health check failed" in n.message]
        assert toasts == ["the health check failed: RuntimeError: boom in the probe round — " + CHECK_FAILED_HINT]
        checker.broken = None  # fixed: the cards show results again
        await until(pilot, lambda: "-up" in card.classes)
        assert "CHECK FAILED" not in card.render().plain
