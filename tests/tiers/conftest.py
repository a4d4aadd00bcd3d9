"""Isolation for the tier tests: no user config, no user cache, no stray WSDASH_* settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import isolated_dirs


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in isolated_dirs(tmp_path).items():  # XDG_* and, on Windows, platformdirs' own
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("WSDASH_CONFIG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
