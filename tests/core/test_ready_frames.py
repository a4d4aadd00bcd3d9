"""core/ready_frames.py: frames taken from websockets' queue are exactly what `recv()` would have
given — same messages, same order, the same 1007 for invalid UTF-8 — and the installed websockets
still lets them be taken (otherwise every frame silently pays `recv()` again: bench/ingest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from wsdash.core.ready_frames import never, ready_texts


def _wire(*frames: Frame) -> bytes:
    return b"".join(f.serialize(mask=False, extensions=[]) for f in frames)


# One write, so that everything arrives in one read and queues up behind the first recv():
# texts, a binary frame, a fragmented text message, non-ASCII, then invalid UTF-8 (the client must
# fail the connection with 1007 there) and texts that must never be delivered.
BURST = _wire(
    *[Frame(Opcode.TEXT, f"t{i}".encode()) for i in range(50)],
    Frame(Opcode.BINARY, b"\x00\x01"),
    Frame(Opcode.TEXT, b"frag-", fin=False), Frame(Opcode.CONT, b"ment"),
    *[Frame(Opcode.TEXT, f"u{i}".encode()) for i in range(20)],
    Frame(Opcode.TEXT, "é ✓".encode()),
    Frame(Opcode.TEXT, b"\xff\xfe not utf-8"),
    *[Frame(Opcode.TEXT, f"never{i}".encode()) for i in range(5)],
)


async def _server(ws: Any) -> None:
    await ws.recv()  # "go": the client is reading
    async with ws.send_context():
        ws.transport.write(BURST)
    try:
        await ws.wait_closed()
    except ConnectionClosed:
        pass


async def _read(port: int, fast: bool) -> tuple[list[str | bytes], int | None, int]:
    async with connect(f"ws://127.0.0.1:{port}", compression=None, close_timeout=0.5) as ws:
        take = ready_texts(ws) if fast else never
        got: list[str | bytes] = []
        taken = 0
        await ws.send("go")
        try:
            while True:
                got.append(await ws.recv())
                while (text := take()) is not None:
                    got.append(text)
                    taken += 1
        except ConnectionClosed as exc:
            return got, exc.sent.code if exc.sent else None, taken


async def test_taken_frames_are_what_recv_gives_and_invalid_utf8_still_fails_with_1007() -> None:
    async with serve(_server, "127.0.0.1", 0, compression=None, close_timeout=0.5) as server:
        port = server.sockets[0].getsockname()[1]
        plain, plain_code, _ = await _read(port, fast=False)
        fast, fast_code, taken = await _read(port, fast=True)
    expected = [f"t{i}" for i in range(50)] + [b"\x00\x01", "frag-ment"] + [f"u{i}" for i in range(20)] + ["é ✓"]
    assert plain == expected and plain_code == 1007
    assert fast == plain and fast_code == plain_code
    assert taken >= 60  # most came from the queue, not from recv(): the fast path was used


async def test_the_installed_websockets_lets_frames_be_taken() -> None:
    async def quiet(ws: Any) -> None:
        await asyncio.sleep(0)

    async with serve(quiet, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            assert ready_texts(ws) is not never, "websockets' receive queue changed: update core/ready_frames.py"


def test_a_connection_without_the_expected_internals_takes_nothing() -> None:
    class Other:
        pass

    assert ready_texts(Other()) is never
