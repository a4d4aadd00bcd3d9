"""The card of a target that accepts the WebSocket but ends every run says so (yellow, the cause),
from the runs the dashboard knows — and clears after a run the server finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.ui.test_flows import until
from wsdash.core.auth import mint_token
from wsdash.core.config import Config, HistoryConfig, TargetConfig
from wsdash.core.history import History
from wsdash.core.run_record import RunRecord
from wsdash.services.agent_server import AgentServer
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings


def _target(name: str, server: AgentServer, tmp_path: Path) -> TargetConfig:
    secret = tmp_path / "secret"
    secret.write_text(SECRET, encoding="utf-8")
    return TargetConfig(name=name, ws_url=server.url, secret_file=str(secret))


def _settings(server: AgentServer, tmp_path: Path, history: HistoryConfig | None, **kw) -> AppSettings:  # type: ignore[no-untyped-def]
    cfg = Config(targets={"stg": _target("stg", server, tmp_path)})
    return AppSettings(mode="live", url=server.url, token_source=lambda: mint_token(SECRET), config=cfg,
                       health_names=[("stg", "stg")], target="stg", autorun=True, health_interval_s=60.0,
                       history=history, history_target="stg", **kw)


@pytest.mark.parametrize("with_history", [True, False], ids=["history", "no-history"])
@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_card_turns_yellow_when_the_server_closes_the_run_with_1011(
        server: AgentServer, tmp_path: Path, with_history: bool, size: tuple[int, int]) -> None:
    server.scenario = "close:1011"
    history = HistoryConfig(path=str(tmp_path / "h.sqlite3")) if with_history else None
    app = make_app(_settings(server, tmp_path, history))
    async with app.run_test(size=size) as pilot:
        card = app.screen.query_one("#health-stg")
        await until(pilot, lambda: app.source.results and "-degraded" in card.classes)  # the poll is 60 s: the run asked
        text = " ".join(card.render().plain.split())
        assert "DEGRADED" in text and "accepts connections · last run closed 1011" in text
        assert ("wsdash history --target stg" in text) is with_history  # only where it would list them
        server.scenario = "golden"  # fixed; a connection keeps the scenario it opened with, so reconnect
        await pilot.press("r")
        for _ in range(3):
            await until(pilot, lambda: app.source.status.state == "connected" and app.source.run is None)
            runs = len(app.source.results)
            await pilot.press("g")
            await until(pilot, lambda: len(app.source.results) > runs)
            if app.source.results[-1].ok:
                break
        await until(pilot, lambda: "-up" in card.classes)  # one run the server finished clears it
        assert "last run" not in card.render().plain


async def test_other_targets_take_their_runs_from_the_history(server: AgentServer, tmp_path: Path) -> None:
    """A `wsdash watch` on staging wrote failing runs; the dashboard streams local: staging's card says it."""
    path = tmp_path / "h.sqlite3"
    import time

    with History(path) as db:
        for ago in (90, 60, 30):
            db.add_run(RunRecord(started_at=time.time() - ago, target="other", url="wss://x/ws", source="watch", verdict="failed",
                                 close_code=1011, error_kind="closed", error_hint="check its logs"))
    cfg = Config(targets={"stg": _target("stg", server, tmp_path), "other": _target("other", server, tmp_path)})
    app = make_app(AppSettings(mode="live", url=server.url, token_source=lambda: mint_token(SECRET), config=cfg,
                               health_names=[("stg", "stg"), ("other", "other")], target="stg", health_interval_s=60.0,
                               history=HistoryConfig(path=str(path)), history_target="stg"))
    async with app.run_test(size=(120, 40)) as pilot:
        card = app.screen.query_one("#health-other")
        await until(pilot, lambda: "-degraded" in card.classes)
        assert "last 3 runs closed 1011" in " ".join(card.render().plain.split())
        assert "-up" in app.screen.query_one("#health-stg").classes
