"""Record a session as JSON lines and replay it through the same judge.

Each line: {"k": kind, "t": monotonic seconds, ...}. Kinds: start, open, send, recv, close,
error, end. Binary frames are stored base64 ("b64"). Everything is scrubbed of secrets before it
is written (redact.scrub), so a recording can be shared.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import IO, Any, Iterator

from wsdash.errors import ClassifiedError
from wsdash.golden_path import Budgets
from wsdash.redact import scrub, scrub_obj
from wsdash.run import Run, RunResult

FORMAT = "wsdash-recording/1"


class RecordingError(ValueError):
    """A file that is not a wsdash recording, or a damaged one: says which line and why."""


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
                line = {"k": kind, "t": at, "b64": base64.b64encode(raw).decode("ascii")}
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
    """Apply one record to a Run. Returns True on the final record ('end')."""
    kind, at = rec["k"], float(rec.get("t", 0.0))
    if kind == "start":
        pass
    elif kind == "open":
        run.opened(at, float(rec.get("connect_s", 0.0)), rec.get("phases") or {})
    elif kind == "send":
        run.sent(at, rec.get("data", ""), is_message=bool(rec.get("message")))
    elif kind == "recv":
        data: str | bytes = base64.b64decode(rec["b64"]) if "b64" in rec else rec.get("data", "")
        run.received(at, data)
    elif kind == "close":
        run.closed(at, int(rec.get("code", 1006)), str(rec.get("reason", "")))
    elif kind == "error":
        e = rec.get("error") or {}
        run.failed(at, ClassifiedError(e.get("kind", "unknown"), e.get("message", ""), e.get("hint", ""), e.get("code")))
    elif kind == "end":
        return True
    return False


def replay(path: str | os.PathLike[str], budgets: Budgets | None = None) -> RunResult:
    """Re-judge a recording as fast as possible; the same result a live run would give."""
    records = iter_records(path)
    url = ""
    run: Run | None = None
    last_t = 0.0
    timed_out = False
    for rec in records:
        if rec["k"] == "format":
            continue
        if run is None:
            url = str(rec.get("url", "")) if rec["k"] == "start" else ""
            run = Run(url, budgets)
            if rec["k"] == "start":
                run.token = rec.get("token")
        last_t = float(rec.get("t", last_t))
        if feed(run, rec):
            timed_out = bool(rec.get("timed_out"))
            break
    if run is None:
        raise RecordingError(f"{path}: the recording is empty")
    return run.finish(last_t, timed_out=timed_out)
