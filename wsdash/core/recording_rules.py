"""What a recording's records hold and the order they come in (docs/protocol.md §5.10).

The reader (core/recording_read.py) checks every record against these rules as it reads it, so
`replay`, `diff` and `report --recording` judge only what a wsdash could have written: a field of
the wrong type, a record out of its place or a clock that runs back is a RecordingError naming the
file, the line, the record, the key and what was expected — never a traceback from deep in the
judge, and never a verdict on a run that did not happen.

The rules are the writer's: `judged_run.Run` records start, open, frames, close or error, end, in
that order, on one monotonic clock (services/session/once.py and live.py drive it). Every field
`Run` has always written is required; those added later (`budgets`, `address`, `by`,
`interrupted`, the header's `wsdash`) and the token summary (its callers' to give) are optional,
so an older wsdash's recording still reads. A field this wsdash does not know is ignored
(§5.10 "Versions").
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any, Callable

from wsdash.core.redact import scrub

FORMAT_NAME = "wsdash-recording"
FORMAT_VERSION = 1  # bump when an older wsdash would misread a newer file (added fields are fine)
FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"
KINDS = ("start", "open", "send", "recv", "close", "error", "end")
BUDGET_FIELDS = ("connect_s", "first_event_s", "run_s", "gap_s")
_BIG = 10**300  # an integer float() cannot hold is no time or number a recording holds


class RecordingError(ValueError):
    """A file that is not a wsdash recording, or a damaged one: names the file, the line and why."""


# ---- what each record holds --------------------------------------------------------------------

def _number(v: Any) -> bool:
    # A bool is an int to Python, never a number in a recording; inf and nan are not JSON.
    if type(v) is float:
        return math.isfinite(v)
    return type(v) is int and -_BIG < v < _BIG


def _seconds(v: Any) -> bool:
    return _number(v) and v >= 0


def _text(v: Any) -> bool:
    return isinstance(v, str)


def _named(v: Any) -> bool:
    return isinstance(v, str) and v.strip() != ""


def _flag(v: Any) -> bool:
    return type(v) is bool


def _object(v: Any) -> bool:
    return isinstance(v, dict)


def _base64(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):  # ValueError: a character that is not even ASCII
        return False
    return True


@dataclass(frozen=True)
class _Field:
    key: str
    ok: Callable[[Any], bool]
    should: str  # what it should be, in words
    required: bool = True
    null: bool = False  # null is a value it may have
    inner: tuple["_Field", ...] = ()  # an object: these keys, checked in turn
    each: "_Field | None" = None  # an object of any keys: every value checked with this


_SECONDS = "a number of seconds (≥ 0)"
_MS = _Field("", _seconds, "milliseconds (a number ≥ 0)")
_PHASES = "an object of milliseconds by phase (dns_ms, tcp_ms, upgrade_ms, total_ms)"
_TIME = _Field("t", _number, "seconds on wsdash's monotonic clock (a number)")

_FIELDS: dict[str, tuple[_Field, ...]] = {
    "start": (
        _Field("url", _named, "the URL the run connected to (a non-empty string)"),
        _Field("token", _object, 'null, or an object with "subject" and "expires_in_s" (the token itself is never recorded)',
               required=False, null=True, inner=(_Field("subject", _text, "a string or null", null=True),
                                 _Field("expires_in_s", _number, "a number of seconds or null", null=True))),
        _Field("budgets", _object, "an object with " + ", ".join(BUDGET_FIELDS) + " (a recording made before budgets "
               "were recorded has no 'budgets' at all)", required=False,
               inner=tuple(_Field(k, _seconds, _SECONDS + (" or null" if k == "gap_s" else ""), null=k == "gap_s")
                           for k in BUDGET_FIELDS)),
    ),
    "open": (
        _Field("connect_s", _seconds, "the seconds connecting took (a number ≥ 0)"),
        _Field("phases", _object, _PHASES, each=_MS),
        _Field("address", _text, "the address connected to (a string) or null", required=False, null=True),
    ),
    "close": (
        _Field("code", lambda v: type(v) is int and 1000 <= v <= 4999, "a WebSocket close code (an integer, 1000–4999)"),
        _Field("reason", _text, "the close reason (a string, empty when there was none)"),
        _Field("by", lambda v: v in ("server", "client", "nobody"), '"server", "client" or "nobody"', required=False),
    ),
    "error": (
        _Field("error", _object, 'an object with "kind", "message" and "hint"', inner=(
            _Field("kind", _named, 'the kind of error (a string such as "refused")'),
            _Field("message", _text, "a string"),
            _Field("hint", _text, "a string"),
            _Field("code", lambda v: type(v) is int, "an integer (a close code or HTTP status) or null", required=False, null=True),
        )),
        _Field("phases", _object, _PHASES, required=False, each=_MS),
        _Field("address", _text, "the address connected to (a string) or null", required=False, null=True),
    ),
    "end": (
        _Field("timed_out", _flag, "true or false"),
        _Field("interrupted", _named, 'the phase a Ctrl+C cut ("dns", …, "run") or null', required=False, null=True),
    ),
}


def _shown(value: Any) -> str:
    """The value as the file has it when it is short; what it is otherwise (a long string may be a
    secret, and one cut short here is one the redaction might no longer recognise)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        # A short word ("no", "soon") helps; anything longer may be an opaque token the redaction
        # does not know ("sk_live_…" was printed in full at up to 34 characters): described instead.
        return scrub(json.dumps(value)) if len(value) <= 16 else f"a string of {len(value)} characters"
    text = json.dumps(value)
    return text if len(text) <= 34 else "a number"


