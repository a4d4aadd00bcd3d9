"""`wsdash demo` leaves no secret behind however it ends (SIGTERM, SIGHUP, SIGINT, kill -9, at start-up
or running): the demo server's secret never touches the disk. And a broken config file stops the
demo with the file, the key and the cause (exit 2), as every other command does."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli

psutil = pytest.importorskip("psutil")

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and PTYs")


def _holding_a_secret(root: Path) -> list[Path]:
    """Files and folders that look like a kept secret: the demo's old /tmp/wsdash-demo-*/secret."""
    return [p for p in root.rglob("*") if "secret" in p.name.lower() or p.name.startswith("wsdash-demo-")]


@posix_only
@pytest.mark.parametrize(("how", "when"), [("SIGTERM", "starting"), ("SIGHUP", "starting"), ("SIGINT", "starting"),
                                           ("SIGKILL", "starting"), ("SIGKILL", "running"), ("SIGTERM", "running")])
def test_a_killed_demo_leaves_no_secret_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, when: str) -> None:
    from tests.tiers.test_no_orphans import Terminal

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # tempfile.gettempdir() of the demo
    term = Terminal(["-m", "wsdash", "demo", "--pace", "0.01"], tmp_path)
    try:
        deadline = time.monotonic() + 60
        wanted = b"PASSED" if when == "running" else b"wsdash"  # its first golden path ran / its first frame
        while wanted not in term.output and time.monotonic() < deadline and term.proc.poll() is None:
            time.sleep(0.05)
        assert wanted in term.output, term.output.decode(errors="replace")[-1500:]
        term.proc.send_signal(getattr(signal, how))
        term.proc.wait(30)
    finally:
        term.close()
    assert not _holding_a_secret(tmp_path), _holding_a_secret(tmp_path)  # TMPDIR, the history, the cwd: nothing
    if how != "SIGKILL":  # ended in order, and says it was interrupted (not 0, as a `q` would)
        assert term.proc.returncode == 130, (how, term.proc.returncode, term.output.decode(errors="replace")[-800:])


@pytest.mark.parametrize("headless", [True, False], ids=["headless", "dashboard"])
def test_demo_refuses_a_broken_config_naming_file_key_and_cause(tmp_path: Path, headless: bool) -> None:
    bad = tmp_path / "wsdash.toml"
    bad.write_text('[targets.local]\nws_url = "ws://127.0.0.1:8002/ws"\nurl = "typo"\n', encoding="utf-8")
    args = ["demo", "--config", str(bad)] + (["--headless"] if headless else [])
    out = run_cli(*args, cwd=tmp_path, timeout=60)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert str(bad) in out.stderr and "url" in out.stderr and "[targets.local]" in out.stderr
    assert "demo agent server on" not in out.stdout  # refused before anything started
    found = run_cli(*args[:1], *(["--headless"] if headless else []), cwd=tmp_path, timeout=60)  # ./wsdash.toml, found not named
    assert found.returncode == 2 and str(bad) in found.stderr


def test_demo_refuses_unparsable_toml(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[targets.local\n", encoding="utf-8")
    out = run_cli("demo", "--headless", "--config", str(bad), cwd=tmp_path, timeout=60)
    assert out.returncode == 2 and str(bad) in out.stderr and "Traceback" not in out.stderr
