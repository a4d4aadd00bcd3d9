"""The loopback socket the pytest plugin streams its results to, and the plugin's files."""

from __future__ import annotations

import asyncio
import hmac
import importlib.resources
import json
import os
import socket
import time
from contextlib import suppress
from typing import Any, Callable

# Must match pytest_stream/__init__.py (not imported here: it imports pytest).
PLUGIN_MODULE = "wsdash_pytest_stream"  # a name no project under test will have on its path
ENV_ADDR = "WSDASH_TIER_STREAM"
ENV_TOKEN = "WSDASH_TIER_TOKEN"
ENV_ONLY = "WSDASH_TIER_ONLY"
ENV_NO_SKIP = "WSDASH_TIER_NO_SKIP"

_STREAM_LIMIT = 8 * 1024 * 1024  # the plugin truncates its events far below this
POLL_S = 0.01  # how often the socket and the output files are read when they had nothing


class StreamServer:
    """Loopback listener for the plugin's JSON lines; only the first authenticated peer counts.

    Connections are read by polling (see runner.py's module doc), not with asyncio streams.
    """

    def __init__(self, token: str, on_message: Callable[[dict[str, Any]], None], on_error: Callable[[BaseException], None]) -> None:
        self.token = token
        self.on_message = on_message
        self.on_error = on_error
        self.connected = False
        self.done = asyncio.Event()
        self._listener: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        self._listener = listener
        self._spawn(self._accept())
        host, port = listener.getsockname()[:2]
        return f"{host}:{port}"

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._listener is not None
        while True:
            conn, _ = await loop.sock_accept(self._listener)
            conn.setblocking(False)
            self._spawn(self._read(conn))

    async def _read(self, conn: socket.socket) -> None:
        authenticated = False
        buffer = b""
        deadline = time.monotonic() + 10  # for the hello
        try:
            while True:
                try:
                    chunk = conn.recv(1 << 20)
                except (BlockingIOError, InterruptedError):
                    if not authenticated and time.monotonic() > deadline:
                        return
                    await asyncio.sleep(POLL_S)
                    continue
                if not chunk:
                    return
                lines = (buffer + chunk).split(b"\n")
                buffer = lines.pop()
                if len(buffer) > _STREAM_LIMIT:
                    return  # not the plugin talking
                for line in lines:
                    try:
                        message = json.loads(line)
                    except ValueError:
                        if not authenticated:
                            return
                        continue  # a garbled line from an authenticated plugin: skip it
                    if not authenticated:
                        token = str(message.get("token", "")) if isinstance(message, dict) else ""
                        if self.connected or not hmac.compare_digest(token.encode(), self.token.encode()):
                            return
                        self.connected = authenticated = True
                        continue
                    try:
                        self.on_message(message)
                    except Exception as exc:  # a subscriber's bug: the runner re-raises it
                        self.on_error(exc)
                        return
        except OSError:
            pass  # the peer vanished (crash): the results so far stand
        finally:
            conn.close()
            if authenticated:
                self.done.set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with suppress(BaseException):
                await task
        if self._listener is not None:
            self._listener.close()


def plugin_files() -> dict[str, bytes]:
    """The plugin package's modules, name → source: the runner writes them to a directory named
    PLUGIN_MODULE. Read as resources, not imported (the package imports pytest)."""
    package = importlib.resources.files("wsdash.services.tiers").joinpath("pytest_stream")
    return {f.name: f.read_bytes() for f in package.iterdir() if f.name.endswith(".py") and f.is_file()}


def write_plugin(directory: str) -> None:
    """Put the plugin under `directory` (which goes on the child's PYTHONPATH)."""
    package = os.path.join(directory, PLUGIN_MODULE)
    os.makedirs(package, exist_ok=True)
    for name, source in plugin_files().items():
        with open(os.path.join(package, name), "wb") as f:
            f.write(source)

