"""No process outlives wsdash, whatever ends it: q, Ctrl-C (SIGINT), SIGTERM, SIGHUP (a closed
terminal or an SSH drop: here a real PTY whose master is closed) and kill -9.

Real `python -m wsdash` processes run a generated suite whose test starts a grandchild that
ignores SIGINT, SIGHUP and SIGTERM (a stubborn server a test started), then sleeps. Every
process of the tree (the lifeline, pytest, the grandchild) is taken with psutil while the test
sleeps; after wsdash ends, none may be left.

Signals, PTYs and the lifeline are POSIX: on Windows the tier's Job Object does this job (its
calls are checked in test_tiers_platform.py); the tests that need none of them run everywhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

psutil = pytest.importorskip("psutil")

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, PTYs and the lifeline; Windows relies on the Job Object")

# The grandchild writes its pid, then the test writes pytest's, then sleeps: a test that is
# running, with a descendant only a kill of the whole group can end.
SUITE = '''
import os, subprocess, sys, time

def test_sleeps_with_a_grandchild():
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time\\n"
        "for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM): signal.signal(s, signal.SIG_IGN)\\n"
        "time.sleep(300)"])
    with open("pids.txt", "w") as f:
        f.write(f"{os.getpid()} {child.pid}\\n")
    time.sleep(300)
'''

STARTUP_S = 90  # pytest (and the dashboard) starting on a loaded 2-core machine
GONE_S = 20  # grace (5 s) + kill + reaping, with room to spare


def write_project(tmp_path: Path) -> Path:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (suite / "test_slow.py").write_text(SUITE, encoding="utf-8")
    config = tmp_path / "wsdash.toml"
    # A target nobody listens on (the dashboard keeps reconnecting; nothing leaves 127.0.0.1).
    config.write_text(textwrap.dedent(f"""
        default_target = "local"

        [targets.local]
        ws_url = "ws://127.0.0.1:9/ws"

        [docker]
        required = false

        [[tiers]]
        name = "slow"
        title = "Slow tier"
        pytest = ["-p", "no:cacheprovider", "-q"]
        cwd = {str(suite)!r}
        env = {{ PYTEST_DISABLE_PLUGIN_AUTOLOAD = "1" }}
        timeout_s = 600
    """), encoding="utf-8")
    return config


def wait_for_pids(suite: Path, within_s: float = STARTUP_S) -> tuple[int, int]:
    deadline = time.monotonic() + within_s
    path = suite / "pids.txt"
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.endswith("\n"):
            pytest_pid, grandchild = (int(x) for x in text.split())
            return pytest_pid, grandchild
        time.sleep(0.1)
    raise AssertionError(f"the tier's test never started within {within_s} s")


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def survivors(procs: list[psutil.Process], within_s: float = GONE_S) -> list[str]:
    """The processes still running after `within_s` (described), [] once all are gone."""
    deadline = time.monotonic() + within_s
    while (left := alive(procs)) and time.monotonic() < deadline:
        time.sleep(0.1)
    described = []
    for p in left:
        try:
            described.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.Error:
            pass
    return described


def tree_of(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


@pytest.fixture
def reaper() -> Iterator[list[psutil.Process]]:
    """Processes to kill after the test, passed or not: a failure must not leave them either."""
    procs: list[psutil.Process] = []
    yield procs
    for p in alive(procs):
        try:
            p.kill()
        except psutil.Error:
            pass


def check_tree(wsdash_pid: int, suite: Path, reaper: list[psutil.Process]) -> list[psutil.Process]:
    """The running tier's whole tree, checked to hold what the test expects."""
    pytest_pid, grandchild = wait_for_pids(suite)
    time.sleep(0.3)  # the runner has adopted the tree by now (the lifeline is armed at spawn)
    tree = tree_of(wsdash_pid)
    reaper.extend(tree)
    pids = {p.pid for p in tree}
    assert {pytest_pid, grandchild} <= pids, f"not wsdash's descendants: {pytest_pid}, {grandchild} in {pids}"
    return tree


# --------------------------------------------------------------------------------------------
# A real terminal: wsdash on the slave side of a PTY, as its controlling terminal


