"""`golden-path`'s history write, opened in a thread during the grace (history_log.PreparedHistory):
the run is in the history when the command has exited, the open ran in that thread, no thread
outlives the command, a failing open warns exactly once and keeps the run's exit code, a Ctrl+C
in the grace keeps the run's record, and the command never waits on the thread for ever."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import SECRET
from wsdash.commands import history_log
from wsdash.core.history import History

# `wsdash golden-path ARGS` in a fresh process, reporting on its last line where the history's
# open ran, the exit code, and the threads still alive when the command returned.
PROBE = r"""
import json, sys, threading
from wsdash import cli
from wsdash.commands import history_log
seen = {}
real = history_log.PreparedHistory._prepare
def prepare(self):
    seen.setdefault("opened_in", []).append(threading.current_thread().name)
    return real(self)
history_log.PreparedHistory._prepare = prepare
if sys.argv[1] == "raise":  # a bug, not a HistoryError, inside the thread's open
    def broken(hc, **kwargs):
        raise RuntimeError("disk on fire")
    history_log.open_history = broken
code = cli.main(sys.argv[2:])
seen["code"] = code
seen["left"] = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
print(json.dumps(seen))
"""


def probe(server, scenario: str, *extra: str, how: str = "ok", env: dict[str, str] | None = None) -> tuple[dict, subprocess.CompletedProcess[str]]:
    full = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full.pop("WSDASH_CONFIG", None)
    out = subprocess.run([sys.executable, "-c", PROBE, how, "golden-path", "--url", f"{server.url}?scenario={scenario}",
                          "--secret", SECRET, "--json", *extra], capture_output=True, text=True, env=full, timeout=60, encoding="utf-8")
    assert out.stdout.strip(), out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1]), out


def runs(path: Path) -> list:
    with History(path) as db:
        return db.runs()


def test_with_the_default_grace_the_history_opens_in_the_grace_and_the_run_is_kept(server_thread, private_history: Path) -> None:
    seen, out = probe(server_thread, "golden")
    assert seen["code"] == 0 and out.returncode == 0, out.stderr
    assert seen["opened_in"] == ["wsdash-history-open"]  # started by the outermost agent_completed, not after the run
    assert seen["left"] == []  # no thread outlives the command
    assert "warning" not in out.stderr
    kept = runs(private_history)
    assert [r.verdict for r in kept] == ["passed"] and kept[0].completed


def test_a_run_that_never_completes_opens_the_history_after_it_and_is_kept(server_thread, private_history: Path) -> None:
    seen, out = probe(server_thread, "missing:agent_completed", "--timeout", "2")
    assert seen["code"] == 1 and seen["opened_in"] == ["MainThread"] and seen["left"] == []
    assert [r.verdict for r in runs(private_history)] == ["failed"]


@pytest.mark.parametrize("scenario, code", [("golden", 0), ("missing:agent_thinking", 1)])
def test_a_history_that_cannot_be_opened_in_the_thread_warns_once_and_keeps_the_exit_code(
        server_thread, tmp_path: Path, scenario: str, code: int) -> None:
    bad = tmp_path / "not-a-db.sqlite3"
    bad.write_bytes(b"garbage" * 500)
    seen, out = probe(server_thread, scenario, env={"WSDASH_HISTORY_PATH": str(bad)})
    assert out.returncode == 0 and seen["code"] == code
    assert seen["opened_in"] == ["wsdash-history-open"] and seen["left"] == []
    assert out.stderr.count("warning:") == 1, out.stderr
    assert "cannot open the run history" in out.stderr and "file is not a database" in out.stderr
    assert json.loads(out.stdout.strip().rsplit("\n", 1)[0])["ok"] is (code == 0)


def test_an_unexpected_failure_in_the_thread_is_one_warning_not_a_traceback(server_thread, private_history: Path) -> None:
    seen, out = probe(server_thread, "golden", how="raise")
    assert seen["code"] == 0 and seen["left"] == []
    assert out.stderr.count("warning:") == 1 and "disk on fire" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_in_the_grace_keeps_the_run_and_ends_promptly(server_thread, private_history: Path) -> None:
    """The run is done and the history is being opened in the thread when Ctrl+C comes."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("WSDASH_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "wsdash", "golden-path", "--url", server_thread.url, "--secret", SECRET,
                             "--grace", "60", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 30
    while not private_history.exists() and time.monotonic() < deadline:  # the thread creates it as it opens
        time.sleep(0.01)
    assert private_history.exists(), "the history was not opened in the grace"
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    stdout, stderr = proc.communicate(timeout=20)
    assert time.monotonic() - t0 < 10
    # Judged as the session judges a Ctrl+C there (interrupted or not, by a hair): what it printed is what it kept.
    printed = json.loads(stdout)
    assert proc.returncode in (0, 130) and printed["completed"] is True, stdout + stderr
    assert "warning" not in stderr and "Traceback" not in stderr
    kept = runs(private_history)
    assert len(kept) == 1 and kept[0].completed and (kept[0].verdict == "passed") is printed["ok"]


def test_the_wait_for_the_thread_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(history_log, "JOIN_TIMEOUT_S", 0.3)
    monkeypatch.setattr(history_log, "_settings", lambda args, cfg: release.wait(30) and (None, cfg, None))
    prepared = history_log.PreparedHistory(object(), None)  # type: ignore[arg-type]
    prepared.start()
    t0 = time.monotonic()
    hc, _, db, problem = prepared.finish()
    assert time.monotonic() - t0 < 5
    assert hc is None and db is None and problem is not None and "took over 0.3 s" in problem
    release.set()
