"""Is the Docker (or Podman) daemon up? docs/protocol.md §8, portably.

Fast path: the Engine API (`GET /_ping`, `GET /version`) through httpx over a unix socket or
tcp://. Where httpx cannot go (Windows named pipes, ssh://, TLS client certs) the `docker version`
CLI answers instead, under a timeout. Outcomes, each with a hint: up (with versions), daemon
down, starting, permission denied, CLI missing, not installed, WSL 2 off — Docker Desktop's and
Podman's states on Windows are told apart in `docker_windows.py`. Every input (host, environment,
socket paths, CLI path, platform, the pipe probe, `wsl`) is injectable so tests drive real sockets
and a real CLI, not mocks.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
import time
from typing import Any, Mapping, Sequence

from wsdash.core.errors import CONFIG, HTTP, PERMISSION, TIMEOUT, UNKNOWN, ClassifiedError, exception_chain, classify
from wsdash.services.health.model import DOWN, SKIPPED, UP, CheckResult, ProbeResult, summarize
from wsdash.core.redact import redact_url, scrub
from wsdash.services.health import docker_windows as win
from wsdash.services.health.docker_endpoint import DockerEndpoint, default_sockets, resolve_docker_endpoint, tcp_address_problem

NAME = "docker"
DAEMON_DOWN = "daemon_down"  # error kinds specific to this probe (the others come from errors.py)
CLI_MISSING = "cli_missing"
DAEMON_STARTING = "daemon_starting"  # Docker Desktop's proxy answers, its engine does not (yet)
NOT_INSTALLED = "not_installed"
WSL_OFF = "wsl_off"
WINDOWS_PIPES = win.DOCKER_PIPES
_ALTERNATIVE = win.ALTERNATIVE
WSL_STATUS = ("wsl.exe", "--status")


async def probe_docker(*, timeout: float = 3.0, host: str | None = None, env: Mapping[str, str] | None = None,
                       sockets: Sequence[str] | None = None, cli: str | None = "docker",
                       platform: str | None = None, method: str = "auto",
                       wait_pipe: win.WaitNamedPipe | None = None,
                       wsl: Sequence[str] | None = WSL_STATUS) -> ProbeResult:
    """Probe the daemon; never raises. `cli=None` disables the CLI fallback; `method="cli"` asks
    the CLI even where the API is reachable (it honours docker contexts). On Windows, `wait_pipe`
    (default `_winapi.WaitNamedPipe`) looks at the engine pipes and `wsl` (argv, None = skip)
    asks WSL why Docker Desktop's engine is down."""
    env = dict(os.environ if env is None else env)
    platform = platform or sys.platform
    sockets = default_sockets(env) if sockets is None else sockets
    ep = resolve_docker_endpoint(host, env, sockets, platform)
    if method == "cli" and ep.kind != "cli":
        ep = DockerEndpoint("cli", host or "", ep.source if host else "docker CLI")
    if ep.kind == "tcp" and (problem := tcp_address_problem(ep.address)) is not None:
        err = ClassifiedError(CONFIG, f"{ep.source} {redact_url(ep.address.replace('http://', 'tcp://', 1))} {problem}",
                              f"fix {ep.source}: tcp://host:port (2375 is Docker's plain-TCP port), or unset it for the default socket")
        return summarize(NAME, [CheckResult("ping", DOWN, None, err)], 0.0, core=("ping", "cli"),
                         facts={"endpoint": ep.describe(), "endpoint_source": ep.source, "state": "misconfigured"})
    if ep.kind != "cli":
        import httpx  # noqa: F401 - imported before the clock starts: latency is the daemon's, not ours
    start = time.perf_counter()
    if ep.kind == "cli":
        if ep.address:
            env["DOCKER_HOST"] = ep.address  # config docker.host reaches the CLI too
        host_ = win.WindowsHost(env, wait_pipe) if platform.startswith("win") else None
        check, facts = await _via_cli(cli, env, timeout, platform, sockets, host_)
        if host_ is not None and check.error is not None:
            check, facts = await _windows_why(check, facts, host_, wsl, timeout - (time.perf_counter() - start))
        checks = [check]
    else:
        checks, facts = await _via_api(ep, timeout, platform)
    facts["endpoint"] = ep.describe()
    facts["endpoint_source"] = ep.source
    result = summarize(NAME, checks, (time.perf_counter() - start) * 1000, core=("ping", "cli"), facts=facts)
    if result.status == UP:
        result.detail = _describe_engine(facts)
    return result