def _wrong(where: str, kind: str, key: str, value: Any, should: str) -> RecordingError:
    return RecordingError(f"{where}: the '{kind}' record's '{key}' is {_shown(value)}: it should be {should}")


def _check(where: str, kind: str, fields: tuple[_Field, ...], obj: dict[str, Any], prefix: str = "") -> None:
    for f in fields:
        key = prefix + f.key
        if f.key not in obj:
            if f.required:
                raise RecordingError(f"{where}: the '{kind}' record has no '{key}': it should be {f.should}")
            continue
        value = obj[f.key]
        if value is None and f.null:
            continue
        if not f.ok(value):
            raise _wrong(where, kind, key, value, f.should)
        if f.inner:
            _check(where, kind, f.inner, value, key + ".")
        if f.each is not None:
            for k, v in value.items():
                if not f.each.ok(v):
                    shown = k if len(k) <= 16 and k.isprintable() else f"(a key of {len(k)} characters)"
                    raise _wrong(where, kind, f"{key}.{shown}", v, f.each.should)


def _check_frame(where: str, kind: str, rec: dict[str, Any]) -> None:
    """A frame is its text ('data') or its bytes in base64 ('b64'): one of them, never both."""
    has_text, has_bytes = "data" in rec, "b64" in rec
    if has_text == has_bytes:
        which = "both 'data' and 'b64'" if has_text else "neither 'data' nor 'b64'"
        raise RecordingError(f"{where}: the '{kind}' record has {which}: it should have one, the text frame as a "
                             "string ('data') or a binary frame in base64 ('b64')")
    if has_text and not isinstance(rec["data"], str):
        raise _wrong(where, kind, "data", rec["data"], 'the text frame as a string (a JSON frame is kept as its text, "{\\"type\\": …}")')
    if has_bytes and not _base64(rec["b64"]):
        raise _wrong(where, kind, "b64", rec["b64"], "a binary frame in base64 (A–Z, a–z, 0–9, +, / and = padding)")
    if kind == "send" and "message" in rec and not _flag(rec["message"]):
        raise _wrong(where, kind, "message", rec["message"], "true on the chat message (or absent)")


def check_record(name: str, line: int, rec: Any) -> None:
    """Whether `rec`, read from line `line` of the recording `name`, holds what its kind holds: a
    RecordingError naming the line, the kind, the key and what it should be if not. Not for the
    header (line 1)."""
    if not isinstance(rec, dict):
        raise RecordingError(f"{name}:{line}: {_shown(rec)} is not a wsdash record (a JSON object with 'k', its kind)")
    kind = rec.get("k")
    t = rec.get("t")
    if kind == "recv" and type(t) is float and type(rec.get("data")) is str and "b64" not in rec and math.isfinite(t):
        return  # a text frame, as the writer writes nearly every line: nothing more to check
    where = f"{name}:{line}"
    if "k" not in rec:
        raise RecordingError(f"{where}: not a wsdash record (no 'k' field, the record's kind)")
    if kind == "format":
        raise RecordingError(f"{where}: a second header ('format' record): a recording holds one run, its header on line 1")
    if kind not in KINDS:
        raise RecordingError(f"{where}: the record's 'k' is {_shown(kind)}: it should be one of {', '.join(KINDS)} "
                             f"(a newer kind of record would have come with a newer format than {FORMAT})")
    _check(where, kind, (_TIME,), rec)
    if kind == "send" or kind == "recv":
        _check_frame(where, kind, rec)
    else:
        _check(where, kind, _FIELDS[kind], rec)


