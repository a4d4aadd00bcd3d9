"""A program in a real pseudo-terminal, watched from outside: what a person would see.

The program runs on the slave side of a PTY (`pty.fork`, a window size set before it starts, TERM
xterm-256color); a thread reads everything it writes and stamps each read with the time it came;
the `pyte` screen emulator turns the bytes into the screen a terminal would show. `press` writes a
key's bytes as a terminal sends them; `wait` replays the reads, in order, into the screen until a
predicate about the screen holds and returns the time of the read that made it hold — the moment
the terminal had the bytes to paint it. Keys therefore include the driver's input parsing (a lone
ESC waits out the escape delay) and the time to render and write the screen, which
`App.run_test()` never does. Nothing is emulated until `wait`, `feed_until` or `drain` asks: a
caller that must not load the CPU while the program is timed (pyte is slow) lets the reads pile up,
with their stamps, and replays them afterwards; `expect_bytes` tells it when to.

POSIX only (`pty`); needs the `bench` extra (`pip install -e ".[bench]"`: pyte).

    with Terminal([sys.executable, "app.py"]) as term:
        term.wait(lambda screen: "Ready" in screen, 10, "the app to start")
        t0 = term.press("?")
        painted = term.wait(lambda screen: "Help" in screen, 5, "the help screen")
        print(painted - t0)
"""

from __future__ import annotations

import collections
import os
import select
import signal
import sys
import threading
import time
from typing import Callable, Sequence

KEYS = {  # what an xterm sends
    "escape": b"\x1b", "enter": b"\r", "tab": b"\t", "up": b"\x1b[A", "down": b"\x1b[B", "right": b"\x1b[C",
    "left": b"\x1b[D", "end": b"\x1b[F", "home": b"\x1b[H", "pageup": b"\x1b[5~", "pagedown": b"\x1b[6~",
}


def available() -> str | None:
    """Why the terminal mode cannot run here, or None when it can."""
    if os.name != "posix":
        return "needs a POSIX pseudo-terminal (pty)"
    try:
        import pyte  # noqa: F401
    except ImportError:
        return 'needs pyte: pip install -e ".[bench]"'
    return None


class Terminal:
    def __init__(self, argv: Sequence[str], cols: int = 120, rows: int = 40, env: dict[str, str] | None = None) -> None:
        import pyte

        self.argv = list(argv)
        self.cols, self.rows = cols, rows
        self.env = {**os.environ, **(env or {}), "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        for name in ("NO_COLOR", "TEXTUAL", "TEXTUAL_DRIVER"):
            self.env.pop(name, None)
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._chunks: collections.deque[tuple[float, bytes]] = collections.deque()
        self._arrived = threading.Event()
        self._eof = False
        self.pid = -1
        self.fd = -1
        self.output_bytes = 0
        self.exit_status: int | None = None
        self._watches: dict[str, Callable[[str], bool]] = {}
        self._needles: list[tuple[bytes, threading.Event]] = []
        self._tail = b""  # the end of the last read: a needle split across two reads is still found
        self.seen: dict[str, float] = {}  # watch name → time of the read that first made it hold

    # ---- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> "Terminal":
        import fcntl
        import pty
        import struct
        import termios

        pid, fd = pty.fork()
        if pid == 0:  # the child: the PTY is its controlling terminal and stdin/stdout/stderr
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
                os.execve(self.argv[0], self.argv, self.env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        threading.Thread(target=self._read, name="pty-reader", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, quit_key: str | None = "q", grace_s: float = 10.0) -> None:
        """Press `quit_key` and let the program exit by itself (so it can clean up, and write a
        profile); SIGTERM after `grace_s`, SIGKILL after as long again."""
        if self.pid > 0 and self.exit_status is None:
            steps = ([("key", quit_key)] if quit_key else []) + [("signal", signal.SIGTERM), ("signal", signal.SIGKILL)]
            for how, what in steps:
                try:
                    if how == "key":
                        self.press(what)  # type: ignore[arg-type]
                    else:
                        os.kill(self.pid, what)  # type: ignore[arg-type]
                except (OSError, ProcessLookupError):
                    pass
                deadline = time.monotonic() + grace_s
                while time.monotonic() < deadline:
                    done, status = os.waitpid(self.pid, os.WNOHANG)
                    if done:
                        self.exit_status = status
                        break
                    time.sleep(0.02)
                if self.exit_status is not None:
                    break
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1

    def _read(self) -> None:
        # Stamps every read as it happens; the (slower) screen emulation runs in the caller's
        # thread, so a busy emulator delays when a paint is *noticed*, never when it is stamped.
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.2)
                if not ready:
                    continue
                data = os.read(self.fd, 1 << 16)
            except (OSError, ValueError):  # EIO once the program has exited; fd closed
                data = b""
            if not data:
                self._eof = True
                self._arrived.set()
                return
            self._chunks.append((time.perf_counter(), data))
            if self._needles:
                seam = self._tail + data
                for needle, found in self._needles:
                    if not found.is_set() and needle in seam:
                        found.set()
                self._tail = seam[-64:]
            self._arrived.set()

    # ---- keys and the screen --------------------------------------------------------------------
    def expect_bytes(self, needle: bytes) -> threading.Event:
        """An event set by the reader thread once `needle` (≤ 64 bytes) appears in what the program
        writes from now on — a hint that something is on screen, found without running the
        emulator (the exact time comes from the screen afterwards: `drain`, `seen`)."""
        found = threading.Event()
        self._needles.append((needle, found))
        return found

    def press(self, key: str) -> float:
        """Write one key as a terminal sends it; returns the time just before the write."""
        data = KEYS.get(key, key.encode())
        t = time.perf_counter()
        os.write(self.fd, data)
        return t

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def watch(self, name: str, predicate: Callable[[str], bool]) -> None:
        """From now on, note in `seen[name]` the time of the first read after which `predicate`
        holds, whatever is being waited for meanwhile."""
        self._watches[name] = predicate

    def _feed(self, at: float, data: bytes) -> str:
        self.output_bytes += len(data)
        self._stream.feed(data)
        text = self.text()
        for name, predicate in self._watches.items():
            if name not in self.seen and predicate(text):
                self.seen[name] = at
        return text

    def wait(self, predicate: Callable[[str], bool], timeout: float, what: str) -> float:
        """Feed what the program wrote, read by read, until `predicate(screen text)` holds; the
        time of the read that made it hold. Raises TimeoutError (with the screen) after `timeout`.
        Only reads from now on count: a screen that already satisfies it waits for the next one."""
        deadline = time.perf_counter() + timeout
        while True:
            while self._chunks:
                at, data = self._chunks.popleft()
                if predicate(self._feed(at, data)):
                    return at
            if self._eof:
                raise RuntimeError(f"the program exited while waiting for {what}:\n{self.text()}")
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}; the screen:\n{self.text()}")
            self._arrived.clear()
            if not self._chunks:
                self._arrived.wait(min(left, 0.5))

    def feed_until(self, t: float) -> None:
        """Feed the reads stamped before `t` (the screen as it was at that moment)."""
        while self._chunks and self._chunks[0][0] < t:
            self._feed(*self._chunks.popleft())

    def drain(self) -> None:
        """Feed whatever has arrived so far (the screen is current up to now)."""
        while self._chunks:
            self._feed(*self._chunks.popleft())


def python_argv(script: str, *args: str) -> list[str]:
    return [sys.executable, script, *args]
