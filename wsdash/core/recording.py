"""Record a session as JSON lines and replay it through the same judge.

The format is described in docs/protocol.md ("Recording format"). Line 1 is the header
{"k": "format", "format": "wsdash-recording/1", "wsdash": version}; then one record per line,
{"k": kind, "t": monotonic seconds, ...}, kinds start, open, send, recv, close, error, end.
Binary frames are stored base64 ("b64"). Everything is scrubbed of secrets before it is written
(redact.scrub), so a recording can be shared; the file itself is user-only.

Crash-safe: a recording is read after the process that wrote it was killed (a CI timeout, a
closed terminal), so lines reach the OS within FLUSH_S and the reader takes a file that stops
mid-run — it judges what is there and says the recording was cut.
"""

from __future__ import annotations

import base64
import json
import math
import os
import threading
import time
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from wsdash import __version__
from wsdash.core.contract import Budgets
from wsdash.core.errors import RECORDING, ClassifiedError
from wsdash.core.judged_run import Run, RunResult
from wsdash.core.private_files import open_private
from wsdash.core.protocol import GOLDEN
from wsdash.core.recording_read import numbered_records
from wsdash.core.recording_rules import BUDGET_FIELDS, FORMAT, RecordingError, event_before_message
from wsdash.core.redact import scrub, scrub_obj
from wsdash.core.run_rows import RowSink

FLUSH_S = 0.1  # every recorded line is handed to the OS at most this long after it was recorded
_TICK_S = FLUSH_S / 2  # the flusher thread's period: a quiet line waits at most this

# What json's encoder uses for str and finite float with ensure_ascii=False (the C versions).
_encode_str = json.encoder.encode_basestring
_float_repr = float.__repr__
_isfinite = math.isfinite
_monotonic = time.monotonic


def recording_file(path: str | os.PathLike[str], run_number: int = 1) -> Path:
    """Where a run is recorded: `path` itself, or a new timestamped file when it is a directory."""
    target = Path(path)
    if not target.is_dir():
        return target
    stem = f"run-{time.strftime('%Y%m%d-%H%M%S')}-{run_number}"
    name = target / f"{stem}.jsonl"
    again = 1
    while True:
        # Claimed with O_EXCL, not looked at: two dashboards recording to one folder in the same
        # second both saw a free name and truncated each other's run (1 start in 8 apart).
        try:
            open_private(name, "xb").close()
            return name
        except FileExistsError:
            again += 1
            name = target / f"{stem}.{again}.jsonl"


