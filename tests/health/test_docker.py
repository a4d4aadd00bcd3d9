"""The Docker probe against a fake Engine API on a real unix socket (or TCP, as on Windows), and the
real `docker` CLI (or small stand-in scripts) as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import shutil
import socket
import stat
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from health_fakes import HAS_UNIX, REFUSE_S, FakeDocker, can_be_denied, fake_docker

from wsdash.services.health.docker import (
    CLI_MISSING, DAEMON_DOWN, DockerEndpoint, _api_error, cli_error, probe_docker, resolve_docker_endpoint,
)
from wsdash.services.health.model import DOWN, UP

NO_CLI = "/nonexistent/docker"  # makes sure no test falls back to a CLI by accident
unix_only = pytest.mark.skipif(not HAS_UNIX, reason="unix sockets: the default-socket discovery is POSIX's (Windows uses pipes; TCP twins below)")


def sock_path(tmp_path: Path) -> str:
    return str(tmp_path / "docker.sock")  # short enough for AF_UNIX's ~108-byte limit


@unix_only
async def test_up_reports_versions_and_uses_only_the_socket(tmp_path: Path) -> None:
    async with FakeDocker(sock_path(tmp_path)) as fake:
        res = await probe_docker(sockets=[fake.path], env={}, cli=NO_CLI)
    assert res.status == UP and res.error is None
    assert res.facts["engine"] == "docker"
    assert (res.facts["server_version"], res.facts["api_version"], res.facts["os"]) == ("27.1.1", "1.46", "linux")
    assert res.facts["endpoint"] == f"unix://{fake.path}" and res.facts["endpoint_source"] == "default socket"
    assert res.detail.startswith("Docker 27.1.1 · API 1.46 · linux/amd64")
    assert fake.requests == ["GET /_ping", "GET /version"]
    assert [c.name for c in res.checks] == ["ping", "version"]


@pytest.mark.parametrize("platform", ["linux", "win32"])
async def test_up_over_tcp_as_on_windows(platform: str) -> None:
    """DOCKER_HOST=tcp://… is the Engine API over httpx on every OS (Docker Desktop's "expose the
    daemon on tcp://localhost:2375", and this suite's fake engine on Windows)."""
    async with FakeDocker(mode="docker") as fake:
        res = await probe_docker(env={"DOCKER_HOST": fake.host}, sockets=[], cli=NO_CLI, platform=platform)
    assert res.status == UP and res.facts["server_version"] == "27.1.1", res.to_json()
    assert res.facts["endpoint"] == f"http://127.0.0.1:{fake.port}" and res.facts["endpoint_source"] == "DOCKER_HOST"
    assert fake.requests == ["GET /_ping", "GET /version"]


async def test_podman_is_recognised_by_its_ping_header(tmp_path: Path) -> None:
    async with fake_docker(tmp_path, mode="podman") as fake:
        res = await probe_docker(env={"DOCKER_HOST": fake.host}, sockets=[], cli=NO_CLI)
    assert res.status == UP
    assert res.facts["engine"] == "podman" and res.facts["libpod_api_version"] == "5.2.0"
    assert res.detail.startswith("Podman 5.2.0")
    assert res.facts["endpoint_source"] == "DOCKER_HOST"


async def test_daemon_answering_500_is_down_with_a_restart_hint(tmp_path: Path) -> None:
    async with fake_docker(tmp_path, mode="500") as fake:
        res = await probe_docker(env={"DOCKER_HOST": fake.host}, sockets=[], cli=NO_CLI)
    assert res.status == DOWN
    assert res.error is not None and res.error.kind == "http" and res.error.code == 500
    assert "containerd is not running" in res.error.message
    assert "restart Docker" in res.hint and "wsdash demo" in res.hint and "staging" not in res.hint
    assert res.facts["state"] == "unhealthy"


async def test_hung_daemon_times_out(tmp_path: Path) -> None:
    async with fake_docker(tmp_path, mode="hang") as fake:
        res = await probe_docker(env={"DOCKER_HOST": fake.host}, sockets=[], cli=NO_CLI, timeout=0.2)
    assert res.status == DOWN and res.error is not None and res.error.kind == "timeout"
    assert res.facts["state"] == "timeout"


