"""The dashboard needs a terminal: it reads keys from standard input and draws on standard error
(POSIX) or standard output (Windows). Started without one — from a script, cron, a CI step, with
`< /dev/null` or `2> log` — it used to draw into the file and spin a whole core on an input at
end-of-file until killed. Now it says which stream is not a terminal and what it is, and exits 2;
`replay` judges the recording headless instead. Real processes, real pipes and PTYs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import isolated_dirs, run_cli

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX PTYs")


def _wsdash(*args: str, cwd: Path, stdin: int | None, stderr: int, stdout: int = subprocess.PIPE,
            timeout: float = 60) -> tuple[int, str, str]:
    env = {**os.environ, **isolated_dirs(cwd), "NO_COLOR": "1", "TERM": "xterm-256color"}
    env.pop("WSDASH_CONFIG", None)
    env.pop("TEXTUAL_DRIVER", None)
    proc = subprocess.run([sys.executable, "-m", "wsdash", *args], stdin=stdin, stdout=stdout, stderr=stderr,
                          cwd=cwd, env=env, timeout=timeout)
    decode = lambda b: (b or b"").decode("utf-8", "replace")  # noqa: E731
    return proc.returncode, decode(proc.stdout), decode(proc.stderr)


def test_the_demo_started_without_a_terminal_names_the_stream_and_ends(tmp_path: Path) -> None:
    rc, out, err = _wsdash("demo", cwd=tmp_path, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert rc == 2, (out, err)
    assert "needs a terminal" in err and "standard input (where it reads keys) is the null device" in err, err
    assert "wsdash demo --headless" in err and "Traceback" not in err


def test_the_dashboard_with_its_input_piped_points_at_the_headless_commands_for_its_target(tmp_path: Path) -> None:
    (tmp_path / "wsdash.toml").write_text('[targets.staging]\nws_url = "ws://127.0.0.1:9/ws"\n', encoding="utf-8")
    rc, out, err = _wsdash("--target", "staging", cwd=tmp_path, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert rc == 2, (out, err)
    assert "standard input (where it reads keys) is a pipe" in err, err
    assert "wsdash golden-path --target staging" in err and "wsdash watch --target staging" in err


def test_a_bad_scenario_is_said_before_the_missing_terminal(tmp_path: Path) -> None:
    rc, _, err = _wsdash("demo", "--scenario", "nope", cwd=tmp_path, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert rc == 2 and "unknown scenario 'nope'" in err and "terminal" not in err, err


@posix_only
def test_keys_from_a_terminal_but_the_screen_redirected_to_a_file_names_standard_error(tmp_path: Path) -> None:
    master, slave = os.openpty()
    log = tmp_path / "err.log"
    try:
        with log.open("wb") as f:
            rc, out, _ = _wsdash("demo", cwd=tmp_path, stdin=slave, stderr=f.fileno())
    finally:
        os.close(slave)
        os.close(master)
    err = log.read_text(encoding="utf-8")
    assert rc == 2, (out, err)
    assert "standard error (where it draws) is a file" in err and "\x1b[" not in err, err  # a message, not a screen


@posix_only
def test_replay_on_a_terminal_with_no_keys_to_read_judges_the_recording_headless(tmp_path: Path) -> None:
    rec = tmp_path / "demo.jsonl"
    live = run_cli("demo", "--headless", "--pace", "0", "--record", str(rec), cwd=tmp_path)
    assert live.returncode == 0, live.stderr
    master, slave = os.openpty()
    chunks: list[bytes] = []
    proc = None
    try:
        proc = subprocess.Popen([sys.executable, "-m", "wsdash", "replay", str(rec)], stdin=subprocess.DEVNULL,
                                stdout=slave, stderr=slave, cwd=tmp_path,
                                env={**os.environ, **isolated_dirs(tmp_path), "NO_COLOR": "1", "TERM": "xterm-256color"})
        os.close(slave)
        slave = -1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the slave side closed, the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        rc = proc.wait(30)
    finally:
        if proc is not None and proc.poll() is None:  # a dashboard opened after all: not left spinning
            proc.kill()
            proc.wait(10)
        if slave >= 0:
            os.close(slave)
        os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert rc == 0 and "PASSED" in text and "\x1b[?1049h" not in text, text[-2000:]  # the verdict, no full screen


def test_windows_asks_for_its_console_on_standard_input_and_output_and_names_mintty_pipes(tmp_path: Path) -> None:
    """On Windows the console driver draws on standard output (not error), and a pipe for input is
    what Git Bash's mintty gives a program: the message says how to get a console there."""
    code = ("import sys; from wsdash.commands.term import dashboard_terminal_problem as p; "
            "asked = []; print(p(platform='win32', environ={}, console=lambda fd: asked.append(fd) or fd != 0)); "
            "print(p(platform='win32', environ={}, console=lambda fd: fd != 1)); print(asked)")
    proc = subprocess.run([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    first, second, asked = proc.stdout.splitlines()
    assert first.startswith("standard input (where it reads keys) is a pipe") and "winpty wsdash" in first, proc.stdout
    assert second.startswith("standard output (where it draws) is a pipe"), proc.stdout  # stdout: this test's pipe
    assert asked == "[0]"  # stops at the first stream that is not a console


def test_the_web_driver_needs_no_terminal() -> None:
    from wsdash.commands.term import dashboard_terminal_problem

    assert dashboard_terminal_problem(environ={"TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver"},
                                      console=lambda fd: False) is None
    assert dashboard_terminal_problem(environ={}, console=lambda fd: True) is None


@pytest.mark.skipif(sys.platform != "win32", reason="the Windows console API")
def test_windows_null_device_is_no_console_though_isatty_says_it_is() -> None:
    from wsdash.commands.term import _console

    fd = os.open("NUL", os.O_RDONLY)
    try:
        assert os.isatty(fd)  # the C runtime's answer for any character device (bpo-28654)
        assert not _console(fd)
    finally:
        os.close(fd)
