"""Exact diagnoses: what really happened and who did it — a frame that was not UTF-8 (wsdash closes
with 1007), who closed every connection, the server's own words for a refused upgrade, and why
`serve` could not listen."""

from __future__ import annotations

import errno
import json
import socket

import pytest

from tests.conftest import SECRET
from wsdash.core.errors import CLIENT, NOBODY, SERVER, classify, close_error, listen_error


def test_bad_utf8_is_reported_as_such_with_wsdash_closing_1007(server_thread, cli) -> None:
    # The whole chain: the server sends a Latin-1 text frame, websockets fails the connection with
    # 1007 from the client's side, the run says so — not "1006 … network drop".
    out = cli("golden-path", "--url", server_thread.url + "?scenario=bad-utf8", "--secret", SECRET, "--json")
    data = json.loads(out.stdout)
    err = data["error"]
    assert out.returncode == 1  # agent events had begun: the contract is violated, not "no run"
    assert err["kind"] == "closed" and err["code"] == 1007
    assert "not valid UTF-8" in err["message"] and "wsdash (the client) closed the connection with code 1007" in err["message"]
    assert "network" not in err["hint"] and "1006" not in json.dumps(data)
    assert data["close"] == {"code": 1007, "reason": data["close"]["reason"], "by": "client"}
    assert [c for c, t in data["checkpoints"].items() if t is not None] == ["agent_started", "agent_thinking"]


def test_bad_utf8_human_output(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url + "?scenario=bad-utf8", "--secret", SECRET)
    assert "error (closed 1007): a text frame from the server was not valid UTF-8" in out.stdout
    assert "wsdash (the client) closed" in out.stdout


@pytest.mark.parametrize(("by", "words"), [
    (SERVER, "the server closed the connection with code 1011"),
    (CLIENT, "wsdash (the client) closed the connection with code 1011"),
    (NOBODY, "the connection dropped with no close frame from either side, code 1006"),
])
def test_every_close_report_says_who_closed(by: str, words: str) -> None:
    assert words in close_error(1011 if by != NOBODY else 1006, "", "ws://h:1/ws", by).message


def test_a_reset_is_nobodys_close_not_the_servers() -> None:
    err = classify(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "ws://h:1/ws")
    assert err.code == 1006 and "no close frame from either side" in err.message and "server closed" not in err.message


def test_a_server_close_says_the_server_closed(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url + "?scenario=close:1011", "--secret", SECRET, "--json")
    data = json.loads(out.stdout)
    assert data["close"]["by"] == "server" and data["error"]["message"].startswith("the server closed the connection with code 1011")


def test_drop_says_nobody_sent_a_close_frame(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url + "?scenario=drop", "--secret", SECRET, "--json")
    data = json.loads(out.stdout)
    assert data["close"]["by"] == "nobody" and data["close"]["code"] == 1006
    assert "no close frame from either side" in data["error"]["message"]


def test_unknown_scenario_body_reaches_the_user(server_thread, cli) -> None:
    out = cli("golden-path", "--url", server_thread.url + "?scenario=chaos", "--secret", SECRET, "--json")
    err = json.loads(out.stdout)["error"]
    assert out.returncode == 3 and err["kind"] == "http" and err["code"] == 400
    assert "unknown scenario 'chaos'" in err["hint"] and "bad-utf8" in err["hint"] and "stall" in err["hint"]
    human = cli("golden-path", "--url", server_thread.url + "?scenario=chaos", "--secret", SECRET)
    assert "hint: the server said: unknown scenario 'chaos': choose one of" in human.stdout


def test_a_404_keeps_the_path_advice_and_quotes_the_server() -> None:
    from wsdash.core.errors import http_status_error

    err = http_status_error(404, "ws://h:1/wsx", b"no such route\n")
    assert err.message == "HTTP 404 at the WebSocket upgrade: no such route" and "check the URL's path" in err.hint


def test_serve_on_an_address_not_on_this_machine(cli) -> None:
    out = cli("serve", "--host", "8.8.8.8", "--port", "0", "--no-auth")  # bind fails locally: no packet leaves
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "8.8.8.8 is not an address of this machine" in out.stderr
    assert "port" not in out.stderr.split("—")[0].split(":", 2)[-1]  # the cause is the address, not the port


def test_serve_on_a_busy_port_says_the_port_is_taken(cli) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        out = cli("serve", "--port", str(s.getsockname()[1]), "--no-auth")
    assert out.returncode == 2 and "the port is taken" in out.stderr and "--port 0" in out.stderr


# asyncio re-raises a failed bind as OSError(err.errno, "error while attempting to bind on address …"):
# on Windows errno is the Winsock number and the text Winsock's own (WSAEADDRINUSE, WSAEADDRNOTAVAIL).
WIN_IN_USE = OSError(10048, "error while attempting to bind on address ('127.0.0.1', 8002): only one usage of each "
                            "socket address (protocol/network address/port) is normally permitted")
WIN_NOT_HERE = OSError(10049, "error while attempting to bind on address ('8.8.8.8', 8002): the requested address is "
                              "not valid in its context")
WIN_RESERVED = OSError(13, "error while attempting to bind on address ('127.0.0.1', 50000): an attempt was made to "
                           "access a socket in a way forbidden by its access permissions")  # WSAEACCES maps to 13


@pytest.mark.parametrize(("exc", "words"), [
    (WIN_IN_USE, "the port is taken"),
    (WIN_NOT_HERE, "8.8.8.8 is not an address of this machine"),
    (OSError(errno.EADDRINUSE, "address already in use"), "the port is taken"),
    (OSError(errno.EADDRNOTAVAIL, "cannot assign requested address"), "8.8.8.8 is not an address of this machine"),
    (WIN_RESERVED, "permission denied"),
])
def test_listen_errors_with_real_values(exc: OSError, words: str) -> None:
    err = listen_error(exc, "8.8.8.8" if "not an address" in words else "127.0.0.1", 8002)
    assert words in err.message
    if exc is WIN_RESERVED:
        assert isinstance(exc, PermissionError) and "excludedportrange" in err.hint


async def test_the_dashboards_session_says_who_closed_too(server) -> None:
    # The live session reads the close from its reader task: before, ws.close_code said 1006 and
    # "the server closed" for wsdash's own 1007.
    import asyncio

    from wsdash.core.auth import mint_token
    from wsdash.services.session.handshake import SessionOptions
    from wsdash.services.session.live import LiveSession

    token = mint_token(SECRET)
    live = LiveSession(SessionOptions(url=server.url + "?scenario=bad-utf8", timeout_s=5, established_wait_s=0.05), lambda: token)
    live.request_run()
    task = asyncio.create_task(live.run_forever())
    try:
        for _ in range(200):
            if live.results:
                break
            await asyncio.sleep(0.05)
    finally:
        live.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    result = live.results[0]
    assert result.close == (1007, result.close[1]) and result.close_by == "client"
    assert result.error is not None and "not valid UTF-8" in result.error.message
