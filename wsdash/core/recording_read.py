"""Reading a recording: a file's bytes → its lines → records checked as they are read.

What the file must be (UTF-8 JSON lines under a format header) and what a killed writer may leave
(no 'end', a partial last line: a *cut* recording, judged on what it holds) are decided here; what
each record holds and their order, in core/recording_rules.py. Every way a file can be unreadable
is a RecordingError naming the file and, past the header, the line.
"""

from __future__ import annotations

import codecs
import json
import os
from typing import IO, Any, Iterator

from wsdash.core.config_file import encoding_problem
from wsdash.core.recording_rules import FORMAT_NAME, FORMAT_VERSION, RecordingError, RecordOrder, check_record

_HEADER_MAX = 64 * 1024  # a first line longer than this is not a header (random bytes, no newline)
# The header line of a BOM-less UTF-16 file: '{' with a NUL after it (LE) or before it (BE).
_UTF16_HEADER = (b'{\x00"\x00', b'\x00{\x00"')


def _header(name: str, line: bytes) -> dict[str, Any]:
    """The format header (line 1), or RecordingError saying what the file is instead."""
    line = line.removeprefix(codecs.BOM_UTF8)  # Notepad's "UTF-8 with BOM": read, as config files are
    problem = encoding_problem(name, line, looks_utf16=line.startswith(_UTF16_HEADER))
    if problem is not None:
        raise RecordingError(f"{name}: {problem}")
    not_ours = f"{name}: not a wsdash recording (its first line is not a {FORMAT_NAME} header)"
    try:
        rec = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" thousands deep
        raise RecordingError(not_ours) from None
    fmt = rec.get("format") if isinstance(rec, dict) and rec.get("k") == "format" else None
    head, _, version = fmt.partition("/") if isinstance(fmt, str) else ("", "", "")
    if head != FORMAT_NAME or not version.isdigit() or int(version) < 1:
        raise RecordingError(not_ours)
    if int(version) > FORMAT_VERSION:
        writer = rec.get("wsdash")
        upgrade = f": replay it with wsdash {writer} or later" if isinstance(writer, str) else ": upgrade wsdash to replay it"
        raise RecordingError(f"{name} was written by a newer wsdash (format {int(version)}); this one reads format {FORMAT_VERSION}{upgrade}")
    return rec


def _cut(name: str, bad: tuple[int, bool, str] | None) -> dict[str, Any]:
    """The record standing for a recording that ends before its run did."""
    message = f"{name} was cut short: the process recording it stopped before the run ended (there is no 'end' record)"
    if bad is not None:
        number, complete, _ = bad
        message += (f"; its last line ({number}) is not a complete record" if complete
                    else f"; its last line ({number}) was cut off mid-write") + " and is left out"
    return {"k": "cut", "line": None if bad is None else bad[0], "message": message,
            "hint": "judged on what was recorded before the cut: events after it are unknown, not missing"}


def numbered_records(path: str | os.PathLike[str]) -> Iterator[tuple[int | None, dict[str, Any]]]:
    """(line, record) for every record in order, the header (line 1) first, each checked as it is
    read (core/recording_rules.py). A recording that stops before its 'end' record (its writer was
    killed, the disk filled) ends with (None, {"k": "cut", ...}) saying so, its last line left out
    when that was cut mid-write. Anything else that is not a record raises RecordingError naming
    the file and the line."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise RecordingError(f"{name} is a directory, not a recording")
    try:
        f = open(name, "rb")
    except OSError as exc:
        raise RecordingError(f"cannot open recording {name}: {exc.strerror or exc}") from None
    with f:
        try:
            yield from _read(name, f)
        except OSError as exc:  # a read error mid-file (a network drive gone)
            raise RecordingError(f"cannot read recording {name}: {exc.strerror or exc}") from None


def _read(name: str, f: IO[bytes]) -> Iterator[tuple[int | None, dict[str, Any]]]:
    first = f.readline(_HEADER_MAX)
    if not first:
        raise RecordingError(f"{name} is empty: not a wsdash recording")
    yield 1, _header(name, first)
    order = RecordOrder(name)
    # A line that is not a record: (its number, ended by a newline, why). Fine only as the last
    # line of a recording without its 'end' — what a writer killed mid-write leaves.
    bad: tuple[int, bool, str] | None = None
    ended = False
    for number, line in enumerate(f, 2):
        if not line.strip():
            continue
        if bad is not None:
            raise RecordingError(f"{name}:{bad[0]}: {bad[2]}")
        try:
            text = line.decode("utf-8", "surrogatepass")  # what the writer encodes with
        except UnicodeDecodeError as exc:  # a killed writer can cut a character in two: only then fine
            bad = (number, line.endswith(b"\n"), f"not UTF-8 text (byte 0x{line[exc.start]:02x} at column {exc.start + 1}): "
                   "wsdash writes recordings in UTF-8 — was the file saved in another encoding (an ANSI code page "
                   "such as Windows-1252?)")
            continue
        try:
            rec = json.loads(text)
        except ValueError:
            bad = (number, line.endswith(b"\n"), "not a JSON line — is this a wsdash recording?")
            continue
        except RecursionError:  # "[[[[…" thousands deep: no record wsdash writes nests past a few levels
            bad = (number, line.endswith(b"\n"), "nested thousands of levels deep: not a record wsdash writes")
            continue
        check_record(name, number, rec)
        order.check(number, rec)  # after 'end' too: a line there is an error, not left unread
        yield number, rec
        ended = ended or rec["k"] == "end"
    if ended:
        if bad is not None:  # a last line after the 'end', not even a record: no writer was cut there
            raise RecordingError(f"{name}:{bad[0]}: {bad[2]} (after the run's 'end', which is the last line)")
        return
    yield None, _cut(name, bad)
