"""Esc answered when the escape delay is over, not at the input thread's next 100 ms wake-up.

A lone ESC byte may be the Esc key or the start of a key's escape sequence (an arrow is
ESC [ A): the terminal parser waits `ESCDELAY` ms for more bytes before it says "escape".
Textual 8's POSIX input thread only asks the parser about that wait when its `select` times out
(every 100 ms) or more input comes, so Esc — closing help, the inspector, the filter — took
100–200 ms at idle and more mid-burst (bench/ui.py). This driver wakes when the parser's wait
ends instead, and the wait defaults to 50 ms (neovim's `ttimeoutlen`): a terminal writes a key's
whole sequence at once. `ESCDELAY` in the environment still sets it, as for every curses program.

POSIX only: Windows' console input thread (textual/drivers/win32.py) has the same 100 ms wait
and is left as Textual ships it (nothing here can run it). `run_input_thread` is Textual 8.2.8's
(pinned in pyproject) with two changes (the wait; an end of input ends the app); tests/ui/test_input_driver.py notices when the
original changes. The same driver also writes every screen update whole (ui/full_writes.py).
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder
from typing import Any

from textual import constants
from textual._loop import loop_last
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

ESCAPE_DELAY_S = 0.05  # unless ESCDELAY is set
IDLE_WAIT_S = 0.1  # Textual's own select timeout, kept while nothing is pending


def use_escape_delay(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Our default escape delay, unless the person set ESCDELAY (Textual read it at import)."""
    if "ESCDELAY" not in environ:
        constants.ESCAPE_DELAY = ESCAPE_DELAY_S  # type: ignore[misc] # read by the parser on every ESC


def select_timeout(parser: Any, now: float) -> float:
    """How long the input thread may sleep: until the parser's escape wait ends, if one is pending
    (`now` on the parser's clock, textual._time.get_time)."""
    deadline = parser._timeout_time  # Textual's Parser: set while a lone ESC waits for more bytes
    if deadline is None:
        return IDLE_WAIT_S
    return min(IDLE_WAIT_S, max(0.0, deadline - now))


class PromptEscapeDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from wsdash.ui.full_writes import FullWriter

        self._file = FullWriter(self._file)  # no update cut short by a signal (ui/full_writes.py)

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's, with the wait from `select_timeout`)."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)

        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ

        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick

        utf8_decoder = getincrementaldecoder("utf-8")().decode
        decode = utf8_decoder
        read = os.read

        def process_selector_events(selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> bool:
            for last, (_selector_key, mask) in loop_last(selector_events):
                if mask & EVENT_READ:
                    try:
                        data = read(fileno, 1024 * 4)
                    except OSError:  # EIO: the terminal is gone
                        data = b""
                    if not data:  # end of input: see `terminal_gone` (was: `break`, and spin)
                        return False
                    for event in feed(decode(data, final=final and last)):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)
            return True

        try:
            while not self.exit_event.is_set():
                if not process_selector_events(selector.select(select_timeout(parser, get_time()))):  # the changes
                    self.terminal_gone()
                    return
            selector.unregister(self.fileno)
            process_selector_events(selector.select(0.1), final=True)

        finally:
            selector.close()

    def terminal_gone(self) -> None:
        """Input ended: the terminal closed without a SIGHUP reaching us (a session it does not
        control, `setsid`, a multiplexer that only closed the PTY). In raw mode Ctrl+D is a key,
        not an end, and a pipe is refused before the app starts (commands/term.py), so this is the
        terminal gone. Textual read end-of-input again at once, forever: a core at 100 %, and a
        dashboard nobody can see or quit. The app ends as on SIGHUP."""
        self._app.post_message(TerminalGone())


class TerminalGone(Message):
    """Posted by the input thread when the terminal's input ended; the app ends as on SIGHUP."""


def driver_for(default: type) -> type:
    """The driver the app runs with: ours in place of Textual's POSIX driver, anything else as is
    (Windows, the web driver textual-serve names in TEXTUAL_DRIVER, a test's headless driver)."""
    return PromptEscapeDriver if default is LinuxDriver else default
