"""Docker Desktop's and Podman's real states on Windows, each with its own hint (issue 10 point 3).

Run here with Windows values: `platform="win32"`, the named-pipe probe answering with the real
OSError(winerror=…) values WaitNamedPipe raises, a Docker Desktop install folder made in tmp_path,
and stand-in `docker` / `wsl` programs (Python, so they run on every OS) that print the real tools'
texts. Each text is a fixture quoted from the tool's output; the source is named beside it.
"""

from __future__ import annotations

import json
import os
import sys
from hashlib import sha256
from pathlib import Path

import pytest

from wsdash.services.health import docker_windows as win
from wsdash.services.health.docker import (
    CLI_MISSING, DAEMON_DOWN, DAEMON_STARTING, NOT_INSTALLED, WSL_OFF, cli_error, probe_docker,
)
from wsdash.services.health.model import DOWN

# -- the real texts --------------------------------------------------------------------------------
# docker CLI 28.x with Docker Desktop stopped (docker/for-win#14716-era message, research item 4a)
STOPPED_28 = ('error during connect: in the default daemon configuration on Windows, the docker client must be run '
              'with elevated privileges to connect: Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.48/version": '
              'open //./pipe/docker_engine: The system cannot find the file specified.')
# the same on a French Windows: the OS part is localised (moby client/request.go comment)
STOPPED_FR = ('error during connect: Get "http://%2F%2F.%2Fpipe%2FdockerDesktopLinuxEngine/v1.51/version": '
              'open //./pipe/dockerDesktopLinuxEngine: Le fichier spécifié est introuvable.')
# Docker Desktop's proxy up, engine not (docker/for-win#13909; CLI 29 adds the code: desktop-feedback#477)
STARTING_OLD = ('request returned Internal Server Error for API route and version '
                'http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/version, check if the server supports the requested API version')
STARTING_29 = ('request returned 500 Internal Server Error for API route and version '
               'http://%2F%2F.%2Fpipe%2FdockerDesktopWindowsEngine/v1.54/version, check if the server supports the requested API version')
# not in docker-users (docker/for-win#14716)
DENIED = ('error during connect: in the default daemon configuration on Windows, the docker client must be run with '
          'elevated privileges to connect: Get "http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.48/version": '
          'open //./pipe/docker_engine: Access is denied.')
# docker CLI against a stopped Podman machine (podman-desktop#8967)
PODMAN_STOPPED = 'open //./pipe/podman-machine-default: The system cannot find the file specified.'
# moby client: "Cannot connect to the Docker daemon at %s. Is the docker daemon running?"
REMOTE_DOWN = 'Cannot connect to the Docker daemon at tcp://build-box.invalid:2376. Is the docker daemon running?'
# `wsl --status` (microsoft/WSL Resources.resw MessageWslOptionalComponentRequired; for-win#14120 in French)
WSL_OC_EN = ("This application requires the Windows Subsystem for Linux Optional Component.\r\n"
             "Install it by running: wsl.exe --install --no-distribution\r\n"
             "The system may need to be restarted so the changes can take effect.\r\n"
             "Error code: Wsl/WSL_E_WSL_OPTIONAL_COMPONENT_REQUIRED\r\n")
WSL_OC_FR = ("Cette application nécessite le composant facultatif Sous-système Windows pour Linux.\r\n"
             "Installez-le en exécutant : wsl.exe --install --no-distribution\r\n"
             "Error code: Wsl/WSL_E_WSL_OPTIONAL_COMPONENT_REQUIRED\r\n")
# microsoft/WSL#5363
WSL_VMP = "Please enable the Virtual Machine Platform Windows feature and ensure virtualization is enabled in the BIOS.\r\n"
WSL_OK = "Default Distribution: Ubuntu\r\nDefault Version: 2\r\n"
NO_SERVER = json.dumps({"Client": {"Version": "28.0.4", "Context": "desktop-linux"}, "Server": None})


def winerr(code: int, text: str) -> OSError:
    """The OSError `_winapi.WaitNamedPipe` raises: CPython only honours winerror on Windows."""
    exc = OSError(22, text)
    exc.winerror = code  # type: ignore[attr-defined]
    return exc


def pipes(**states: str) -> win.WaitNamedPipe:
    """A WaitNamedPipe stand-in: pipe name → "up" or a winerror number as text; unknown pipes are absent."""
    def wait(path: str, timeout_ms: int) -> None:
        assert path.startswith("\\\\.\\pipe\\") and timeout_ms > 0
        state = states.get(path.rsplit("\\", 1)[1], "2")
        if state != "up":
            raise winerr(int(state), {"2": "The system cannot find the file specified", "5": "Access is denied",
                                      "121": "The semaphore timeout period has expired", "231": "All pipe instances are busy"}[state])
    return wait


