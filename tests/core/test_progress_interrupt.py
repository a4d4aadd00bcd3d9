"""Headless golden-path for a person at a terminal: checkpoints as they arrive (stderr, a real PTY),
and Ctrl+C (a real SIGINT to a real process) prints the partial verdict and exits 130."""

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

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX PTY and SIGINT to a child process")


class Terminal:
    """`wsdash …` with stderr on a pseudo-terminal (what a person sees) and stdout on a pipe."""

    def __init__(self, *args: str, ignore_sigint: bool = False) -> None:
        import pty

        master, slave = pty.openpty()
        env = {**os.environ, "NO_COLOR": "1"}
        env.pop("WSDASH_CONFIG", None)
        # ignore_sigint: started as a script's background job is (SIGINT ignored from the start)
        self.proc = subprocess.Popen([sys.executable, "-m", "wsdash", *args], stdout=subprocess.PIPE,
                                     stderr=slave, stdin=subprocess.DEVNULL, env=env,
                                     preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None)
        os.close(slave)
        self.master = master
        self.seen: list[tuple[float, str]] = []  # (arrival, text) of everything the terminal got
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:  # EIO: the child closed its side
                return
            if not data:
                return
            with self._lock:
                self.seen.append((time.monotonic(), data.decode("utf-8", "replace")))

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(t for _, t in self.seen)

    def wait_for(self, text: str, timeout: float = 30) -> float:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.text:
                return time.monotonic()
            if self.proc.poll() is not None and text not in self.text:
                time.sleep(0.2)
                if text in self.text:
                    return time.monotonic()
                break
            time.sleep(0.02)
        raise AssertionError(f"{text!r} never reached the terminal; it got: {self.text!r}")

    def finish(self, timeout: float = 30) -> tuple[int, str]:
        out, _ = self.proc.communicate(timeout=timeout)
        self._reader.join(5)
        os.close(self.master)
        return self.proc.returncode, out.decode("utf-8")


def test_checkpoints_reach_the_terminal_as_they_arrive_and_json_stays_clean(server_thread) -> None:
    # 0.4 s between events: agent_started must show well before the run ends.
    term = Terminal("golden-path", "--url", server_thread.url + "?pace=0.4", "--secret", SECRET, "--json")
    started = term.wait_for("agent_started")
    completed = term.wait_for("agent_completed")
    code, out = term.finish()
    assert code == 0
    assert completed - started > 0.8  # shown one by one, not all at the end
    assert json.loads(out)["ok"] is True  # stdout: the one object, nothing else
    for name in ("connected in", "agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"):
        assert name in term.text


def test_no_progress_when_stderr_is_not_a_terminal(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url, "--secret", SECRET, "--json")
    assert out.returncode == 0 and out.stderr == ""


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGHUP", "SIGTERM-with-SIGINT-ignored"])
def test_ctrl_c_prints_the_partial_verdict_and_exits_130(server_thread, how: str) -> None:
    # stall: four events, then silence until the 30 s timeout. Ctrl+C after tool_completed; SIGTERM
    # (a CI runner's timeout) and SIGHUP (a closed terminal) end it the same way, also where SIGINT
    # is ignored (a script's background job).
    term = Terminal("golden-path", "--url", server_thread.url + "?scenario=stall&pace=0.1", "--secret", SECRET,
                    ignore_sigint=how.endswith("ignored"))
    term.wait_for("tool_completed")
    term.proc.send_signal(getattr(signal, how.split("-")[0]))
    t0 = time.monotonic()
    code, out = term.finish(timeout=15)
    assert code == 130 and time.monotonic() - t0 < 10
    assert "INTERRUPTED" in out and "while waiting for agent events" in out
    assert "✓ agent_started" in out and "✓ tool_completed" in out  # what arrived
    assert "✗ agent_completed  never came" in out  # what never came
    assert "Traceback" not in term.text and "Traceback" not in out


def test_ctrl_c_with_json_prints_the_partial_object(server_thread, tmp_path: Path, cli) -> None:
    rec = tmp_path / "cut.jsonl"
    term = Terminal("golden-path", "--url", server_thread.url + "?scenario=stall&pace=0.1", "--secret", SECRET,
                    "--json", "--record", str(rec))
    term.wait_for("tool_completed")
    term.proc.send_signal(signal.SIGINT)
    code, out = term.finish(timeout=15)
    data = json.loads(out)  # one object, parseable
    assert code == 130
    assert data["interrupted"] is True and data["interrupted_in"] == "run" and data["ok"] is False
    assert data["checkpoints"]["tool_completed"] is not None and data["checkpoints"]["agent_completed"] is None
    assert ("missing", "agent_completed") in [(v["code"], v["event"]) for v in data["violations"]]
    # The recording ends like the run did: its replay prints the same partial verdict.
    replayed = cli("replay", str(rec), "--headless", "--json")
    assert replayed.returncode == 130 and json.loads(replayed.stdout) == data


def test_ctrl_c_while_connecting_names_the_phase() -> None:
    import socket

    lsock = socket.socket()  # accepts TCP, never answers the upgrade
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    try:
        port = lsock.getsockname()[1]
        term = Terminal("golden-path", "--url", f"ws://127.0.0.1:{port}/ws", "--json")
        term.wait_for("connecting to")
        time.sleep(1.0)  # well into the upgrade wait (10 s)
        term.proc.send_signal(signal.SIGINT)
        code, out = term.finish(timeout=15)
    finally:
        lsock.close()
    data = json.loads(out)
    assert code == 130 and data["interrupted_in"] == "upgrade" and data["error"] is None
    assert data["timings"]["address"] == f"127.0.0.1:{port}" and "tcp_ms" in data["timings"]["phases"]
