"""Driving the app under Pilot: the terminal size, waiting for a condition, a live app's settings,
the keys its footer offers."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import SECRET
from wsdash.core.auth import mint_token
from wsdash.services.agent_server import AgentServer
from wsdash.ui.settings import AppSettings

SIZE = (120, 40)


async def until(pilot, condition, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)
    await pilot.pause(0.15)  # one more flush of the screen


def live_settings(server: AgentServer, scenario: str = "golden", **kw: Any) -> AppSettings:
    return AppSettings(mode="demo", url=f"{server.url}?scenario={scenario}", token_source=lambda: mint_token(SECRET),
                       autorun=True, **kw)


def footer_keys(app) -> set[str]:
    from textual.widgets._footer import FooterKey

    return {key.key for key in app.screen.query(FooterKey)}
