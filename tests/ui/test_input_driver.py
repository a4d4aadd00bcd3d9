"""Esc is answered when the escape delay ends, not at Textual's next 100 ms input wake-up
(wsdash/ui/input_driver.py); how fast is measured in bench/ui.py, these say that it works."""

from __future__ import annotations

import hashlib
import inspect
import os
import sys
import time
from pathlib import Path

import pytest
from textual import constants
from textual._xterm_parser import XTermParser

posix_only = pytest.mark.skipif(os.name != "posix", reason="Textual's POSIX driver and a PTY")


@posix_only
def test_the_input_thread_wakes_when_a_lone_esc_has_waited_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual._time import get_time

    from wsdash.ui.input_driver import ESCAPE_DELAY_S, IDLE_WAIT_S, select_timeout

    monkeypatch.setattr(constants, "ESCAPE_DELAY", ESCAPE_DELAY_S)
    parser = XTermParser()
    assert select_timeout(parser, get_time()) == IDLE_WAIT_S  # nothing pending: Textual's own wait
    assert list(parser.feed("\x1b")) == []  # the Esc key, or an arrow's first byte: the parser waits
    now = get_time()
    wait = select_timeout(parser, now)
    assert 0 < wait <= ESCAPE_DELAY_S < IDLE_WAIT_S  # woken when that wait ends, not at the 100 ms tick
    assert select_timeout(parser, now + 10) == 0  # overdue: at once
    time.sleep(wait)
    assert [e.key for e in parser.tick()] == ["escape"]  # what the woken thread then hears
    assert select_timeout(parser, get_time()) == IDLE_WAIT_S


@posix_only
def test_escdelay_in_the_environment_wins_over_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    from wsdash.ui import input_driver

    monkeypatch.setattr(constants, "ESCAPE_DELAY", 0.3)
    input_driver.use_escape_delay({"ESCDELAY": "300"})
    assert constants.ESCAPE_DELAY == 0.3
    input_driver.use_escape_delay({})
    assert constants.ESCAPE_DELAY == input_driver.ESCAPE_DELAY_S


@posix_only
def test_the_driver_replaces_textuals_posix_one_only() -> None:
    from textual.drivers.headless_driver import HeadlessDriver
    from textual.drivers.linux_driver import LinuxDriver

    from wsdash.ui.input_driver import PromptEscapeDriver, driver_for

    assert driver_for(LinuxDriver) is PromptEscapeDriver
    assert driver_for(HeadlessDriver) is HeadlessDriver


@posix_only
def test_the_dashboard_runs_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from wsdash.ui.app import make_app
    from wsdash.ui.input_driver import PromptEscapeDriver
    from wsdash.ui.settings import AppSettings

    monkeypatch.setattr(constants, "ESCAPE_DELAY", constants.ESCAPE_DELAY)  # make_app sets ours: put it back after
    monkeypatch.setattr(constants, "DRIVER", None)
    app = make_app(AppSettings(mode="demo", url="ws://127.0.0.1:9/ws", token_source=lambda: None))
    assert app.driver_class is PromptEscapeDriver


@posix_only
def test_textuals_input_thread_is_the_one_ours_was_copied_from() -> None:
    """PromptEscapeDriver.run_input_thread is Textual 8.2.8's with two changes (the select wait, and
    an end of input that ends the app): when Textual's changes (an upgrade), copy it again and make
    those changes, then update this hash."""
    from textual.drivers.linux_driver import LinuxDriver

    source = inspect.getsource(LinuxDriver.run_input_thread)
    assert hashlib.sha256(source.encode()).hexdigest() == "d796af6d69db337d6fa6bd463984f7d17188d991dbb22f60efb92a8a9619507c"


@posix_only
def test_in_a_real_terminal_esc_closes_help_and_an_arrow_is_still_an_arrow(tmp_path: Path) -> None:
    """`wsdash demo` in a PTY: a lone ESC byte closes the help screen (the driver's timed wake-up
    turned it into the Esc key), and ESC [ A written at once is ↑ (the header says paused), not
    Esc followed by `[` and `A`."""
    from tests.tiers.test_no_orphans import Terminal

    env_home = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    old = {k: os.environ.get(k) for k in env_home}
    os.environ.update(env_home)
    try:
        term = Terminal(["-m", "wsdash", "demo"], tmp_path)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        def after(mark: int, text: str, timeout: float = 30.0) -> int:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if text.encode() in term.output[mark:]:
                    return len(term.output)
                if term.proc.poll() is not None:
                    break
                time.sleep(0.02)
            raise AssertionError(f"{text!r} never appeared after byte {mark}:\n{term.output[mark:].decode(errors='replace')[-1500:]}")

        mark = after(0, "offset", 60)  # the dashboard is up (its stream header)
        time.sleep(0.5)
        mark = len(term.output)
        term.press("?")
        mark = after(mark, "wsdash — keys")
        time.sleep(0.3)
        mark = len(term.output)
        term.press("\x1b")
        after(mark, "offset")  # back on the dashboard: drawn again, stream header and all
        time.sleep(0.3)
        mark = len(term.output)
        term.press("\x1b[A")
        after(mark, "paused")
        term.press("q")
        term.proc.wait(20)
    finally:
        term.close()
    assert term.proc.returncode == 0, sys.stderr
