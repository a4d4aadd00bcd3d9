"""core/plain_frames.py: a sped-up websockets client protocol gives exactly what the plain one gives —
the same frames, pongs, close handshakes, 1002/1009 failures and EOF errors — for any stream of
frames cut anywhere; and it really does skip websockets' parser for a burst of plain text frames
(otherwise the speed is lost in silence: bench/ingest.py)."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from wsdash.core.plain_frames import speed_up

MAX_SIZE = 1000


def _open(fast: bool, max_size: int | tuple[int, int] = MAX_SIZE) -> ClientProtocol:
    """A client protocol after a real handshake with websockets' own server protocol."""
    client, server = ClientProtocol(parse_uri("ws://example.test/ws"), max_size=max_size), ServerProtocol()
    client.send_request(client.connect())
    for data in client.data_to_send():
        server.receive_data(data)
    server.send_response(server.accept(server.events_received()[0]))
    for data in server.data_to_send():
        client.receive_data(data)
    client.events_received()
    if fast:
        assert speed_up(client), "websockets' internals changed: update core/plain_frames.py"
    return client


def _header(first: int, length: int, masked: bool = False) -> bytes:
    mask = 0x80 if masked else 0
    if length < 126:
        return bytes([first, mask | length])
    if length < 65536:
        return bytes([first, mask | 126]) + length.to_bytes(2, "big")
    return bytes([first, mask | 127]) + length.to_bytes(8, "big")


def _raw(first: int, payload: bytes, masked: bool = False) -> bytes:
    return _header(first, len(payload), masked) + (b"\x01\x02\x03\x04" + payload if masked else payload)


payloads = st.one_of(st.binary(max_size=40), st.binary(min_size=126, max_size=400), st.text(max_size=30).map(str.encode))
# Each a frame's bytes on the wire: what a burst is made of, and everything the fast path must leave alone.
frames = st.one_of(
    payloads.map(lambda p: _raw(0x81, p)),  # plain text (invalid UTF-8 included: recv() judges that)
    payloads.map(lambda p: _raw(0x81, p)),
    st.binary(min_size=65536, max_size=65540).map(lambda p: _raw(0x81, p)),  # 8-byte length, over MAX_SIZE
    st.binary(max_size=20).map(lambda p: _raw(0x81, p, masked=True)),  # a server must not mask: 1002
    payloads.map(lambda p: _raw(0x82, p)),  # binary
    st.binary(max_size=20).map(lambda p: _raw(0x89, p)),  # ping: a pong goes back
    st.binary(max_size=20).map(lambda p: _raw(0x8A, p)),  # pong
    st.binary(max_size=20).map(lambda p: _raw(0x01, p) + _raw(0x80, b"end")),  # fragmented text
    st.binary(max_size=20).map(lambda p: _raw(0x01, p)),  # a fragment left open
    st.binary(max_size=20).map(lambda p: _raw(0x80, p)),  # a continuation out of nowhere: 1002
    st.binary(max_size=20).map(lambda p: _raw(0xC1, p)),  # RSV1 without an extension: 1002
    st.binary(max_size=20).map(lambda p: _raw(0x83, p)),  # a reserved opcode: 1002
    st.just(Close(1000, "bye").serialize()).map(lambda p: _raw(0x88, p)),  # the closing handshake
    st.just(_raw(0x81, b"x" * (MAX_SIZE + 1))),  # one byte too many: 1009
    st.just(b"\x81\x7e\x00\x05hello"),  # a length not minimally encoded: allowed
)


def _sent(writes: list[bytes]) -> list[Any]:
    """What the client wrote, unmasked (a client masks with random keys)."""
    from websockets.streams import StreamReader

    out: list[Any] = []
    for data in writes:
        if not data:
            out.append("EOF")
            continue
        reader = StreamReader()
        reader.feed_data(data)
        while reader.buffer:
            parse = Frame.parse(reader.read_exact, mask=True, max_size=None, extensions=[])
            try:
                while True:
                    next(parse)
            except StopIteration as done:
                out.append((done.value.opcode, bytes(done.value.data)))
    return out