@unix_only
async def test_configured_socket_missing_means_daemon_down(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.sock")
    res = await probe_docker(host=f"unix://{missing}", env={}, sockets=[], cli=NO_CLI, platform="linux")
    assert res.status == DOWN and res.error is not None and res.error.kind == DAEMON_DOWN
    assert "systemctl start docker" in res.hint and "wsdash demo" in res.hint and "staging" not in res.hint and "docker.host" in res.hint
    assert res.facts["state"] == "daemon_down"


@unix_only
async def test_stale_socket_file_without_a_daemon_is_daemon_down(tmp_path: Path) -> None:
    path = sock_path(tmp_path)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)  # the file exists, nobody listens: what a crashed daemon leaves behind
    s.close()
    res = await probe_docker(sockets=[path], env={}, cli=NO_CLI, platform="darwin")
    assert res.status == DOWN and res.error is not None and res.error.kind == DAEMON_DOWN
    assert res.hint.startswith("Docker Desktop is not running")


@unix_only
async def test_permission_denied_on_the_socket_non_root(tmp_path: Path) -> None:
    if not can_be_denied():
        pytest.skip("running as root: chmod does not deny root; see the forked variant below")
    async with FakeDocker(sock_path(tmp_path)) as fake:
        os.chmod(fake.path, 0)
        res = await probe_docker(sockets=[fake.path], env={}, cli=NO_CLI, platform="linux")
    assert res.error is not None and res.error.kind == "permission"
    assert "usermod -aG docker" in res.hint


def test_permission_denied_on_the_socket_as_another_user() -> None:
    """As root, fork a child that drops to `nobody` and probes a root-only socket: the kernel
    itself says EACCES, exactly like a user outside the docker group."""
    if not hasattr(os, "fork") or os.geteuid() != 0:
        pytest.skip("needs root to switch users (the non-root variant covers the other case)")
    asyncio.run(probe_docker(sockets=["/nonexistent.sock"], env={}, cli=NO_CLI))  # warm imports
    directory = tempfile.mkdtemp(prefix="wsdash-perm-", dir="/tmp")
    os.chmod(directory, 0o755)  # traversable by anyone: only the socket's own mode denies
    path = os.path.join(directory, "docker.sock")
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind(path)
        listener.listen(1)
        os.chmod(path, 0o600)  # root's, like /var/run/docker.sock for a user not in the group
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never return into pytest
            code = 1
            try:
                os.close(read_end)
                os.setgid(65534)
                os.setuid(65534)
                res = asyncio.run(probe_docker(sockets=[path], env={}, cli=NO_CLI, platform="linux"))
                os.write(write_end, json.dumps(res.to_json()).encode())
                code = 0
            except PermissionError:
                code = 3  # could not switch users (no CAP_SETUID in this container)
            finally:
                os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as f:
            data = f.read()
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 3:
            pytest.skip("cannot switch to another user here")
        res = json.loads(data)
    finally:
        listener.close()
        shutil.rmtree(directory, ignore_errors=True)
    assert res["status"] == DOWN
    assert res["error"]["kind"] == "permission", res
    assert "usermod -aG docker" in res["hint"]
    assert res["facts"]["state"] == "permission_denied"


def test_permission_error_object_wrapped_like_httpx() -> None:
    cause = PermissionError(13, "Permission denied")
    try:
        try:
            raise cause
        except PermissionError as exc:
            raise httpx.ConnectError("[Errno 13] Permission denied") from exc
    except httpx.ConnectError as wrapped:
        err = _api_error(wrapped, DockerEndpoint("unix", "/var/run/docker.sock", "default socket"), 3.0, "linux")
    assert err.kind == "permission" and "/var/run/docker.sock" in err.hint
    win = _api_error(httpx.ConnectError("denied"), DockerEndpoint("unix", "x", "s"), 3.0, "win32")
    assert win.kind != "permission"  # no PermissionError in the chain: not guessed from text
    assert "docker-users" in cli_error("permission denied while trying to connect", "win32").hint