# -- Engine API over httpx ---------------------------------------------------------------------
async def _via_api(ep: DockerEndpoint, timeout: float, platform: str) -> tuple[list[CheckResult], dict[str, Any]]:
    import httpx

    # verify=False: plain HTTP only (TLS endpoints go to the CLI), and the default would build an
    # SSL context — ~30 ms of blocking work — for nothing.
    unix = ep.kind == "unix"
    transport = httpx.AsyncHTTPTransport(uds=ep.address if unix else None, verify=False)
    base = "http://docker" if unix else ep.address
    facts: dict[str, Any] = {}
    checks: list[CheckResult] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(transport=transport, base_url=base, trust_env=False) as client:
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                ping = await client.get("/_ping")
        except Exception as exc:  # noqa: BLE001 - every failure becomes a value
            err = _api_error(exc, ep, timeout, platform)
            facts["state"] = _state_of(err)
            return [CheckResult("ping", DOWN, _since(t0), err),
                    CheckResult("version", SKIPPED, None, None, "no answer to /_ping")], facts
        ping_ms = _since(t0)
        if ping.status_code != 200:
            body = scrub(ping.text.strip()[:200])
            err = ClassifiedError(
                HTTP, f"GET /_ping answered HTTP {ping.status_code}: {body}".rstrip(": "),
                "the Docker daemon answers but is unhealthy: restart Docker (or Docker Desktop), "
                + _ALTERNATIVE, ping.status_code)
            facts["state"] = "unhealthy"
            return [CheckResult("ping", DOWN, ping_ms, err),
                    CheckResult("version", SKIPPED, None, None, "daemon unhealthy")], facts
        facts.update(state="up", api_version=ping.headers.get("Api-Version"), engine="docker")
        if ping.headers.get("Libpod-Api-Version"):  # Podman's Docker-compatible API says so here
            facts.update(engine="podman", libpod_api_version=ping.headers["Libpod-Api-Version"])
        if ping.headers.get("OSType"):
            facts["os"] = ping.headers["OSType"]
        checks.append(CheckResult("ping", UP, ping_ms, None, "OK"))
        t1 = time.perf_counter()
        try:
            async with asyncio.timeout(max(0.05, deadline - loop.time())):
                version = await client.get("/version")
            version.raise_for_status()
            facts.update(_engine_facts(version.json(), facts["engine"]))
            checks.append(CheckResult("version", UP, _since(t1), None, str(facts.get("server_version") or "")))
        except Exception as exc:  # noqa: BLE001 - the daemon is up; its version is a nice-to-have
            checks.append(CheckResult("version", DOWN, _since(t1), classify(exc, base)))
    return checks, facts


def _api_error(exc: BaseException, ep: DockerEndpoint, timeout: float, platform: str) -> ClassifiedError:
    where = ep.describe()
    message = scrub(str(exc) or type(exc).__name__)
    chain = exception_chain(exc)  # httpx wraps the OSError that says what happened
    if any(isinstance(e, PermissionError) for e in chain):
        return ClassifiedError(PERMISSION, f"permission denied on {where}", _permission_hint(ep, platform))
    if any(isinstance(e, FileNotFoundError) for e in chain):
        return ClassifiedError(DAEMON_DOWN, f"no Docker socket at {ep.address}",
                               _down_hint(platform) + f" (expected a socket at {ep.address}, from {ep.source})")
    err = classify(exc, ep.address if ep.kind == "tcp" else None)
    if err.kind == TIMEOUT or isinstance(exc, TimeoutError):
        return ClassifiedError(TIMEOUT, f"no answer from {where} within {timeout:g}s",
                               "the Docker daemon is starting or hung: wait, or restart Docker")
    if err.kind == "refused":
        return ClassifiedError(DAEMON_DOWN, f"nothing accepts connections on {where}: {message}", _down_hint(platform))
    return err


