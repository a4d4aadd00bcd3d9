"""Shared fixtures: the embedded agent server on an ephemeral port, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from wsdash.services.agent_server import AgentServer, ServerThread

SECRET = "test-secret-for-wsdash-0123456789abcdef"


@pytest.fixture(autouse=True)
def private_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every `wsdash` it spawns) writes its runs to a history of its own, never
    the user's: platformdirs' user data dir follows XDG_DATA_HOME."""
    data = tmp_path_factory.mktemp("xdg-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.delenv("WSDASH_HISTORY_PATH", raising=False)
    return data / "wsdash" / "history.sqlite3"


@pytest.fixture
async def server() -> AsyncIterator[AgentServer]:
    async with AgentServer(port=0, secret=SECRET) as srv:
        yield srv


@pytest.fixture
def server_thread() -> Iterator[AgentServer]:
    """The server on its own loop, for tests that run the CLI in a subprocess."""
    with ServerThread(secret=SECRET) as srv:
        yield srv


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("WSDASH_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "wsdash", *args],
        capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout, encoding="utf-8",
    )


@pytest.fixture
def cli():
    return run_cli
