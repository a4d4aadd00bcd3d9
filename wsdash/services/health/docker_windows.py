"""Docker on a Windows laptop: which of Docker Desktop's (or Podman's) real states the engine is in.

The `docker` CLI says the same few things for very different situations, and its OS text is
localised ("Le fichier spécifié est introuvable."), so the states are told apart by what can be
observed without disturbing the engine: the named pipes (WaitNamedPipe, which never takes a pipe
instance the way opening it would), Docker Desktop's install folder, the `podman` CLI, the docker
context the CLI will use, and `wsl --status`. The CLI's English text is only a fallback.
docs/windows.md lists the states and where each message comes from.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from wsdash.core.errors import DEMO_ALTERNATIVE

PIPE_ENGINE = r"\\.\pipe\docker_engine"  # the `default` context (Docker Desktop, or Podman when free)
PIPE_DESKTOP_LINUX = r"\\.\pipe\dockerDesktopLinuxEngine"  # the `desktop-linux` context
PIPE_PODMAN = r"\\.\pipe\podman-machine-default"
DOCKER_PIPES = (PIPE_ENGINE, PIPE_DESKTOP_LINUX)

# WaitNamedPipe's errors (winerror.h): no such pipe, ACL'd pipe, every instance busy.
ERROR_FILE_NOT_FOUND, ERROR_ACCESS_DENIED, ERROR_SEM_TIMEOUT, ERROR_PIPE_BUSY = 2, 5, 121, 231
PIPE_UP, PIPE_ABSENT, PIPE_BUSY, PIPE_DENIED, PIPE_UNKNOWN = "up", "absent", "busy", "denied", "unknown"

WaitNamedPipe = Callable[[str, int], object]


def npipe_path(host: str) -> str | None:
    """`npipe:////./pipe/docker_engine` → `\\\\.\\pipe\\docker_engine` (None if not an npipe URL)."""
    if not host.startswith("npipe://"):
        return None
    rest = host[len("npipe://"):].replace("/", "\\")
    return rest if rest.startswith("\\\\") else None


def pipe_state(path: str, wait: WaitNamedPipe | None = None, timeout_ms: int = 200) -> str:
    """Is a named pipe there? WaitNamedPipe returns at once when no instance exists, waits for a
    free one otherwise, and — unlike os.path.exists, which opens the pipe as a client — leaves
    every instance to the real clients."""
    if wait is None:
        try:
            import _winapi  # Windows only

            wait = _winapi.WaitNamedPipe
        except (ImportError, AttributeError):
            return PIPE_UNKNOWN
    try:
        wait(path, timeout_ms)
    except OSError as exc:
        code = getattr(exc, "winerror", None)
        if code == ERROR_FILE_NOT_FOUND:
            return PIPE_ABSENT
        if code == ERROR_ACCESS_DENIED:
            return PIPE_DENIED
        if code in (ERROR_SEM_TIMEOUT, ERROR_PIPE_BUSY):
            return PIPE_BUSY  # it exists: the engine is there and busy
        return PIPE_UNKNOWN
    return PIPE_UP


@dataclass(frozen=True)
class Context:
    """The docker context the CLI will use, when it is not Docker Desktop's own."""

    name: str
    source: str  # "DOCKER_CONTEXT" or "docker context use (config.json)"
    host: str | None  # its endpoint, from the context's meta.json

    @property
    def is_desktop(self) -> bool:
        return self.name in ("default", "desktop-linux", "desktop-windows")


