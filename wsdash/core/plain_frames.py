"""Parse a connection's plain text frames without websockets' generator-based frame parser.

In a burst every agent event is one small, unmasked, unfragmented text frame, and websockets parses
each through `Frame.parse`: a generator, four `read_exact` sub-generators, an `Opcode` lookup, a
dataclass — a third of what a burst frame costs wsdash (py-spy on `golden-path`, BENCHMARKS.md).
`speed_up(protocol)` makes the connection's sans-I/O protocol take such frames straight out of
each socket read and hand them on exactly as `Frame.parse` + `recv_frame` would have: the same
`Frame(TEXT, payload, fin=True)` appended to the same event list, in the same order.

Only while websockets' own parser is provably between frames (suspended waiting for the next one,
its buffer empty, no fragmented message in progress, the connection open, no extension, no debug
logging), and only for frames that are plainly fine: FIN and TEXT with no RSV bit, unmasked, within
the size limit. A frame that is anything else — a ping, a close, a binary or fragmented frame, a
masked frame, RSV bits, an oversized frame — goes to websockets' parser, which deals with it as it
always did (pong, close handshake, 1002, 1009, …): alone when it is short and whole in its read (a
ping in the middle of a burst), and the fast path goes on after it if that parser is between frames
again; otherwise with every byte after it, and the fast path waits until that parser is between
frames again. A text frame cut by the end of a read is held here until the rest arrives; at EOF it
is handed to websockets first, so "stream ends after N bytes" is still its error. UTF-8 is still
checked where it always was (`recv()`, and ready_frames.take()).

This reads websockets internals (the parser generator, its reader, `events`): where they are
not as expected, `speed_up` leaves the connection alone and returns False, and
tests/core/test_plain_frames.py fails so the speed is never lost in silence. The same tests feed
random frame streams, cut at random places, to a sped-up and a plain protocol and compare all that
comes out.
"""

from __future__ import annotations

from typing import Any


def speed_up(protocol: Any) -> bool:
    """Install the fast path on a websockets client protocol (`ws.protocol`); False where its
    internals are not as this module expects (the protocol is then left as it was)."""
    try:
        from websockets.frames import Frame, Opcode
        from websockets.protocol import OPEN, Protocol
        from websockets.streams import StreamReader

        reader = protocol.reader
        parse_code = Protocol.parse.__code__
        at_eof_code = StreamReader.at_eof.__code__
        original_data, original_eof = protocol.receive_data, protocol.receive_eof
        if not (isinstance(reader, StreamReader) and isinstance(protocol.events, list)
                and hasattr(protocol.parser, "gi_yieldfrom") and hasattr(protocol, "current_size")
                and hasattr(protocol, "max_message_size") and hasattr(protocol, "max_fragment_size")):
            return False
    except (ImportError, AttributeError):
        return False

    TEXT = Opcode.TEXT
    held = bytearray()  # the start of a text frame the last read cut short
    need = 0  # how long that frame is, header included, once its header is all here (else 0)

    def between_frames() -> bool:
        """websockets' parser is suspended in `Protocol.parse`, at `reader.at_eof()` — i.e. waiting
        for the first byte of the next frame with its buffer empty (at_eof only waits on an empty
        one), not in the middle of a frame nor discarding after a close. Frames parsed here do
        not step it. (A separate fragment size limit is websockets' alone: open_ws sets none.)"""
        if (protocol.state is not OPEN or protocol.debug or protocol.extensions or protocol.current_size is not None
                or protocol.max_fragment_size is not None):
            return False
        gen, in_parse = protocol.parser, False
        while gen is not None:
            code = getattr(gen, "gi_code", None)
            if code is parse_code:
                in_parse = True
            inner = getattr(gen, "gi_yieldfrom", None)
            if inner is None:
                return in_parse and code is at_eof_code
            gen = inner
        return False

    def hold(part: bytes | bytearray, whole: int) -> None:
        nonlocal need
        held.extend(part)
        need = whole

    def receive_data(data: bytes | bytearray | memoryview) -> None:
        if type(data) is memoryview:  # a frame must not share a buffer its caller may reuse
            data = bytes(data)
        if held:
            held.extend(data)
            if len(held) < need:  # a big frame arriving read by read: no copy until it is whole
                return
            data = bytes(held)
            held.clear()
        if not between_frames():
            original_data(data)
            return
        limit = protocol.max_message_size
        append, size, i = protocol.events.append, len(data), 0
        while size - i >= 2:
            if data[i] != 0x81:  # FIN, no RSV bit, TEXT
                # Anything else goes to websockets. A short frame whole in this read (a ping, a
                # pong: control frames carry at most 125 bytes) goes alone, and when that leaves its
                # parser between frames the burst goes on here: handing it the rest of the read
                # would keep the fast path off until some read happened to end between two frames.
                second = data[i + 1]
                end = i + 2 + (4 if second & 0x80 else 0) + (second & 0x7F)
                if second & 0x7F >= 126 or end > size:
                    break
                original_data(data[i:end])
                i = end
                if not between_frames():
                    break
                continue
            length = data[i + 1]  # unmasked (a server's frames must be): the mask bit is 0
            if length >= 126:
                if length == 126:
                    if size - i < 4:
                        hold(data[i:], 0)
                        return
                    length, start = int.from_bytes(data[i + 2:i + 4], "big"), i + 4
                elif length == 127:
                    if size - i < 10:
                        hold(data[i:], 0)
                        return
                    length, start = int.from_bytes(data[i + 2:i + 10], "big"), i + 10
                else:  # masked
                    break
            else:
                start = i + 2
            if limit is not None and length > limit:
                break  # websockets fails the connection with 1009
            end = start + length
            if end > size:
                hold(data[i:], end - i)
                return
            append(Frame(TEXT, data[start:end], True))
            i = end
        if i < size:
            if size - i < 2 and data[i] == 0x81:
                hold(data[i:], 0)  # a text frame's first byte: its second is in the next read
            else:
                original_data(data[i:])  # not a plain text frame: websockets' parser from here on

    def receive_eof() -> None:
        if held:
            rest = bytes(held)
            held.clear()
            original_data(rest)
        original_eof()

    protocol.receive_data = receive_data
    protocol.receive_eof = receive_eof
    return True
