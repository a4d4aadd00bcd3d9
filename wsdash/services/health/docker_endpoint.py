"""Where the Docker daemon is: wsdash's `docker.host`, DOCKER_HOST, a default socket, or the CLI;
and whether a tcp:// address can be dialled at all."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence
from urllib.parse import urlsplit

from wsdash.core.redact import redact_url


def default_sockets(env: Mapping[str, str] | None = None) -> list[str]:
    """Where a daemon's socket usually is: system Docker, Docker Desktop (macOS), rootless."""
    env = os.environ if env is None else env
    paths = ["/var/run/docker.sock", os.path.expanduser("~/.docker/run/docker.sock")]
    if env.get("XDG_RUNTIME_DIR"):
        paths.append(os.path.join(env["XDG_RUNTIME_DIR"], "docker.sock"))
    return paths


@dataclass(frozen=True)
class DockerEndpoint:
    kind: str  # "unix" | "tcp" | "cli"
    address: str  # socket path, http://host:port, or the DOCKER_HOST handed to the CLI ("" = CLI default)
    source: str  # where it came from: "docker.host", "DOCKER_HOST", "default socket", "docker CLI"

    def describe(self) -> str:
        if self.kind == "unix":
            return f"unix://{self.address}"
        if self.kind == "tcp":
            return redact_url(self.address)
        return f"docker CLI ({redact_url(self.address)})" if self.address else "docker CLI"


def resolve_docker_endpoint(host: str | None, env: Mapping[str, str], sockets: Sequence[str], platform: str) -> DockerEndpoint:
    """wsdash's own `docker.host` wins (it is the more specific setting), then DOCKER_HOST, then
    the first existing default socket; anything httpx cannot speak goes to the CLI."""
    for value, source in ((host, "docker.host"), (env.get("DOCKER_HOST"), "DOCKER_HOST")):
        if not value:
            continue
        if value.startswith("unix://") and not platform.startswith("win"):
            # (Windows: AF_UNIX sockets exist, but httpx/anyio cannot open them there; the CLI can.)
            return DockerEndpoint("unix", value[len("unix://"):], source)
        if value.startswith("tcp://") and not env.get("DOCKER_TLS_VERIFY"):
            return DockerEndpoint("tcp", "http://" + value[len("tcp://"):].rstrip("/"), source)
        return DockerEndpoint("cli", value, source)  # npipe://, ssh://, TLS with client certs
    if not platform.startswith("win"):  # Windows: pipes only, which httpx cannot open
        for path in sockets:
            if os.path.exists(path):
                return DockerEndpoint("unix", path, "default socket")
    return DockerEndpoint("cli", "", "docker CLI")


def tcp_address_problem(address: str) -> str | None:
    """Why a tcp:// DOCKER_HOST cannot be dialled (a port past 65535 raised an ExceptionGroup deep in
    httpx, shown as "unknown"), or None."""
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError as exc:
        return f"is not a valid address: {exc}"
    if not parts.hostname:
        return "names no host"
    if port == 0:
        return "names port 0, which no daemon listens on"
    return None
