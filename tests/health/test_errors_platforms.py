"""Windows and macOS connection failures, built from the real exception types with the attributes
those platforms set, and wrapped the way httpx/httpcore/anyio wrap them (docs/protocol.md §7).

CI runs on Linux, so these objects cannot come from real sockets: everything else in tests/health
does. `winerror` is set by hand because CPython only honours the constructor's winerror on Windows.
"""

from __future__ import annotations

import socket
import ssl

import httpcore
import httpx
import pytest

from wsdash.core.errors import classify, is_refused
from wsdash.services.health.docker import DAEMON_DOWN, DockerEndpoint, _api_error, cli_error

URL_8002 = "ws://127.0.0.1:8002/ws"


def windows(exc: OSError, winerror: int) -> OSError:
    exc.winerror = winerror  # type: ignore[attr-defined]
    return exc


def like_httpx(cause: BaseException) -> httpx.ConnectError:
    """httpx.ConnectError ← httpcore.ConnectError ← OSError('All connection attempts failed') ← cause,
    each raised `from` the one below, as anyio + httpcore + httpx do."""
    try:
        try:
            try:
                try:
                    raise cause
                except OSError as exc:
                    raise OSError("All connection attempts failed") from exc
            except OSError as exc:
                raise httpcore.ConnectError("All connection attempts failed") from exc
        except httpcore.ConnectError as exc:
            raise httpx.ConnectError("All connection attempts failed") from exc
    except httpx.ConnectError as wrapped:
        return wrapped


REFUSED_CASES = {
    # asyncio's default (proactor) loop on Windows: winerror 1225, errno reads 22
    "windows-proactor-1225": windows(ConnectionRefusedError(22, "[WinError 1225] The remote computer refused the network connection"), 1225),
    # blocking Winsock sockets: 10061
    "windows-winsock-10061": windows(ConnectionRefusedError(10061, "[WinError 10061] No connection could be made because the target machine actively refused it"), 10061),
    # the same, arriving as a bare OSError (no subclass picked): winerror alone must be enough
    "windows-bare-oserror-1225": windows(OSError(22, "The remote computer refused the network connection"), 1225),
    "macos-61": ConnectionRefusedError(61, "Connection refused"),
    "linux-111": ConnectionRefusedError(111, "Connection refused"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_CASES))
def test_refused_on_every_platform_even_wrapped_by_httpx(case: str) -> None:
    cause = REFUSED_CASES[case]
    for exc in (cause, like_httpx(cause)):
        assert is_refused(exc), case
        err = classify(exc, URL_8002)
        assert err.kind == "refused", (case, err)
        assert "127.0.0.1:8002" in err.hint and "Docker test stack" in err.hint


def test_windows_timeout_10060() -> None:
    exc = windows(TimeoutError(10060, "[WinError 10060] A connection attempt failed because the connected party did not properly respond"), 10060)
    assert classify(like_httpx(exc), URL_8002).kind == "timeout"
    assert classify(httpx.ConnectTimeout("timed out"), URL_8002).kind == "timeout"


def test_windows_dns_failure_11001() -> None:
    exc = socket.gaierror(11001, "getaddrinfo failed")
    err = classify(like_httpx(exc), "wss://api.staging.example.invalid/ws")
    assert err.kind == "dns" and "does not resolve" in err.hint


@pytest.mark.parametrize("winerror", [10051, 10065, 1231])
def test_windows_network_unreachable(winerror: int) -> None:
    exc = windows(OSError(winerror, "network unreachable"), winerror)
    assert classify(like_httpx(exc), URL_8002).kind == "network"


def test_windows_reset_10054_is_an_abnormal_close() -> None:
    exc = windows(ConnectionResetError(10054, "An existing connection was forcibly closed by the remote host"), 10054)
    err = classify(exc, URL_8002)
    assert err.kind == "closed" and err.code == 1006


def test_certificate_failure_wrapped() -> None:
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate")
    assert classify(like_httpx(cause), "wss://127.0.0.1:8443/ws").kind == "tls"


def test_permission_denied_on_the_docker_socket() -> None:
    cause = PermissionError(13, "Permission denied")
    err = _api_error(like_httpx(cause), DockerEndpoint("unix", "/var/run/docker.sock", "default socket"), 3.0, "linux")
    assert err.kind == "permission" and "docker group" in err.hint
    assert classify(like_httpx(cause)).kind == "permission"


def test_missing_docker_socket_on_macos_means_docker_desktop() -> None:
    cause = FileNotFoundError(2, "No such file or directory")
    err = _api_error(like_httpx(cause), DockerEndpoint("unix", "/Users/me/.docker/run/docker.sock", "default socket"), 3.0, "darwin")
    assert err.kind == DAEMON_DOWN and err.hint.startswith("Docker Desktop is not running")


@pytest.mark.parametrize("text", [
    "open //./pipe/dockerDesktopLinuxEngine: The system cannot find the file specified.",
    "error during connect: this error may indicate that the docker daemon is not running: Get "
    "\"http://%2F%2F.%2Fpipe%2Fdocker_engine/v1.24/version\": open //./pipe/docker_engine: The system cannot find the file specified.",
])
def test_windows_docker_desktop_not_running(text: str) -> None:
    err = cli_error(text, "win32")
    assert err.kind == DAEMON_DOWN
    assert err.hint.startswith("Docker Desktop is not running: start it, or run `wsdash demo` (it needs no Docker)")