def stand_in(directory: Path, name: str, code: str) -> None:
    """An executable `name` on PATH running Python `code` (a .cmd shim on Windows: PATHEXT finds it)."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"{name}_impl.py"
    script.write_text(code, encoding="utf-8")
    if os.name == "nt":
        (directory / f"{name}.cmd").write_text(f'@"{sys.executable}" "{script}" %*\r\n', encoding="utf-8")
    else:
        path = directory / name
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n', encoding="utf-8")
        path.chmod(0o755)


def docker_cli(directory: Path, stderr: str, stdout: str = NO_SERVER) -> None:
    stand_in(directory, "docker", f"import sys\nprint({stdout!r})\nsys.stderr.write({stderr!r})\nsys.exit(1)\n")


def wsl_says(text: str, utf16: bool = True) -> list[str]:
    """argv of a `wsl --status` stand-in; UTF-16LE as wsl.exe writes when WSL_UTF8 is not honoured."""
    data = text.encode("utf-16-le") if utf16 else text.encode()
    return [sys.executable, "-c", f"import sys; sys.stdout.buffer.write({data!r})"]


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, str]:
    """A Windows environment in tmp_path: PATH with nothing on it, a user profile, Program Files."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "profile").mkdir()
    return {"PATH": str(tmp_path / "bin"), "USERPROFILE": str(tmp_path / "profile"),
            "ProgramFiles": str(tmp_path / "Program Files"), "SystemRoot": os.environ.get("SystemRoot", "")}


def install_docker_desktop(env: dict[str, str]) -> None:
    exe = Path(env["ProgramFiles"]) / "Docker" / "Docker" / "Docker Desktop.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"MZ")


async def probe(env: dict[str, str], wait: win.WaitNamedPipe, wsl: list[str] | None = None):
    return await probe_docker(env=env, sockets=[], platform="win32", wait_pipe=wait, wsl=wsl, timeout=10)


# -- the pipe probe --------------------------------------------------------------------------------
@pytest.mark.parametrize(("answer", "state"), [("up", win.PIPE_UP), ("2", win.PIPE_ABSENT), ("5", win.PIPE_DENIED),
                                               ("121", win.PIPE_BUSY), ("231", win.PIPE_BUSY)])
def test_pipe_state_from_waitnamedpipe_errors(answer: str, state: str) -> None:
    assert win.pipe_state(win.PIPE_ENGINE, pipes(docker_engine=answer)) == state


def test_npipe_urls_become_pipe_paths() -> None:
    assert win.npipe_path("npipe:////./pipe/docker_engine") == r"\\.\pipe\docker_engine"
    assert win.npipe_path("npipe:////./pipe/podman-machine-default") == win.PIPE_PODMAN
    assert win.npipe_path("tcp://127.0.0.1:2375") is None


