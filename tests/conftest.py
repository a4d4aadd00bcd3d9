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
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", str(data))  # Windows ignores XDG_* (see isolated_dirs)
    monkeypatch.delenv("WSDASH_HISTORY_PATH", raising=False)
    return data / "wsdash" / "history.sqlite3"


def isolated_dirs(root: Path) -> dict[str, str]:
    """Environment that points every user directory platformdirs gives wsdash (config, cache,
    state) into `root`: XDG_* on Linux, and on Windows WIN_PD_OVERRIDE_* (platformdirs >= 4.8),
    since there platformdirs asks the shell's known folders and ignores XDG_* and %APPDATA%."""
    return {
        "XDG_CONFIG_HOME": str(root / "xdg-config"),
        "XDG_CACHE_HOME": str(root / "xdg-cache"),
        "XDG_STATE_HOME": str(root / "xdg-state"),
        "WIN_PD_OVERRIDE_LOCAL_APPDATA": str(root / "local-appdata"),
        "WIN_PD_OVERRIDE_APPDATA": str(root / "appdata"),
    }


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


def sigterm_mid_run(proc: subprocess.Popen[str], folder: Path, timeout: float = 60) -> tuple[str, str]:
    """SIGTERM `proc` once a recording in `folder` holds its run's first agent event (a stalled run
    stays there), then its (stdout, stderr). Killed if it does not end."""
    import signal
    import time

    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if folder.is_dir() and any("agent_started" in f.read_text(encoding="utf-8") for f in folder.glob("*.jsonl")):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        return proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
