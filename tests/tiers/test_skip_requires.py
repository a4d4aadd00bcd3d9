"""`tiers run --skip-requires` checks no target's health: not the tier's `requires` before it runs,
and not the causes of its skipped tests after (they are said "not checked") — a hanging target
must not hold the report for the probe's 5 s."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.tiers.test_tiers_command import cli, toml_list
from tests.tiers.tiers_support import BASE_ARGS, CHILD_ENV, write_suite


class Hanging:
    """A TCP port that accepts and then says nothing: a probe of it waits for its whole timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def hanging() -> Iterator[Hanging]:
    h = Hanging()
    yield h
    h.close()


def _project(tmp_path: Path, port: int) -> Path:
    suite = write_suite(tmp_path / "suite", {"test_e2e.py": (
        "import pytest\n"
        f"@pytest.mark.skip(reason='cannot reach 127.0.0.1:{port}')\n"
        "def test_needs_the_backend():\n    pass\n"
        "def test_passes():\n    pass\n")})
    cfg = tmp_path / "wsdash.toml"
    cfg.write_text(
        f'default_target = "box"\n[targets.box]\nws_url = "ws://127.0.0.1:{port}/ws"\n[docker]\nrequired = false\n'
        f'[[tiers]]\nname = "e2e"\ntitle = "E2E"\npytest = {toml_list([*BASE_ARGS, "-q"])}\ncwd = {json.dumps(str(suite))}\n'
        f'requires = ["box"]\ntarget = 0.5\n[tiers.env]\nPYTEST_DISABLE_PLUGIN_AUTOLOAD = "{CHILD_ENV["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]}"\n',
        encoding="utf-8")
    return cfg


def test_skip_requires_probes_nothing_and_says_the_skip_cause_not_checked(
        tmp_path: Path, hanging: Hanging, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _project(tmp_path, hanging.port)
    started = time.monotonic()
    code = cli("tiers", "run", "--config", str(cfg), "--json", "--skip-requires", "--no-history")
    spent = time.monotonic() - started
    [tier] = json.loads(capsys.readouterr().out)["tiers"]
    assert code == 0 and tier["status"] == "passed"
    assert hanging.accepted == 0  # no probe connected: neither before (requires) nor after (skip causes)
    [advice] = tier["skips"]["advice"]
    assert advice["state"] == "unknown" and "(not checked)" in advice["text"]
    assert spent < 60  # generous: the point is the connection count above


def test_without_the_flag_the_skip_cause_is_probed(tmp_path: Path, hanging: Hanging, capsys: pytest.CaptureFixture[str]) -> None:
    """The control: the same project without --skip-requires does probe the target (so the test
    above would see a probe if one happened)."""
    cfg = _project(tmp_path, hanging.port)
    cli("tiers", "run", "--config", str(cfg), "--json", "--no-history")
    capsys.readouterr()
    assert hanging.accepted >= 1
