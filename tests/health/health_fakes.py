"""Real peers for the health tests: a fake Docker Engine API on a unix socket or TCP, a plain HTTP server,
a self-signed TLS server, a refused port and a blackholed one. All on this machine, nothing mocked
below the socket."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wsdash.core.config import Config, DockerConfig, TargetConfig

SECRET = "s3cret-health-tests-0123456789"

DOCKER_VERSION = {
    "Platform": {"Name": "Docker Engine - Community"},
    "Version": "27.1.1",
    "ApiVersion": "1.46",
    "MinAPIVersion": "1.24",
    "Os": "linux",
    "Arch": "amd64",
    "KernelVersion": "6.8.0",
    "Components": [{"Name": "Engine", "Version": "27.1.1", "Details": {"ApiVersion": "1.46"}}],
}
PODMAN_VERSION = {
    "Platform": {"Name": "linux/amd64/fedora-40"},
    "Version": "5.2.0",
    "ApiVersion": "1.41",
    "MinAPIVersion": "1.24",
    "Os": "linux",
    "Arch": "amd64",
    "Components": [{"Name": "Podman Engine", "Version": "5.2.0", "Details": {"APIVersion": "5.2.0"}}],
}


HAS_UNIX = hasattr(socket, "AF_UNIX") and hasattr(asyncio, "start_unix_server") and os.name == "posix"


@dataclass
class FakeDocker:
    """A tiny HTTP/1.1 server speaking enough of the Engine API for `/_ping`, `/version` (also
    version-prefixed, as the real `docker` CLI asks) — mode: docker | podman | 500 | hang.

    On a unix socket at `path`, or with `path=None` on 127.0.0.1 (DOCKER_HOST=tcp://…), which is
    what Windows has (no AF_UNIX server there). `host` is the DOCKER_HOST value either way."""

    path: str | None = None
    mode: str = "docker"
    requests: list[str] = field(default_factory=list)
    port: int = 0
    _server: asyncio.AbstractServer | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def host(self) -> str:
        return f"unix://{self.path}" if self.path is not None else f"tcp://127.0.0.1:{self.port}"

    async def __aenter__(self) -> "FakeDocker":
        if self.path is not None:
            self._server = await asyncio.start_unix_server(self._serve, path=self.path)
        else:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):  # Server.close_clients() is 3.13+
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].decode()
                method, target, _ = line.split(" ", 2)
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                self.requests.append(f"{method} {target}")
                if self.mode == "hang":
                    await asyncio.sleep(3600)
                status, headers, body = self._answer(method, re.sub(r"^/v[\d.]+", "", target.split("?")[0]))
                hdrs = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                if method == "HEAD":  # the real CLI pings with HEAD first: headers only
                    body_out = b""
                else:
                    body_out = body
                writer.write(f"HTTP/1.1 {status}\r\n{hdrs}Content-Length: {len(body)}\r\n\r\n".encode() + body_out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _answer(self, method: str, path: str) -> tuple[str, dict[str, str], bytes]:
        version = PODMAN_VERSION if self.mode == "podman" else DOCKER_VERSION
        headers = {"Api-Version": version["ApiVersion"], "OSType": "linux", "Docker-Experimental": "false",
                   "Content-Type": "text/plain; charset=utf-8"}
        if self.mode == "podman":
            headers["Libpod-Api-Version"] = "5.2.0"
        if self.mode == "500":
            return "500 Internal Server Error", {"Content-Type": "application/json"}, \
                b'{"message":"containerd is not running"}'
        if path == "/_ping":
            return "200 OK", headers, b"OK"
        if path == "/version":
            return "200 OK", {**headers, "Content-Type": "application/json"}, json.dumps(version).encode()
        return "404 Not Found", {"Content-Type": "application/json"}, b'{"message":"page not found"}'


def fake_docker(tmp_path: Path, mode: str = "docker") -> FakeDocker:
    """The platform's natural transport: a unix socket where there is one, TCP on Windows."""
    return FakeDocker(str(tmp_path / "docker.sock") if HAS_UNIX else None, mode=mode)


# A refused loopback connect takes ~2 s on Windows (it retries the SYN), ~0 elsewhere: any test
# that expects "refused" (not "timeout") gives the probe at least this long.
REFUSE_S = 6.0


def free_port() -> int:
    """A port that was free a moment ago and has nothing listening now: connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Blackhole:
    """A listening socket whose accept queue is full and never drained: further connects get
    no SYN-ACK and hang until the client's timeout — a firewall that drops packets, on loopback."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(0)
        self.port: int = self.server.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(c)

    def close(self) -> None:
        for s in self.fillers:
            s.close()
        self.server.close()


async def plain_http_server(body: dict[str, Any] | None = None, status: int = 200,
                            delay: float = 0.0) -> asyncio.AbstractServer:
    """An HTTP server answering every path (including /ws) with JSON: not a WebSocket."""
    payload = json.dumps(body if body is not None else {"status": "ok"}).encode()
    reason = {200: "OK", 503: "Service Unavailable", 404: "Not Found"}.get(status, "X")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(delay)
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def make_self_signed(directory: Path, days: int = 30) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with the openssl CLI (`cryptography` is not
    installed in this venv)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", str(days), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30)
    return cert, key


async def tls_ws_server(cert: Path, key: Path) -> Any:
    """A WebSocket server behind TLS with the self-signed certificate (accepts anyone)."""
    from websockets.asyncio.server import serve

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def handler(ws: Any) -> None:
        await ws.send(json.dumps({"type": "connection_established", "data": {"connection_id": "c1"}}))
        await ws.wait_closed()

    return await serve(handler, "127.0.0.1", 0, ssl=ctx)


def server_port(server: Any) -> int:
    sockets = server.sockets if hasattr(server, "sockets") else server.server.sockets
    return sockets[0].getsockname()[1]


def can_be_denied() -> bool:
    """chmod 000 stops this process only when it is not root (root ignores file modes)."""
    return hasattr(os, "geteuid") and os.geteuid() != 0


def target_for(srv: Any, name: str = "local", **kw: object) -> TargetConfig:
    """A target pointing at the embedded server; its secret comes from $TEST_SECRET."""
    defaults: dict[str, object] = dict(
        ws_url=srv.url, health_url=srv.http_url + "/health", secret_env="TEST_SECRET", required=True)
    defaults.update(kw)
    return TargetConfig(name=name, **defaults)  # type: ignore[arg-type]


def config_of(*targets: TargetConfig, docker_required: bool = False, docker_host: str | None = None) -> Config:
    return Config(targets={t.name: t for t in targets}, docker=DockerConfig(required=docker_required, host=docker_host),
                  default_target=targets[0].name if targets else "local")