def docker_context(env: Mapping[str, str]) -> Context | None:
    """The CLI's context, resolved as the CLI does (docker/cli resolveContextName): DOCKER_HOST
    wins (None here), then DOCKER_CONTEXT, then `currentContext` in config.json."""
    if env.get("DOCKER_HOST"):
        return None
    config_dir = env.get("DOCKER_CONFIG") or os.path.join(
        env.get("USERPROFILE") or env.get("HOME") or os.path.expanduser("~"), ".docker")
    name, source = env.get("DOCKER_CONTEXT"), "DOCKER_CONTEXT"
    if not name:
        try:
            with open(os.path.join(config_dir, "config.json"), encoding="utf-8-sig") as f:
                name = json.load(f).get("currentContext")
        except (OSError, ValueError, AttributeError):
            name = None
        source = "`docker context use` (config.json)"
    if not name:
        return None
    host = None
    meta = os.path.join(config_dir, "contexts", "meta", hashlib.sha256(name.encode()).hexdigest(), "meta.json")
    try:
        with open(meta, encoding="utf-8-sig") as f:
            host = json.load(f)["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return Context(name, source, host if isinstance(host, str) else None)


@dataclass
class WindowsHost:
    """What can be observed about Docker on this Windows machine (all injectable for tests)."""

    env: Mapping[str, str]
    wait_pipe: WaitNamedPipe | None = None
    pipes: dict[str, str] = field(default_factory=dict)  # path → PIPE_* state, filled by `look`

    @property
    def desktop_installed(self) -> bool:
        root = self.env.get("ProgramFiles") or self.env.get("PROGRAMFILES") or r"C:\Program Files"
        return os.path.isfile(os.path.join(root, "Docker", "Docker", "Docker Desktop.exe"))

    @property
    def podman_cli(self) -> str | None:
        return shutil.which("podman", path=self.env.get("PATH", self.env.get("Path", "")))

    @property
    def context(self) -> Context | None:
        return docker_context(self.env)

    def look(self, extra: Sequence[str] = ()) -> dict[str, str]:
        for path in (*DOCKER_PIPES, PIPE_PODMAN, *extra):
            if path not in self.pipes:
                self.pipes[path] = pipe_state(path, self.wait_pipe)
        return self.pipes

    def answering_pipe(self) -> str | None:
        return next((p for p, s in self.pipes.items() if s in (PIPE_UP, PIPE_BUSY)), None)

    def podman_user(self, text: str = "") -> bool:
        """Podman, not Docker Desktop, is this user's engine: its pipe or CLI, and no Docker Desktop."""
        if "podman" in text.lower() or "podman" in (self.env.get("DOCKER_HOST") or "").lower():
            return True
        return self.podman_cli is not None and not self.desktop_installed


# -- hints (one per state) -----------------------------------------------------------------------
ALTERNATIVE = DEMO_ALTERNATIVE  # never "or use staging": check.point_hints names the targets that are up
HINT_NOT_INSTALLED = ("Docker Desktop is not installed (no docker CLI, no Docker Desktop, no engine pipe): install it "
                      "(`winget install Docker.DockerDesktop`) or Podman, " + ALTERNATIVE)
HINT_DESKTOP_STOPPED = "Docker Desktop is not running: start it, " + ALTERNATIVE
HINT_STARTING = ("Docker Desktop's engine is starting, or failed to start: wait a minute and check again; if it "
                 "stays, run `wsl --status` and restart Docker Desktop (tray icon → Restart), " + ALTERNATIVE)
HINT_PODMAN_STOPPED = ("the Podman machine is not running: `podman machine start` (then `podman machine ls` says "
                       "'Currently running'), " + ALTERNATIVE)
HINT_PODMAN_NO_DOCKER_CLI = ("Podman's API answers on {pipe}, but wsdash reads Windows pipes through a `docker` "
                             "CLI and there is none on PATH: put any docker CLI on PATH (it talks to Podman's pipe), "
                             + ALTERNATIVE)
HINT_NO_CLI_ENGINE_UP = ("the Docker engine answers on {pipe} but there is no docker CLI on PATH: add Docker "
                         "Desktop's `resources\\bin` to PATH (or repair Docker Desktop), " + ALTERNATIVE)
HINT_DESKTOP_NO_CLI = ("Docker Desktop is installed but not running, and its docker CLI is not on PATH: start "
                       "Docker Desktop (it puts `docker` on PATH for new terminals), " + ALTERNATIVE)
HINT_PERMISSION = "your user may not use the Docker engine: add it to the docker-users group, then sign out and in"


def context_hint(ctx: Context) -> str:
    where = f" → {ctx.host}" if ctx.host else ""
    return (f"the docker CLI uses context '{ctx.name}'{where} (from {ctx.source}), not Docker Desktop, and that "
            "engine did not answer: start it, or `docker context use desktop-linux` (or `default`) to go back to "
            "Docker Desktop, " + ALTERNATIVE)


# -- WSL 2: Docker Desktop's default backend ------------------------------------------------------
# `wsl --status` texts (microsoft/WSL localization/strings/*/Resources.resw and user reports): the
# error *codes* are the same in every language, the sentences are not.
WSL_OPTIONAL_COMPONENT = ("WSL_E_WSL_OPTIONAL_COMPONENT_REQUIRED", "optional component is not enabled",
                          "Windows Subsystem for Linux Optional Component")
WSL_VM_PLATFORM = ("WSL_E_VIRTUAL_MACHINE_PLATFORM_REQUIRED", "Virtual Machine Platform", "0x80370102")


def decode_wsl(data: bytes) -> str:
    """wsl.exe writes UTF-16LE unless WSL_UTF8=1 is honoured (WSL ≥ 0.64): NULs tell which."""
    if b"\x00" in data:
        return data.decode("utf-16-le", "replace").lstrip("\ufeff")
    return data.decode("utf-8", "replace")


def wsl_problem(text: str) -> str | None:
    """A hint when `wsl --status` says WSL 2 cannot run, None when it does not say so."""
    if any(s.lower() in text.lower() for s in WSL_VM_PLATFORM):
        return ("WSL 2 cannot start virtual machines, so Docker Desktop's engine cannot either: turn on 'Virtual "
                "Machine Platform' (Turn Windows features on or off) and virtualization in the BIOS/UEFI, restart, "
                "then start Docker Desktop (or switch it to the Hyper-V backend), " + ALTERNATIVE)
    if any(s.lower() in text.lower() for s in WSL_OPTIONAL_COMPONENT):
        return ("WSL is not installed or turned off, and Docker Desktop's WSL 2 backend needs it: run `wsl --install "
                "--no-distribution` in an administrator PowerShell, restart, then start Docker Desktop, " + ALTERNATIVE)
    return None


async def wsl_status(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> str | None:
    """What `wsl --status` prints (stdout and stderr), or a WSL-missing marker; None if it hung."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env={**env, "WSL_UTF8": "1"})
    except FileNotFoundError:
        return WSL_OPTIONAL_COMPONENT[0]  # no wsl.exe at all: WSL is not there
    except OSError:
        return None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError) as exc:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        if isinstance(exc, asyncio.CancelledError):
            raise
        return None
    return decode_wsl(out)
