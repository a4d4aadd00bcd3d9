"""Isolation for the health tests: no user config, no stray DOCKER_HOST/WSDASH_*/proxy settings,
and nothing but loopback and `.invalid` names anywhere."""

from __future__ import annotations

import os
from pathlib import Path
from typing import AsyncIterator

import pytest

from health_fakes import SECRET

from tests.conftest import isolated_dirs

from wsdash.services.agent_server import AgentServer


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in isolated_dirs(tmp_path).items():  # XDG_* and, on Windows, platformdirs' own
        monkeypatch.setenv(var, value)
    monkeypatch.chdir(tmp_path)  # no ./wsdash.toml from the repo or elsewhere
    for var in list(os.environ):
        if var.startswith(("WSDASH_", "DOCKER_")) or var.lower() in (
            "http_proxy", "https_proxy", "all_proxy", "no_proxy", "no_color", "force_color", "jwt_secret_key"
        ):
            monkeypatch.delenv(var, raising=False)


@pytest.fixture
async def agent() -> AsyncIterator[AgentServer]:
    async with AgentServer(host="127.0.0.1", port=0, secret=SECRET) as srv:
        yield srv