class Terminal:
    """wsdash running in a PTY (its controlling terminal); the master side drained in a thread."""

    def __init__(self, argv: list[str], cwd: Path, cols: int = 120, rows: int = 40, controlling: bool = True) -> None:
        import fcntl
        import struct
        import termios

        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        # A new session whose controlling terminal is the PTY, then exec: so closing the master
        # sends SIGHUP exactly as closing a terminal window does.
        # `controlling=False`: a session of its own with no controlling terminal, so closing sends
        # no SIGHUP and wsdash learns only from its input ending (setsid, some multiplexers).
        ctty = "fcntl.ioctl(0, termios.TIOCSCTTY, 0); " if controlling else ""
        launcher = f"import fcntl, os, sys, termios; os.setsid(); {ctty}os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        self.proc = subprocess.Popen([sys.executable, "-c", launcher, *argv], stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env)
        os.close(slave)
        self.output = bytearray()
        self.closed = False
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO once the slave side is gone, EBADF once closed
                return
            if not chunk:
                return
            self.output += chunk

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def hang_up(self) -> None:
        """Close the terminal window: the kernel sends SIGHUP to wsdash."""
        self.closed = True
        os.close(self.master)

    def close(self) -> None:
        if not self.closed:
            self.hang_up()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def run_tier_from_dashboard(term: Terminal, suite: Path) -> None:
    """Press t until the tier's test runs (the first presses may come before the app listens)."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline and not (suite / "pids.txt").exists():
        if term.proc.poll() is not None:
            raise AssertionError(f"wsdash exited ({term.proc.returncode}):\n{term.output.decode(errors='replace')[-2000:]}")
        term.press("t")
        time.sleep(2)


# --------------------------------------------------------------------------------------------
# wsdash tiers run


@posix_only
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"])
def test_tiers_run_leaves_nothing_whatever_signal_ends_it(tmp_path: Path, reaper: list[psutil.Process], sig: str) -> None:
    config = write_project(tmp_path)
    out = open(tmp_path / "out.txt", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "wsdash", "--config", str(config), "tiers", "run"], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
    reaper.append(psutil.Process(proc.pid))
    try:
        tree = check_tree(proc.pid, tmp_path / "suite", reaper)
        proc.send_signal(getattr(signal, sig))
        proc.wait(GONE_S)
    finally:
        out.close()
    left = survivors(tree)
    assert not left, f"{sig} left these running:\n" + "\n".join(left)
    if sig != "SIGKILL":  # it stopped the tier and said so (kill -9 can say nothing)
        text = (tmp_path / "out.txt").read_text(errors="replace")
        assert "cancelled" in text and proc.returncode == 130, text[-1500:]  # interrupted, not "failed" (1)


@posix_only
def test_tiers_run_in_a_closed_terminal_leaves_nothing(tmp_path: Path, reaper: list[psutil.Process]) -> None:
    config = write_project(tmp_path)
    term = Terminal(["-m", "wsdash", "--config", str(config), "tiers", "run", "--junit", str(tmp_path / "junit.xml")], tmp_path)
    reaper.append(psutil.Process(term.proc.pid))
    try:
        tree = check_tree(term.proc.pid, tmp_path / "suite", reaper)
        term.hang_up()
        term.proc.wait(GONE_S)
    finally:
        term.close()
    left = survivors(tree)
    assert not left, "closing the terminal left these running:\n" + "\n".join(left)
    # It went on quietly to its end: the report of the stopped run is on disk.
    assert "cancelled" in (tmp_path / "junit.xml").read_text()


# --------------------------------------------------------------------------------------------
# The dashboard, a tier started with t


@posix_only
@pytest.mark.parametrize("how", ["q", "SIGTERM", "SIGHUP", "SIGINT", "close-terminal", "close-terminal-no-sighup", "SIGKILL"])
def test_dashboard_leaves_nothing_however_it_ends(tmp_path: Path, reaper: list[psutil.Process], how: str) -> None:
    """close-terminal-no-sighup: the terminal closed but no SIGHUP came (wsdash in a session the
    terminal does not control). Its input ended; Textual read that end again forever, a core at
    100 % and a dashboard nobody could see or quit, with its tier still running."""
    config = write_project(tmp_path)
    term = Terminal(["-m", "wsdash", "--config", str(config)], tmp_path, controlling=how != "close-terminal-no-sighup")
    reaper.append(psutil.Process(term.proc.pid))
    try:
        run_tier_from_dashboard(term, tmp_path / "suite")
        tree = check_tree(term.proc.pid, tmp_path / "suite", reaper)
        if how == "q":
            term.press("q")
        elif how.startswith("close-terminal"):
            term.hang_up()
        else:
            term.proc.send_signal(getattr(signal, how))
        term.proc.wait(GONE_S)
    finally:
        term.close()
    left = survivors(tree)
    assert not left, f"{how} left these running:\n" + "\n".join(left)
    if how != "SIGKILL":
        # An orderly exit (not Python dying of the signal, with the lifeline cleaning up): 0 for
        # `q`, 130 when something outside ended it, as every command says "interrupted"...
        assert term.proc.returncode == (0 if how == "q" else 130), (how, term.proc.returncode)
    if how not in ("SIGKILL", "close-terminal", "close-terminal-no-sighup"):
        # ...that gave the terminal back: the alternate screen is left.
        assert b"\x1b[?1049l" in term.output


# --------------------------------------------------------------------------------------------
# The lifeline: what ends the tree when wsdash cannot (kill -9)

# A stand-in for wsdash: starts a tier-like group from a thread that then ends (asyncio spawns
# from whichever thread runs the loop), prints the group's pid, and lives on.
FAKE_WSDASH = """
import subprocess, sys, threading, time
from wsdash.services.tiers.process import ProcessTree

