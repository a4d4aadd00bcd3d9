"""Record a session as JSON lines and replay it through the same judge.

Each line: {"k": kind, "t": monotonic seconds, ...}. Kinds: start, open, send, recv, close,
error, end. Binary frames are stored base64 ("b64"). Everything is scrubbed of secrets before it
is written (redact.scrub), so a recording can be shared.
"""

from __future__ import annotations

import base64
import json
import math
import os
from pathlib import Path
from typing import IO, Any, Iterator

from wsdash.core.errors import ClassifiedError
from wsdash.core.contract import Budgets
from wsdash.core.redact import scrub, scrub_obj
from wsdash.core.judged_run import Run, RunResult
from wsdash.core.run_rows import RowSink

FORMAT = "wsdash-recording/1"

# What json's encoder uses for str and finite float with ensure_ascii=False (the C versions).
_encode_str = json.encoder.encode_basestring
_float_repr = float.__repr__
_isfinite = math.isfinite


class RecordingError(ValueError):
    """A file that is not a wsdash recording, or a damaged one: says which line and why."""


def recording_file(path: str | os.PathLike[str], run_number: int = 1) -> Path:
    """Where a run is recorded: `path` itself, or a new timestamped file when it is a directory."""
    import time

    target = Path(path)
    if not target.is_dir():
        return target
    return target / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{run_number}.jsonl"


class Recorder:
    """A RunListener writing JSON lines; buffered, flushed on close."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._f: IO[str] = open(self.path, "w", encoding="utf-8", buffering=1 << 16)
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self._f.write(self._dumps({"k": "format", "format": FORMAT}) + "\n")

    def record(self, kind: str, at: float, **data: Any) -> None:
        if kind == "recv" or kind == "send":
            raw = data["data"]
            if isinstance(raw, (bytes, bytearray)):
                # Scrubbed too: a binary frame may carry a token as text. Bytes that are not UTF-8
                # survive the round trip untouched (surrogateescape).
                clean = scrub(bytes(raw).decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
                line = {"k": kind, "t": at, "b64": base64.b64encode(clean).decode("ascii")}
            elif type(at) is float and _isfinite(at) and type(raw) is str:
                # The per-frame path, written by hand: byte-for-byte what the encoder makes of
                # {"k": kind, "t": at, "data": scrub(raw)[, "message": true]}, at a third of the cost.
                text = scrub(raw)
                self._f.write(f'{{"k":"{kind}","t":{_float_repr(at)},"data":{_encode_str(text)}'
                              + (',"message":true}\n' if data.get("message") else "}\n"))
                return
            else:
                line = {"k": kind, "t": at, "data": scrub(raw)}
                if data.get("message"):
                    line["message"] = True
        else:
            line = {"k": kind, "t": at, **scrub_obj(data)}
        self._f.write(self._dumps(line) + "\n")

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    try:
        f = open(path, encoding="utf-8")
    except OSError as exc:
        raise RecordingError(f"cannot open recording {path}: {exc.strerror or exc}") from None
    with f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                raise RecordingError(f"{path}:{number}: not a JSON line — is this a wsdash recording?") from None
            if not isinstance(rec, dict) or "k" not in rec:
                raise RecordingError(f"{path}:{number}: not a wsdash record (no 'k' field)")
            if number == 1 and rec.get("format") != FORMAT:
                raise RecordingError(f"{path}: not a wsdash recording (expected format {FORMAT})")
            yield rec


def feed(run: Run, rec: dict[str, Any]) -> bool:
    """Apply one record to a Run. Returns True on the final record ('end'). A damaged record
    raises RecordingError naming it, never anything else."""
    try:
        return _apply(run, rec)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise RecordingError(f"a damaged {rec.get('k')!r} record (t={rec.get('t')!r}): {exc}") from None


def _apply(run: Run, rec: dict[str, Any]) -> bool:
    kind, at = rec["k"], float(rec.get("t", 0.0))
    if kind == "start":
        run.url = str(rec.get("url", ""))
        run.token = rec.get("token")
    elif kind == "open":
        run.opened(at, float(rec.get("connect_s", 0.0)), rec.get("phases") or {})
    elif kind == "send":
        run.sent(at, rec.get("data", ""), is_message=bool(rec.get("message")))
    elif kind == "recv":
        data: str | bytes = base64.b64decode(rec["b64"]) if "b64" in rec else rec.get("data", "")
        run.received(at, data)
    elif kind == "close":
        run.closed(at, int(rec.get("code", 1006)), str(rec.get("reason", "")), str(rec.get("by", "server")))
    elif kind == "error":
        e = rec.get("error") or {}
        run.failed(at, ClassifiedError(e.get("kind", "unknown"), e.get("message", ""), e.get("hint", ""), e.get("code")))
    elif kind == "end":
        return True
    return False


def records_of_run(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The records to feed, in order (the format line left out). Raises RecordingError."""
    for rec in iter_records(path):
        if rec["k"] != "format":
            yield rec


def replay(path: str | os.PathLike[str], budgets: Budgets | None = None, row_sink: RowSink | None = None) -> RunResult:
    """Re-judge a recording as fast as possible; the same result a live run would give."""
    run = Run("", budgets, row_sink=row_sink)
    last_t: float | None = None
    timed_out = False
    for rec in records_of_run(path):
        if feed(run, rec):
            timed_out = bool(rec.get("timed_out"))
        last_t = time_of(rec, last_t)
        if rec["k"] == "end":
            break
    if last_t is None:
        raise RecordingError(f"{path}: the recording is empty")
    return run.finish(last_t, timed_out=timed_out)


def time_of(rec: dict[str, Any], default: float | None) -> float | None:
    try:
        return float(rec["t"]) if "t" in rec else default
    except (TypeError, ValueError):
        raise RecordingError(f"a record with a bad time t={rec.get('t')!r}") from None