def _state(client: ClientProtocol) -> Any:
    exc = client.parser_exc
    return (
        [(e.opcode, bytes(e.data), e.fin, e.rsv1, e.rsv2, e.rsv3) for e in client.events_received()],
        _sent(client.data_to_send()), client.state, client.close_rcvd, client.close_sent, client.current_size,
        None if exc is None else (type(exc), str(exc)),
    )


def _feed(client: ClientProtocol, chunk: bytes | None) -> Any:
    try:
        if chunk is None:
            client.receive_eof()
        else:
            client.receive_data(chunk)
        raised = None
    except Exception as exc:  # noqa: BLE001 - the two must raise alike, too
        raised = (type(exc), str(exc))
    return raised, _state(client)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(stream=st.lists(frames, max_size=25), cuts=st.lists(st.integers(min_value=0, max_value=70_000), max_size=12),
       at_frames=st.booleans(), short=st.integers(min_value=0, max_value=3), eof=st.booleans(),
       fragment_limit=st.sampled_from([None, 100]))
def test_a_sped_up_protocol_gives_exactly_what_websockets_gives(
    stream: list[bytes], cuts: list[int], at_frames: bool, short: int, eof: bool, fragment_limit: int | None,
) -> None:
    """Reads cut anywhere (and, often, exactly between frames, where the fast path decides); the
    stream's last bytes may be missing (a frame cut short by EOF)."""
    wire = b"".join(stream)
    wire = wire[:max(0, len(wire) - short)]
    edges = {0, len(wire), *(c % (len(wire) + 1) for c in cuts)}
    if at_frames:
        edges.update(e for e in itertools.accumulate(len(f) for f in stream) if e <= len(wire))
    points = sorted(edges)
    chunks: list[bytes | None] = [wire[a:b] for a, b in zip(points, points[1:])] + ([None] if eof else [])
    size = MAX_SIZE if fragment_limit is None else (MAX_SIZE, fragment_limit)
    plain, fast = _open(False, size), _open(True, size)
    for n, chunk in enumerate(chunks):
        assert _feed(fast, chunk) == _feed(plain, chunk), f"after chunk {n} of {len(chunks)}"


