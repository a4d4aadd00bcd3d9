"""`wsdash web` in a real browser: the dashboard served by textual-serve, read from xterm.js,
driven by keys, with nothing fetched from outside this machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.web.browser import READ_SCREEN, Watched, browser

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    psutil = pytest.importorskip("psutil")
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("textual_serve", reason="the web extra is not installed")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "wsdash", "web", "--port", str(port)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "NO_COLOR": "1"}, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"wsdash web did not start: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.2)
    try:
        yield url
    finally:
        children = descendants(proc.pid)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("wsdash web did not stop on Ctrl+C")
        time.sleep(1.0)
        import psutil

        alive = [p for p in children if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        assert alive == [], f"left behind: {alive}"


def screen_text(page) -> str:
    return page.evaluate("window.__wsdashScreen()")


def wait_for(page, needle: str, timeout: float = 40.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen_text(page)
        if needle in text:
            return text
        time.sleep(0.25)
    raise AssertionError(f"{needle!r} never appeared; the screen:\n{text}")


def test_the_demo_runs_in_a_browser_and_answers_keys(web_server: str, tmp_path: Path) -> None:
    with browser() as b:
        page = b.new_page(viewport={"width": 1400, "height": 900})
        watched = Watched(page)
        page.add_init_script(READ_SCREEN)
        page.goto(web_server)
        wait_for(page, "PASSED")  # the demo's verdict, drawn by the real app in the page's terminal
        page.focus(".xterm-helper-textarea")  # keys reach the app only through xterm's textarea
        page.keyboard.press("p")
        text = wait_for(page, "Chat works end to end")
        assert "The answer is ready" in text
        page.screenshot(path=str(tmp_path / "web-present.png"))
        assert (tmp_path / "web-present.png").stat().st_size > 10_000
        assert watched.off_machine() == []  # a demo works in a room without network
        assert watched.errors == []


def test_binding_beyond_this_machine_warns(tmp_path: Path) -> None:
    pytest.importorskip("textual_serve", reason="the web extra is not installed")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "wsdash", "web", "--host", "0.0.0.0", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        time.sleep(3)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert "no authentication" in err and "0.0.0.0" in err


def test_without_the_web_extra_it_says_what_to_install(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['textual_serve'] = None; sys.modules['textual_serve.server'] = None; "
            "from wsdash.cli import main; raise SystemExit(main(['web']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2
    assert 'pip install "wsdash[web]"' in out.stderr and "Traceback" not in out.stderr


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("textual_serve", reason="the web extra is not installed")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        out = subprocess.run([sys.executable, "-m", "wsdash", "web", "--port", str(s.getsockname()[1])],
                             capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert out.returncode == 2 and "cannot listen on 127.0.0.1:" in out.stderr and "Traceback" not in out.stderr


def test_a_host_that_does_not_resolve_is_named(tmp_path: Path) -> None:
    """--port 0 looks for a free port by binding: its failure said only '[Errno -2] Name or service not known'."""
    pytest.importorskip("textual_serve", reason="the web extra is not installed")
    out = subprocess.run([sys.executable, "-m", "wsdash", "web", "--host", "nonexist.invalid", "--port", "0"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert out.returncode == 2 and "cannot listen on nonexist.invalid" in out.stderr and "Traceback" not in out.stderr, out.stderr


@pytest.mark.parametrize(("tab", "says"), [
    (["nosuchcommand"], "argument COMMAND: invalid choice: 'nosuchcommand'"),
    (["--bogus-flag"], "unrecognized arguments: --bogus-flag"),
    (["replay", "gone.jsonl"], "gone.jsonl does not exist"),
    (["replay", "."], ". is a folder"),
    (["history"], "a tab shows the dashboard: give the dashboard's flags, `demo …` or `replay FILE`, not `history`"),
    (["--target", "nowhere"], "unknown target 'nowhere'"),
    (["demo", "--headless"], "a tab shows the dashboard: leave out --headless"),
    (["--help"], "that prints and ends; a tab shows the dashboard"),
    (["--record", "runs", "replay", "run.jsonl"], "--record does not apply to `wsdash replay`"),
])
def test_a_tab_command_that_cannot_open_the_dashboard_is_refused_before_serving(tmp_path: Path, tab: list[str], says: str) -> None:
    """It started serving, and each browser tab showed the error after loading."""
    pytest.importorskip("textual_serve", reason="the web extra is not installed")
    out = subprocess.run([sys.executable, "-m", "wsdash", "web", "--port", "0", "--", *tab],
                         capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert out.returncode == 2 and f"each tab would run `wsdash {' '.join(tab)}`, but {says}" in out.stderr, out.stderr
    assert "wsdash web on" not in out.stdout


@pytest.mark.parametrize("argv", [["serve", "--host", ""], ["web", "--host", " "], ["serve", "--secret", ""]])
def test_an_empty_host_or_secret_is_refused(tmp_path: Path, argv: list[str]) -> None:
    """serve --host "" bound every interface, on two ports, and printed ws://:PORT/ws; --secret ""
    made one up."""
    out = subprocess.run([sys.executable, "-m", "wsdash", *argv, "--port", "0"], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert out.returncode == 2 and ("expected an address to listen on" in out.stderr or "--secret is empty" in out.stderr), out.stderr