# ---- the order they come in --------------------------------------------------------------------

def _a(kind: str) -> str:
    return f"an '{kind}'" if kind[0] in "aeiou" else f"a '{kind}'"


class RecordOrder:
    """The order wsdash writes a run's records in, checked record by record in file order:

    start first (once) · open right after it, when the connection opened (once) · frames (send,
    recv) and close only after open, close once · nothing but end after close or error · the chat
    message (send with "message": true) once · end once, and last · `t` never going back.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: dict[str, int] = {}  # kind (and "message") → the line it first came on
        self.previous: tuple[str, int] | None = None  # the last record's kind and line
        self.t = -math.inf  # the last record's time, and its line
        self.t_line = 0
        self.framing = False  # between 'open' and close, error or end: where frames go

    def check(self, line: int, rec: dict[str, Any]) -> None:
        kind, t = rec["k"], rec["t"]
        if kind == "recv" and self.framing and t >= self.t:  # nearly every line: nothing to say
            self.t, self.t_line, self.previous = t, line, ("recv", line)
            return
        lines, where = self.lines, f"{self.name}:{line}"
        if "end" in lines:
            raise RecordingError(f"{where}: {_a(kind)} record after the run's 'end' (line {lines['end']}): "
                                 "a recording holds one run, and its 'end' is its last line")
        if self.previous is None and kind != "start":
            raise RecordingError(f"{where}: {_a(kind)} record where the run's 'start' should be: wsdash writes 'start' "
                                 "on the line after the header" + (", and 'end' last" if kind == "end" else ""))
        if kind in ("start", "open", "close") and kind in lines:
            raise RecordingError(f"{where}: a second '{kind}' record (the first is on line {lines[kind]}): a recording holds one run")
        stopped = lines.get("close") or lines.get("error")
        if stopped is not None and kind != "end":
            what = "closed ('close'" if "close" in lines else "failed ('error'"
            raise RecordingError(f"{where}: {_a(kind)} record after the run {what} on line {stopped}): "
                                 "wsdash writes only the run's 'end' after that")
        if kind == "open" and self.previous is not None and self.previous[0] != "start":
            raise RecordingError(f"{where}: an 'open' record after {_a(self.previous[0])} (line {self.previous[1]}): "
                                 "wsdash writes 'open' right after 'start', when the connection opens")
        if kind in ("send", "recv", "close") and "open" not in lines:
            raise RecordingError(f"{where}: {_a(kind)} record before the connection opened: there is no 'open' record "
                                 "before it (wsdash writes 'open' before any frame)")
        if kind == "send" and rec.get("message"):
            if "message" in lines:
                raise RecordingError(f"{where}: a second chat message (a 'send' with \"message\": true; the first is on "
                                     f"line {lines['message']}): a run sends one")
            lines["message"] = line
        if t < self.t:
            raise RecordingError(f"{where}: its time goes back: 't' is {t!r}, and the record on line {self.t_line} had "
                                 f"{self.t!r}; wsdash's clock only moves forward — are the lines out of order?")
        self.t, self.t_line = t, line
        lines.setdefault(kind, line)
        self.previous = (kind, line)
        self.framing = kind in ("open", "send", "recv")


def event_before_message(where: str, event_type: str) -> RecordingError:
    """An agent event before the chat message: every timing is measured from the message, so the
    run cannot be judged (a hand-moved or deleted 'send'; a server that sends agent events before
    it is asked is named the same way, since its timings would be as meaningless)."""
    return RecordingError(f"{where}: an agent event ({event_type}) before the run's chat message: there is no 'send' "
                          "record with \"message\": true before it, and a run's timings are measured from that message")