def _count_parses(monkeypatch: Any) -> list[int]:
    """From now on, one item for every frame websockets' own `Frame.parse` parses."""
    import websockets.frames

    parsed: list[int] = []
    original = websockets.frames.Frame.parse.__func__

    def counting(cls: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return (yield from original(cls, *args, **kwargs))

    monkeypatch.setattr(websockets.frames.Frame, "parse", classmethod(counting))
    return parsed


def test_a_burst_of_text_frames_never_reaches_websockets_parser(monkeypatch: Any) -> None:
    client = _open(fast=True)
    parsed = _count_parses(monkeypatch)
    wire = b"".join(Frame(Opcode.TEXT, f'{{"type":"agent_thinking","n":{i}}}'.encode()).serialize(mask=False) for i in range(300))
    for start in range(0, len(wire), 997):  # reads that cut frames anywhere, headers included
        client.receive_data(wire[start:start + 997])
    texts = [bytes(e.data) for e in client.events_received()]
    assert texts == [f'{{"type":"agent_thinking","n":{i}}}'.encode() for i in range(300)]
    assert parsed == []
    client.receive_data(_raw(0x89, b"hi"))  # a ping still goes through websockets (and is answered)
    assert parsed == [1] and client.data_to_send()


def test_a_ping_in_a_burst_goes_to_websockets_alone_and_the_burst_goes_on_here(monkeypatch: Any) -> None:
    # Handing websockets the rest of the read with the ping kept the fast path off until a read
    # happened to end between two frames: most of a backlogged burst, in reads cut anywhere.
    client = _open(fast=True, max_size=10**6)
    parsed = _count_parses(monkeypatch)
    texts = [f'{{"type":"agent_thinking","n":{i}}}'.encode() for i in range(3000)]
    pings = {10, 1500, 2990}
    wire = b"".join((_raw(0x89, b"ka") if i in pings else b"") + _raw(0x81, t) for i, t in enumerate(texts))
    for start in range(0, len(wire), 4093):
        client.receive_data(wire[start:start + 4093])
    got = client.events_received()
    assert [bytes(e.data) for e in got if e.opcode is Opcode.TEXT] == texts
    assert [e.opcode for e in got].count(Opcode.PING) == 3
    assert len(_sent(client.data_to_send())) == 3  # each answered
    assert len(parsed) <= 2 * len(pings), f"{len(parsed)} of {len(texts)} frames went through websockets' parser"


extra_frames = st.one_of(
    frames,
    st.just(bytes([0x81, 127]) + (2**63 + 3).to_bytes(8, "big") + b"abc"),  # the top bit of an 8-byte length
    st.just(bytes([0x81, 127]) + (3).to_bytes(8, "big") + b"abc"),  # a short frame, 8-byte length
)
ACTS = {
    "close": lambda c: c.send_close(1000, "bye"),
    "fail": lambda c: c.fail(1011, "gone"),
    "ping": lambda c: c.send_ping(b"p"),
}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(stream=st.lists(extra_frames, max_size=15), cuts=st.lists(st.integers(0, 70_000), max_size=10),
       max_size=st.sampled_from([MAX_SIZE, None, 70_000]), kind=st.sampled_from([bytes, bytearray, memoryview]),
       acts=st.dictionaries(st.integers(0, 12), st.sampled_from(["close", "fail", "ping", "eof"]), max_size=3))
def test_the_same_with_the_client_acting_between_reads(
    stream: list[bytes], cuts: list[int], max_size: int | None, kind: Any, acts: dict[int, str],
) -> None:
    """The client closing, failing or pinging between reads (while a frame is held here, too), no
    size limit, reads as bytes, bytearray or memoryview, data after EOF."""
    wire = b"".join(stream)
    points = sorted({0, len(wire), *(c % (len(wire) + 1) for c in cuts)})
    chunks: list[bytes | None] = [wire[a:b] for a, b in zip(points, points[1:])] + [None]
    plain, fast = _open(False, max_size), _open(True, max_size)
    for n, chunk in enumerate(chunks):
        act = acts.get(n)
        if act == "eof":
            assert _feed(fast, None) == _feed(plain, None), f"EOF before chunk {n}"
        elif act is not None:
            outcomes = []
            for client in (plain, fast):
                try:
                    ACTS[act](client)
                    outcomes.append(None)
                except Exception as exc:  # noqa: BLE001 - the two must raise alike
                    outcomes.append((type(exc), str(exc)))
            assert outcomes[0] == outcomes[1], f"{act} before chunk {n}"
        data = None if chunk is None else kind(bytearray(chunk)) if kind is memoryview else kind(chunk)
        assert _feed(fast, data) == _feed(plain, data), f"after chunk {n} of {len(chunks)} ({act or 'no act'})"


async def test_every_connection_wsdash_opens_is_sped_up() -> None:
    """open_ws installs the fast path (a burst through it is then parsed here, not by websockets)."""
    import asyncio

    from websockets.asyncio.server import serve

    from wsdash.core.connection import open_ws

    async def burst(ws: Any) -> None:
        for i in range(200):
            await ws.send(f"m{i}")
        await asyncio.sleep(1)

    async with serve(burst, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        conn = await open_ws(f"ws://127.0.0.1:{port}/ws", timeout=5)
        try:
            assert "plain_frames" in getattr(conn.ws.protocol.receive_data, "__module__", ""), "open_ws no longer speeds up its connections"
            assert [await conn.ws.recv() for _ in range(200)] == [f"m{i}" for i in range(200)]
        finally:
            await conn.ws.close()


def test_a_frame_taken_from_a_memoryview_does_not_share_its_buffer() -> None:
    # websockets' own connections pass bytes; a caller passing a view of a buffer it reuses must not
    # see its frames change (websockets' parser copies, so the plain protocol never did).
    client = _open(fast=True)
    buffer = bytearray(_raw(0x81, b"hello"))
    client.receive_data(memoryview(buffer))
    buffer[2:] = b"XXXXX"
    assert [bytes(e.data) for e in client.events_received()] == [b"hello"]