def test_endpoint_resolution_order(tmp_path: Path) -> None:
    existing = sock_path(tmp_path)
    Path(existing).touch()
    env = {"DOCKER_HOST": "unix:///from/env.sock"}
    assert resolve_docker_endpoint("unix:///from/config.sock", env, [existing], "linux") == DockerEndpoint("unix", "/from/config.sock", "docker.host")
    assert resolve_docker_endpoint(None, env, [existing], "linux") == DockerEndpoint("unix", "/from/env.sock", "DOCKER_HOST")
    assert resolve_docker_endpoint(None, {}, ["/missing.sock", existing], "linux") == DockerEndpoint("unix", existing, "default socket")
    assert resolve_docker_endpoint(None, {}, ["/missing.sock"], "linux").kind == "cli"
    assert resolve_docker_endpoint(None, {"DOCKER_HOST": "tcp://127.0.0.1:2375"}, [], "linux") == DockerEndpoint("tcp", "http://127.0.0.1:2375", "DOCKER_HOST")
    # What httpx cannot speak goes to the CLI: TLS client certs, ssh, Windows named pipes.
    assert resolve_docker_endpoint(None, {"DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1"}, [], "linux").kind == "cli"
    assert resolve_docker_endpoint(None, {"DOCKER_HOST": "ssh://me@h"}, [], "linux").kind == "cli"
    assert resolve_docker_endpoint(None, {"DOCKER_HOST": "npipe:////./pipe/docker_engine"}, [], "win32").kind == "cli"
    assert resolve_docker_endpoint(None, {}, [existing], "win32") == DockerEndpoint("cli", "", "docker CLI")
    # Windows: httpx cannot open AF_UNIX there, the CLI can; tcp:// stays the Engine API.
    assert resolve_docker_endpoint(None, {"DOCKER_HOST": "unix:///c/d.sock"}, [], "win32") == DockerEndpoint("cli", "unix:///c/d.sock", "DOCKER_HOST")
    assert resolve_docker_endpoint(None, {"DOCKER_HOST": "tcp://127.0.0.1:2375"}, [], "win32").kind == "tcp"


async def test_tcp_daemon_refused_is_daemon_down() -> None:
    from health_fakes import free_port

    res = await probe_docker(env={"DOCKER_HOST": f"tcp://127.0.0.1:{free_port()}"}, sockets=[], cli=NO_CLI, timeout=REFUSE_S)
    assert res.status == DOWN and res.error is not None and res.error.kind == DAEMON_DOWN


# -- the CLI path -------------------------------------------------------------------------------
def fake_cli(tmp_path: Path, body: str) -> str:
    if sys.platform.startswith("win"):
        pytest.skip("stand-in CLIs are POSIX shell scripts")
    path = tmp_path / "docker"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


REAL_CLI = shutil.which("docker")


@pytest.mark.skipif(REAL_CLI is None, reason="the docker CLI is not installed here")
async def test_real_docker_cli_against_the_fake_daemon(tmp_path: Path) -> None:
    async with fake_docker(tmp_path) as fake:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "USERPROFILE": str(tmp_path), "DOCKER_HOST": fake.host}
        res = await probe_docker(env=env, sockets=[], cli=REAL_CLI, method="cli", timeout=10)
    assert res.status == UP, res.to_json()
    assert res.facts["server_version"] == "27.1.1" and res.checks[0].name == "cli"
    assert any(r.endswith("/version") for r in fake.requests)  # the CLI really asked our socket