def _engine_facts(data: Any, engine: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {}
    facts: dict[str, Any] = {"server_version": data.get("Version"), "api_version": data.get("ApiVersion"),
                             "os": data.get("Os"), "arch": data.get("Arch")}
    names = " ".join(str(c.get("Name", "")) for c in data.get("Components") or [] if isinstance(c, dict))
    platform_name = str((data.get("Platform") or {}).get("Name", ""))
    if "podman" in (names + platform_name).lower():
        facts["engine"] = "podman"
    elif "docker desktop" in platform_name.lower():
        facts["engine"] = "docker-desktop"
    else:
        facts["engine"] = engine
    return {k: v for k, v in facts.items() if v is not None}


# -- the docker CLI ----------------------------------------------------------------------------
async def _via_cli(cli: str | None, env: dict[str, str], timeout: float, platform: str,
                   sockets: Sequence[str], host_: win.WindowsHost | None = None) -> tuple[CheckResult, dict[str, Any]]:
    path = shutil.which(cli, path=env.get("PATH")) if cli else None
    t0 = time.perf_counter()
    if path is None and host_ is not None:
        err = _windows_no_cli(cli, host_)
        return CheckResult("cli", DOWN, None, err), {"state": _state_of(err)}
    if path is None:
        where = ", ".join(sockets) or "the default socket"
        err = ClassifiedError(
            CLI_MISSING, f"no docker CLI ({cli or 'disabled'}) and no Engine API at {where}",
            "install Docker Desktop or Docker Engine (Podman works too: `podman-docker` provides "
            "`docker`), " + _ALTERNATIVE)
        return CheckResult("cli", DOWN, None, err), {"state": "cli_missing"}
    try:
        proc = await asyncio.create_subprocess_exec(
            path, "version", "--format", "{{json .}}",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env,
            # Its own process group on POSIX, so a timeout kills a wrapper script's children too.
            **({"start_new_session": True} if os.name == "posix" else {}))
    except OSError as exc:  # present but not executable, or vanished
        err = classify(exc)
        return CheckResult("cli", DOWN, _since(t0), err), {"state": "error"}
    try:
        out, errb = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.CancelledError:  # the check's deadline or the app quitting: no orphan CLI
        await asyncio.shield(_kill(proc))
        raise
    except TimeoutError:
        await _kill(proc)
        err = ClassifiedError(TIMEOUT, f"`docker version` did not finish within {timeout:g}s",
                              "the Docker daemon is starting or hung: wait, or restart Docker")
        return CheckResult("cli", DOWN, _since(t0), err), {"state": "timeout"}
    ms = _since(t0)
    try:
        data = json.loads(out.decode("utf-8", "replace") or "null")
    except ValueError:
        data = None
    server = data.get("Server") if isinstance(data, dict) else None
    if isinstance(server, dict):  # §8: up ⇔ a non-null Server, whatever the exit code
        facts = {"state": "up", **_engine_facts(server, "docker")}
        return CheckResult("cli", UP, ms, None, str(facts.get("server_version") or "")), facts
    err = cli_error(errb.decode("utf-8", "replace"), platform, host_)
    return CheckResult("cli", DOWN, ms, err), {"state": _state_of(err)}


async def _kill(proc: asyncio.subprocess.Process) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()  # TerminateProcess; the real docker.exe has no children
    except ProcessLookupError:
        pass
    try:  # wait() also waits for the pipes: bounded, in case something still holds them
        await asyncio.wait_for(proc.wait(), 1.0)
    except TimeoutError:
        pass


def cli_error(stderr: str, platform: str = sys.platform, host_: win.WindowsHost | None = None) -> ClassifiedError:
    """Classify what `docker version` printed on stderr when it found no server."""
    text = scrub(" ".join(stderr.split()))[:300] or "docker version reported no server"
    low = text.lower()
    if platform.startswith("win"):
        return _windows_cli_error(text, host_ or win.WindowsHost({}, lambda *_: None))
    if "permission denied" in low or "access is denied" in low:
        return ClassifiedError(PERMISSION, text, _permission_hint(None, platform))
    if "error response from daemon" in low:  # it answered, but is broken inside
        return ClassifiedError(HTTP, text, "the Docker daemon answers but is unhealthy: restart Docker "
                               "(or Docker Desktop), " + _ALTERNATIVE)
    if any(s in low for s in ("cannot connect to the docker daemon", "is the docker daemon running",
                              "error during connect", "connection refused", "no such file", "cannot find the file")):
        return ClassifiedError(DAEMON_DOWN, text, _down_hint(platform))
    return ClassifiedError(UNKNOWN, text, "`docker version` failed: run it yourself to see why, " + _ALTERNATIVE)


# -- Windows: Docker Desktop's and Podman's states (docker_windows.py observes them) ---------------
_PIPE_IN_TEXT = re.compile(r"open //\./pipe/([^:\s]+)", re.I)


def _windows_cli_error(text: str, host_: win.WindowsHost) -> ClassifiedError:
    low = text.lower()
    named = _PIPE_IN_TEXT.search(text)
    podman = host_.podman_user(named.group(1) if named else "")
    ctx = host_.context
    if "access is denied" in low or "permission denied" in low:
        return ClassifiedError(PERMISSION, text, win.HINT_PERMISSION)
    if "request returned" in low and "internal server error" in low:
        # Docker Desktop's pipe proxy is up, the engine behind it is not (starting, or WSL broke).
        if podman:
            return ClassifiedError(DAEMON_STARTING, text, "Podman's API proxy answers but its machine does not: "
                                   "`podman machine ls`, then `podman machine stop` and `podman machine start`, "
                                   + _ALTERNATIVE)
        return ClassifiedError(DAEMON_STARTING, text, win.HINT_STARTING)
    if "error response from daemon" in low:
        return ClassifiedError(HTTP, text, "the Docker engine answers but is unhealthy: restart Docker Desktop, "
                               + _ALTERNATIVE)
    looked = [s for p, s in host_.pipes.items() if p in win.DOCKER_PIPES]
    pipes_gone = bool(looked) and all(s == win.PIPE_ABSENT for s in looked)
    # The OS part of the CLI's message is localised: the observed pipes decide when they can.
    if named or pipes_gone or "error during connect" in low or "cannot connect" in low:
        if ctx is not None and not ctx.is_desktop:
            return ClassifiedError(DAEMON_DOWN, text, win.context_hint(ctx))
        if podman:
            return ClassifiedError(DAEMON_DOWN, text, win.HINT_PODMAN_STOPPED)
        return ClassifiedError(DAEMON_DOWN, text, win.HINT_DESKTOP_STOPPED)
    return ClassifiedError(UNKNOWN, text, "`docker version` failed: run it yourself to see why, " + _ALTERNATIVE)


def _windows_no_cli(cli: str | None, host_: win.WindowsHost) -> ClassifiedError:
    host_.look()
    pipe = host_.answering_pipe()
    if pipe is not None:  # an engine runs; only the CLI (which we need for pipes) is missing
        if pipe == win.PIPE_PODMAN or host_.podman_user():
            return ClassifiedError(CLI_MISSING, f"Podman answers on {pipe} but there is no docker CLI",
                                   win.HINT_PODMAN_NO_DOCKER_CLI.format(pipe=pipe))
        return ClassifiedError(CLI_MISSING, f"the Docker engine answers on {pipe} but there is no docker CLI",
                               win.HINT_NO_CLI_ENGINE_UP.format(pipe=pipe))
    if host_.podman_cli is not None:
        return ClassifiedError(DAEMON_DOWN, f"no docker CLI ({cli or 'disabled'}) and no Podman machine pipe",
                               win.HINT_PODMAN_STOPPED)
    if host_.desktop_installed:
        return ClassifiedError(DAEMON_DOWN, f"Docker Desktop is installed, but no docker CLI ({cli or 'disabled'}) "
                               "is on PATH and no engine pipe exists", win.HINT_DESKTOP_NO_CLI)
    return ClassifiedError(NOT_INSTALLED, f"no docker CLI ({cli or 'disabled'}), no Docker Desktop and no engine pipe",
                           win.HINT_NOT_INSTALLED)


async def _windows_why(check: CheckResult, facts: dict[str, Any], host_: win.WindowsHost,
                       wsl: Sequence[str] | None, left: float) -> tuple[CheckResult, dict[str, Any]]:
    """Docker Desktop down or starting: ask WSL whether its backend can run at all."""
    facts["pipes"] = dict(host_.look())
    facts["docker_desktop_installed"] = host_.desktop_installed
    ctx = host_.context
    if ctx is not None:
        facts["context"] = ctx.name
    err = check.error
    assert err is not None
    if (wsl and err.kind in (DAEMON_DOWN, DAEMON_STARTING) and err.hint in (win.HINT_DESKTOP_STOPPED, win.HINT_STARTING)
            and host_.desktop_installed and left > 0.1):
        said = await win.wsl_status(wsl, host_.env, min(left, 3.0))
        hint = win.wsl_problem(said or "")
        if hint is not None:
            first = " ".join((said or "").split())[:200]
            check = CheckResult(check.name, DOWN, check.latency_ms, ClassifiedError(
                WSL_OFF, f"{err.message} — `wsl --status`: {scrub(first)}", hint))
            facts["state"] = "wsl_off"
    return check, facts


# -- hints and small helpers -------------------------------------------------------------------
def _down_hint(platform: str) -> str:
    if platform.startswith("win") or platform == "darwin":
        return "Docker Desktop is not running: start it, " + _ALTERNATIVE
    return "the Docker daemon is not running: start it (`sudo systemctl start docker`), " + _ALTERNATIVE


def _permission_hint(ep: DockerEndpoint | None, platform: str) -> str:
    if platform.startswith("win"):
        return "your user may not use the Docker engine: add it to the docker-users group, then sign out and in"
    where = f" on {ep.address}" if ep and ep.kind == "unix" else ""
    return (f"your user may not use the Docker socket{where}: add it to the docker group "
            "(`sudo usermod -aG docker $USER`, then log out and in) or use rootless Docker")


def _state_of(err: ClassifiedError) -> str:
    return {DAEMON_DOWN: "daemon_down", PERMISSION: "permission_denied", CLI_MISSING: "cli_missing",
            TIMEOUT: "timeout", HTTP: "unhealthy", DAEMON_STARTING: "starting", NOT_INSTALLED: "not_installed",
            WSL_OFF: "wsl_off"}.get(err.kind, "error")


def _describe_engine(facts: dict[str, Any]) -> str:
    name = {"podman": "Podman", "docker-desktop": "Docker Desktop"}.get(facts.get("engine", ""), "Docker")
    parts = [f"{name} {facts.get('server_version') or '?'}"]
    if facts.get("api_version"):
        parts.append(f"API {facts['api_version']}")
    if facts.get("os"):
        parts.append(facts["os"] + (f"/{facts['arch']}" if facts.get("arch") else ""))
    parts.append(f"via {facts.get('endpoint', '?')}")
    return " · ".join(parts)


def _since(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000