async def test_pipes_are_never_probed_by_opening_them(machine: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """os.path.exists on a pipe connects as a client and uses up an instance the engine needed."""
    real_exists = os.path.exists

    def exists(path: object) -> bool:
        assert "\\pipe\\" not in str(path), f"os.path.exists({path!r}) opens the pipe"
        return real_exists(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os.path, "exists", exists)
    seen: list[str] = []

    def wait(path: str, timeout_ms: int) -> None:
        seen.append(path)
        raise winerr(2, "The system cannot find the file specified")

    res = await probe(machine, wait)
    assert res.status == DOWN and set(win.DOCKER_PIPES) <= set(seen)


# -- one state, one hint ---------------------------------------------------------------------------
async def test_not_installed(machine: dict[str, str]) -> None:
    res = await probe(machine, pipes())
    assert res.error is not None and res.error.kind == NOT_INSTALLED and res.facts["state"] == "not_installed"
    assert "Docker Desktop is not installed" in res.hint and "winget install Docker.DockerDesktop" in res.hint
    assert "wsdash demo" in res.hint and "staging" not in res.hint  # check.point_hints adds the targets that are up


async def test_installed_without_cli_on_path_and_stopped(machine: dict[str, str]) -> None:
    install_docker_desktop(machine)
    res = await probe(machine, pipes())
    assert res.error is not None and res.error.kind == DAEMON_DOWN
    assert res.hint.startswith("Docker Desktop is installed but not running")


async def test_engine_up_but_no_cli(machine: dict[str, str]) -> None:
    install_docker_desktop(machine)
    res = await probe(machine, pipes(dockerDesktopLinuxEngine="up"))
    assert res.error is not None and res.error.kind == CLI_MISSING
    assert "dockerDesktopLinuxEngine" in res.error.message and "resources\\bin" in res.hint


@pytest.mark.parametrize("text", [STOPPED_28, STOPPED_FR])
async def test_installed_but_stopped(machine: dict[str, str], tmp_path: Path, text: str) -> None:
    install_docker_desktop(machine)
    docker_cli(tmp_path / "bin", text)
    res = await probe(machine, pipes(), wsl_says(WSL_OK))
    assert res.error is not None and res.error.kind == DAEMON_DOWN, res.to_json()
    assert res.hint == win.HINT_DESKTOP_STOPPED
    assert res.facts["pipes"][win.PIPE_ENGINE] == win.PIPE_ABSENT and res.facts["docker_desktop_installed"] is True


@pytest.mark.parametrize("text", [STARTING_OLD, STARTING_29])
async def test_starting_or_broken_engine(machine: dict[str, str], tmp_path: Path, text: str) -> None:
    install_docker_desktop(machine)
    docker_cli(tmp_path / "bin", text)
    res = await probe(machine, pipes(docker_engine="up"), wsl_says(WSL_OK))
    assert res.error is not None and res.error.kind == DAEMON_STARTING and res.facts["state"] == "starting"
    assert "starting, or failed to start" in res.hint and "`wsl --status`" in res.hint and "restart Docker Desktop" in res.hint
    assert "run it yourself" not in res.hint


@pytest.mark.parametrize(("said", "utf16", "expect"), [
    (WSL_OC_EN, True, "wsl --install --no-distribution"),
    (WSL_OC_FR, False, "wsl --install --no-distribution"),  # WSL_UTF8 honoured: UTF-8 out, error code in English
    (WSL_VMP, True, "Virtual Machine Platform"),
])
async def test_wsl2_backend_off(machine: dict[str, str], tmp_path: Path, said: str, utf16: bool, expect: str) -> None:
    install_docker_desktop(machine)
    docker_cli(tmp_path / "bin", STOPPED_28)
    res = await probe(machine, pipes(), wsl_says(said, utf16))
    assert res.error is not None and res.error.kind == WSL_OFF and res.facts["state"] == "wsl_off", res.to_json()
    assert expect in res.hint and "\x00" not in res.error.message
    assert "`wsl --status`:" in res.error.message


async def test_no_wsl_exe_at_all_means_wsl_is_not_installed(machine: dict[str, str], tmp_path: Path) -> None:
    install_docker_desktop(machine)
    docker_cli(tmp_path / "bin", STOPPED_28)
    res = await probe(machine, pipes(), [str(tmp_path / "no" / "wsl.exe"), "--status"])
    assert res.error is not None and res.error.kind == WSL_OFF


@pytest.mark.parametrize("how", ["DOCKER_CONTEXT", "config.json"])
async def test_context_pointing_elsewhere(machine: dict[str, str], tmp_path: Path, how: str) -> None:
    install_docker_desktop(machine)
    docker_cli(tmp_path / "bin", REMOTE_DOWN)
    docker_dir = Path(machine["USERPROFILE"]) / ".docker"
    meta = docker_dir / "contexts" / "meta" / sha256(b"build-box").hexdigest() / "meta.json"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"Name": "build-box", "Endpoints": {"docker": {"Host": "tcp://build-box.invalid:2376"}}}))
    if how == "DOCKER_CONTEXT":
        machine["DOCKER_CONTEXT"] = "build-box"
    else:  # `docker context use build-box` writes this (with a BOM when PowerShell 5.1 edited it)
        (docker_dir / "config.json").write_text(json.dumps({"currentContext": "build-box"}), encoding="utf-8-sig")
    res = await probe(machine, pipes(docker_engine="up"), wsl_says(WSL_OC_EN))
    assert res.error is not None and res.error.kind == DAEMON_DOWN and res.facts["context"] == "build-box"
    assert "context 'build-box' → tcp://build-box.invalid:2376" in res.hint
    assert "docker context use desktop-linux" in res.hint
    assert res.error.kind != WSL_OFF  # WSL is not what is wrong here: it is not even asked


async def test_podman_machine_stopped_is_never_told_to_reinstall_docker_desktop(machine: dict[str, str], tmp_path: Path) -> None:
    docker_cli(tmp_path / "bin", PODMAN_STOPPED)
    stand_in(tmp_path / "bin", "podman", "print('podman version 5.2.0')")
    machine["DOCKER_HOST"] = "npipe:////./pipe/podman-machine-default"
    res = await probe(machine, pipes())
    assert res.error is not None and res.error.kind == DAEMON_DOWN
    assert "podman machine start" in res.hint and "Docker Desktop" not in res.hint


async def test_podman_answering_without_a_docker_cli(machine: dict[str, str], tmp_path: Path) -> None:
    stand_in(tmp_path / "bin", "podman", "print('podman version 5.2.0')")
    res = await probe(machine, pipes(**{"podman-machine-default": "up"}))
    assert res.error is not None and res.error.kind == CLI_MISSING
    assert "Podman" in res.error.message and "Docker Desktop" not in res.hint and "reinstall" not in res.hint


async def test_podman_installed_machine_not_running_no_docker_cli(machine: dict[str, str], tmp_path: Path) -> None:
    stand_in(tmp_path / "bin", "podman", "print('podman version 5.2.0')")
    res = await probe(machine, pipes())
    assert res.error is not None and res.error.kind == DAEMON_DOWN and "podman machine start" in res.hint
    assert "Docker Desktop" not in res.hint


def test_access_denied_is_the_docker_users_group() -> None:
    err = cli_error(DENIED, "win32")
    assert err.kind == "permission" and "docker-users" in err.hint


def test_unix_docker_host_on_windows_goes_to_the_cli(machine: dict[str, str]) -> None:
    from wsdash.services.health.docker import resolve_docker_endpoint

    ep = resolve_docker_endpoint(None, {"DOCKER_HOST": "unix:///var/run/docker.sock"}, [], "win32")
    assert ep.kind == "cli" and ep.address == "unix:///var/run/docker.sock"