class Recorder:
    """A RunListener writing JSON lines that survive the process.

    Lines are queued and handed to the OS in one write: by the recording call itself once
    FLUSH_S has passed since the last write, by a timer thread when the line goes quiet, and at
    once for every record but a frame (start, open, close, error, end: rare, and what a reader
    needs most). A kill then loses at most FLUSH_S of frames and leaves at most one partial last
    line, which replay reports as cut.

    Opening raises OSError. A write that fails later (a full disk, a removed drive) stops the
    recording, never the session: `error` says why, and `on_error` hears it once — from the
    recording thread or the timer thread, so it must be safe to call from either.
    """

    def __init__(self, path: str | os.PathLike[str], *, on_error: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.error: str | None = None
        self._on_error = on_error
        self._file: IO[bytes] = open_private(self.path, "wb", buffering=0)
        # Appended by the recording thread, drained under the lock by whoever flushes: a deque's
        # append and popleft are atomic, so the per-frame path takes no lock.
        self._lines: deque[str] = deque()
        self._lock = threading.Lock()
        self._closed = False
        self._flushed_at = _monotonic()
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self._lines.append(self._dumps({"k": "format", "format": FORMAT, "wsdash": __version__}) + "\n")
        self.flush()
        self._stop = threading.Event()
        self._timer = threading.Thread(target=self._flush_quiet_lines, name=f"wsdash recorder {self.path.name}", daemon=True)
        self._timer.start()

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
                self._lines.append(f'{{"k":"{kind}","t":{_float_repr(at)},"data":{_encode_str(text)}'
                                   + (',"message":true}\n' if data.get("message") else "}\n"))
                if _monotonic() - self._flushed_at >= FLUSH_S:
                    self.flush()
                return
            else:
                line = {"k": kind, "t": at, "data": scrub(raw)}
                if data.get("message"):
                    line["message"] = True
            self._lines.append(self._dumps(line) + "\n")
            if _monotonic() - self._flushed_at >= FLUSH_S:
                self.flush()
            return
        self._lines.append(self._dumps({"k": kind, "t": at, **scrub_obj(data)}) + "\n")
        self.flush()

    def flush(self) -> None:
        """Hand every queued line to the OS now (not fsync: a killed process loses nothing the
        OS has; a machine that loses power is another matter)."""
        report = None
        with self._lock:
            self._flushed_at = _monotonic()
            lines = self._lines
            n = len(lines)
            if not n or self._file.closed:
                return
            data = "".join([lines.popleft() for _ in range(n)]).encode("utf-8", "surrogatepass")
            try:
                view = memoryview(data)
                while view:
                    view = view[self._file.write(view) or 0:]  # a raw write may take only part
            except OSError as exc:
                report = self._stopped_by(exc)
        if report is not None:
            self._tell(report)  # outside the lock: it may take its time (a UI thread hop)

    def _stopped_by(self, exc: OSError) -> str | None:
        """Stop recording after a failed write; the message, the first time only."""
        self._lines = deque(maxlen=0)  # later records are dropped where they are made
        if self.error is not None:
            return None
        self.error = (f"recording to {self.path} stopped: {exc.strerror or exc} — what was written before "
                      "stays replayable; the run goes on unrecorded")
        return self.error

    def _flush_quiet_lines(self) -> None:
        while not self._stop.wait(_TICK_S):
            if self._lines:
                self.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._timer is not threading.current_thread():
            self._timer.join()
        self.flush()
        report = None
        with self._lock:
            self._lines = deque(maxlen=0)
            try:
                self._file.close()
            except OSError as exc:  # a network drive can report a lost write only now
                report = self._stopped_by(exc)
        if report is not None:
            self._tell(report)

    def _tell(self, report: str) -> None:
        if self._on_error is None:
            return
        try:
            self._on_error(report)
        except Exception:  # noqa: BLE001 - the terminal it writes to may be gone (SIGHUP): `error` still says it
            pass

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- reading: what a file must hold is core/recording_read.py and core/recording_rules.py ----

def iter_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Every record in order, the header first, a {"k": "cut", ...} last when the recording stops
    before its 'end' (core/recording_read.numbered_records, without the line numbers)."""
    for _, rec in numbered_records(path):
        yield rec


def records_of_run(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The records to feed, in order (the header left out). Raises RecordingError."""
    for rec in iter_records(path):
        if rec["k"] != "format":
            yield rec


def _no_run(path: str | os.PathLike[str]) -> RecordingError:
    return RecordingError(f"{os.fspath(path)} holds no run: its writer stopped before the run began")


def start_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The run's 'start' record (url, token summary, auth, budgets): the first after the header, by
    the order rules. Raises RecordingError, also for a recording that holds no run."""
    for rec in records_of_run(path):
        if rec["k"] == "start":
            return rec
        break  # the cut of a file that stops before its 'start'
    raise _no_run(path)


def recorded_budgets(start: dict[str, Any] | None) -> Budgets | None:
    """The budgets the live run was judged with (checked as the record was read); None when the
    recording predates them."""
    raw = (start or {}).get("budgets")
    if raw is None:
        return None
    return Budgets(**{k: None if raw[k] is None else float(raw[k]) for k in BUDGET_FIELDS})


def judging_budgets(start: dict[str, Any] | None, overrides: dict[str, float] | None = None) -> Budgets:
    """What a replay judges with: the recorded budgets (the defaults for an older recording),
    each overridden by the one given on the command line."""
    return replace(recorded_budgets(start) or Budgets(), **(overrides or {}))


def feed(run: Run, rec: dict[str, Any], overrides: dict[str, float] | None = None, *,
         name: str = "the recording", line: int | None = None) -> bool:
    """Apply one record, as read (and checked) by `numbered_records`, to a Run. Returns True on
    the final record ('end', or 'cut' for a recording that stops early). `name` and `line` name
    the record in a RecordingError: an agent event before the chat message."""
    kind = rec["k"]
    at = rec.get("t", 0.0)  # the cut has none: it is no moment of the run
    if kind == "recv":
        event = run.received(at, base64.b64decode(rec["b64"]) if "b64" in rec else rec["data"])
        if event.kind == GOLDEN and run.contract.sent_at is None:
            raise event_before_message(f"{name}:{line}", event.type)
    elif kind == "send":
        run.sent(at, rec.get("data", ""), is_message=bool(rec.get("message")))
    elif kind == "start":
        run.url = rec["url"]
        run.token = rec.get("token")
        run.use_budgets(judging_budgets(rec, overrides))
    elif kind == "open":
        run.opened(at, float(rec["connect_s"]), rec["phases"], rec.get("address"))
    elif kind == "close":
        run.closed(at, rec["code"], rec["reason"], rec.get("by", "server"))
    elif kind == "error":
        e = rec["error"]
        if "phases" in rec:  # a connect that failed: the phases it got through, and where
            run.phases = {str(k): float(v) for k, v in rec["phases"].items()}
            run.address = rec.get("address")
        run.failed(at, ClassifiedError(e["kind"], e["message"], e["hint"], e.get("code")))
    elif kind == "cut":
        run.failed(at, ClassifiedError(RECORDING, rec["message"], rec["hint"]))
        return True
    elif kind == "end":
        return True
    return False


def replay(path: str | os.PathLike[str], overrides: dict[str, float] | None = None,
           row_sink: RowSink | None = None) -> RunResult:
    """Re-judge a recording as fast as possible: the result the live run gave, with the recorded
    budgets unless `overrides` (BUDGET_FIELDS → seconds) says otherwise. `row_sink` sees every
    event's row (--all-events). Raises RecordingError."""
    name = os.fspath(path)
    run = Run("", None, row_sink=row_sink)
    last_t: float | None = None
    timed_out = False
    interrupted = None
    for line, rec in numbered_records(path):
        if line == 1:
            continue  # the header
        last_t = time_of(rec, last_t)
        if feed(run, rec, overrides, name=name, line=line):
            timed_out = bool(rec.get("timed_out"))
            interrupted = rec.get("interrupted")
            # Read on to the file's end: a line after the run's 'end' is an error the reader
            # raises, not something left unread (a second run pasted on, lines out of order).
    if last_t is None:
        raise _no_run(path)
    return run.finish(last_t, timed_out=timed_out, interrupted=interrupted)


def time_of(rec: dict[str, Any], default: float | None) -> float | None:
    """The record's moment (seconds on the writer's monotonic clock); `default` for the cut, which has none."""
    t = rec.get("t")
    return default if t is None else float(t)