@unix_only
@pytest.mark.skipif(REAL_CLI is None, reason="the docker CLI is not installed here")
async def test_real_docker_cli_with_no_daemon(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    res = await probe_docker(env=env, sockets=[], cli=REAL_CLI, method="cli", timeout=10, platform="linux")
    assert res.status == DOWN and res.error is not None and res.error.kind == DAEMON_DOWN
    assert "Cannot connect to the Docker daemon" in res.error.message
    assert "start it" in res.hint


async def test_cli_missing(tmp_path: Path) -> None:
    res = await probe_docker(env={"PATH": str(tmp_path)}, sockets=[str(tmp_path / "none.sock")], cli="docker", platform="linux")
    assert res.status == DOWN and res.error is not None and res.error.kind == CLI_MISSING
    assert "install Docker" in res.hint and "wsdash demo" in res.hint and "staging" not in res.hint
    assert res.facts["state"] == "cli_missing"


async def test_windows_pipe_message_means_docker_desktop_is_not_running(tmp_path: Path) -> None:
    text = ("error during connect: Get \"http://%2F%2F.%2Fpipe%2FdockerDesktopLinuxEngine/v1.46/version\": "
            "open //./pipe/dockerDesktopLinuxEngine: The system cannot find the file specified.")
    cli = fake_cli(tmp_path, f"echo '{{\"Client\":{{\"Version\":\"27.1.1\"}},\"Server\":null}}'\necho '{text}' >&2\nexit 1")
    res = await probe_docker(env={"PATH": ""}, sockets=[], cli=cli, platform="win32")
    assert res.status == DOWN and res.error is not None and res.error.kind == DAEMON_DOWN
    assert res.hint.startswith("Docker Desktop is not running: start it, or run `wsdash demo` (it needs no Docker)")


async def test_cli_reporting_a_podman_server(tmp_path: Path) -> None:
    out = json.dumps({"Client": {"Version": "5.2.0"}, "Server": {"Version": "5.2.0", "ApiVersion": "1.41", "Os": "linux",
                                                                  "Components": [{"Name": "Podman Engine"}]}})
    res = await probe_docker(env={"PATH": ""}, sockets=[], cli=fake_cli(tmp_path, f"echo '{out}'"))
    assert res.status == UP and res.facts["engine"] == "podman"


async def test_hung_cli_is_killed_at_the_timeout(tmp_path: Path) -> None:
    """A hung CLI (and a child it started, as a wrapper script's would be) is killed at the
    timeout: both write a heartbeat every 50 ms, and neither file may grow afterwards."""
    parent, child, pids = tmp_path / "parent-beats", tmp_path / "child-beats", tmp_path / "pids"
    cli = fake_cli(tmp_path, f"(while :; do echo . >> {child}; sleep 0.05; done) &\necho $$ $! > {pids}\n"
                             f"while :; do echo . >> {parent}; sleep 0.05; done")
    try:
        t0 = time.monotonic()
        res = await probe_docker(env={"PATH": "/usr/bin:/bin"}, sockets=[], cli=cli, timeout=0.5, platform="linux")
        took = time.monotonic() - t0
        assert res.status == DOWN and res.error is not None and res.error.kind == "timeout"
        assert took < 0.5 + 1.5, took  # the timeout, the kill and the reaping, not the 1 s wait for pipes
        await asyncio.sleep(0.3)  # anything still alive writes ~6 more beats in this time…
        before = (parent.stat().st_size, child.stat().st_size)
        assert all(before), "the stand-in CLI never ran"
        await asyncio.sleep(0.6)
        assert (parent.stat().st_size, child.stat().st_size) == before, "the CLI or its child outlived the timeout"
    finally:
        for pid in (pids.read_text().split() if pids.exists() else []):
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)


@pytest.mark.parametrize(("stderr", "kind"), [
    ("Got permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock", "permission"),
    ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", DAEMON_DOWN),
    ("open //./pipe/docker_engine: The system cannot find the file specified.", DAEMON_DOWN),
    ("Error response from daemon: dial unix docker.raw.sock: connect: connection refused", "http"),
    ("something else entirely", "unknown"),
])
def test_cli_stderr_classification(stderr: str, kind: str) -> None:
    assert cli_error(stderr, "linux").kind == kind


@pytest.mark.parametrize(("host", "says"), [("tcp://127.0.0.1:99999", "Port out of range"), ("tcp://127.0.0.1:0", "port 0"),
                                            ("tcp://:2375", "names no host")])
async def test_a_tcp_docker_host_no_daemon_can_have_is_named_as_the_setting_to_fix(host: str, says: str) -> None:
    """A port past 65535 was an ExceptionGroup from deep in httpx, shown as 'unknown … rerun with --json'."""
    res = await probe_docker(env={"DOCKER_HOST": host, "PATH": ""}, sockets=[], cli=None, platform="linux")
    assert res.status == DOWN and res.error is not None and res.error.kind == "config", res.error
    assert "DOCKER_HOST" in res.error.message and says in res.error.message and "DOCKER_HOST" in res.error.hint