trees = []

def spawn():
    tree = ProcessTree()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], **tree.popen_kwargs())
    tree.adopt(child.pid)
    trees.append(tree)
    print(child.pid, flush=True)

thread = threading.Thread(target=spawn)
thread.start()
thread.join()
time.sleep(300)
"""

# The same with prctl(PR_SET_PDEATHSIG) in the child instead: what the lifeline avoids.
PDEATHSIG_WSDASH = """
import ctypes, signal, subprocess, sys, threading, time

def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG

def spawn():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], preexec_fn=die_with_parent)
    print(child.pid, flush=True)

thread = threading.Thread(target=spawn)
thread.start()
thread.join()
time.sleep(300)
"""


def start_fake(source: str, reaper: list[psutil.Process]) -> tuple[subprocess.Popen[str], psutil.Process]:
    proc = subprocess.Popen([sys.executable, "-c", source], stdout=subprocess.PIPE, text=True)
    reaper.append(psutil.Process(proc.pid))
    assert proc.stdout is not None
    child = psutil.Process(int(proc.stdout.readline()))
    reaper.append(child)
    return proc, child


@posix_only
def test_the_lifeline_outlives_the_spawning_thread_and_fires_on_kill_9(reaper: list[psutil.Process]) -> None:
    fake, child = start_fake(FAKE_WSDASH, reaper)
    tree = tree_of(fake.pid)
    reaper.extend(tree)
    assert any("lifeline.py" in " ".join(p.cmdline()) for p in tree)
    time.sleep(1.0)
    assert alive([child]), "the tree died with the thread that spawned it, though wsdash lives"
    fake.kill()
    fake.wait(10)
    left = survivors(tree)
    assert not left, "kill -9 left these running:\n" + "\n".join(left)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_pdeathsig_follows_the_spawning_thread_which_is_why_wsdash_does_not_use_it(reaper: list[psutil.Process]) -> None:
    """The caveat, for real: the child dies when the *thread* that forked it ends, while its
    parent process lives on (prctl(2): "the parent" is the creating thread)."""
    fake, child = start_fake(PDEATHSIG_WSDASH, reaper)
    assert not survivors([child], within_s=10), "expected: killed when the spawning thread ended"
    assert fake.poll() is None  # ...though the parent process is alive
    fake.kill()
    fake.wait(10)


def test_lifeline_protocol() -> None:
    from wsdash.services.tiers import lifeline

    def fed(data: bytes) -> int | None:
        read, write = os.pipe()
        os.write(write, data)
        os.close(write)  # EOF: what wsdash's death looks like
        try:
            return lifeline.watch(read)
        finally:
            os.close(read)

    assert fed(b"4242\n") == 4242  # armed, then wsdash died: kill the group
    assert fed(b"4242\ndone\n") is None  # the tier ended normally: nothing to kill
    assert fed(b"") is None  # wsdash died before the child existed
    assert fed(b"42") == 42  # a line cut short by the death still counts


async def test_a_tier_ends_with_what_its_tests_left_running(tmp_path: Path) -> None:
    """A test that starts a server and forgets it: when the tier is over, the server is too
    (else it would outlive wsdash, and hold the port for the next run)."""
    from tests.tiers.tiers_support import spec_for, write_suite
    from wsdash.services.tiers.runner import run_tier

    root = write_suite(tmp_path / "s", {"test_forgets.py": """
        import subprocess, sys

        def test_starts_a_server_and_forgets_it():
            child = subprocess.Popen([sys.executable, "-c",
                "import signal, time\\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\\ntime.sleep(300)"])
            with open("server.pid", "w") as f:
                f.write(str(child.pid))
    """})
    result = await run_tier(spec_for(root))
    assert result.status == "passed", result.last_output[-20:]
    server = psutil.Process(int((root / "server.pid").read_text()))
    try:
        assert not survivors([server], within_s=10), "the forgotten server outlived its tier"
    finally:
        if alive([server]):
            server.kill()
