"""One golden-path run as observed: frames in, a judged result out.

A live session and a replayed recording both drive the same `Run`, so `golden-path --json` and
`replay --headless --json` print the same thing for the same frames.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol

from wsdash.core import exit_codes
from wsdash.core.errors import AUTH, SERVER, ClassifiedError, auth_error, auth_refusal, close_error
from wsdash.core.contract import ERROR_FRAME, Budgets, Contract, Verdict
from wsdash.core.protocol import ERROR_TYPES, GOLDEN_EVENTS, MALFORMED, UNKNOWN, Event, auth_failure, parse_frame
from wsdash.core.redact import redact_url
from wsdash.core.run_rows import KEEP_OTHERS, EventRow, RowSink, RunRows, row_json



class RunListener(Protocol):
    """Sees everything a run sees, in order (the recorder is one)."""

    def record(self, kind: str, at: float, **data: Any) -> None: ...


@dataclass
class FrameCounts:
    received: int = 0
    malformed: int = 0
    unknown: int = 0


@dataclass
class RunResult:
    url: str
    verdict: Verdict
    events: list[EventRow]  # bounded: see core/run_rows.py
    frames: FrameCounts
    error: ClassifiedError | None
    phases: dict[str, float] = field(default_factory=dict)
    close: tuple[int, str] | None = None
    token: dict[str, Any] | None = None
    close_by: str | None = None  # who closed first: server · client · nobody (errors.Close)
    address: str | None = None  # the address TCP connected to, e.g. '[::1]:5173'
    interrupted: str | None = None  # the phase a Ctrl+C cut (dns … upgrade, handshake, run)
    events_omitted: dict[str, int] = field(default_factory=dict)  # by type: events not in `events`

    @property
    def ok(self) -> bool:
        return self.verdict.ok and self.error is None and self.interrupted is None

    @property
    def exit_code(self) -> int:
        if self.interrupted is not None:
            return exit_codes.INTERRUPTED
        if self.ok:
            return exit_codes.OK
        no_run = self.verdict.first_event_s is None
        if self.error is not None and (self.error.kind == AUTH or no_run):
            return exit_codes.NO_RUN
        return exit_codes.FAILED

    def to_json(self) -> dict[str, Any]:
        v = self.verdict

        def ms(s: float | None) -> float | None:
            return None if s is None else round(s * 1000, 1)

        return {
            "ok": self.ok,
            "url": redact_url(self.url),
            "completed": v.completed,
            "checkpoints": {k: ms(x) for k, x in v.checkpoints.items()},
            "events": [row_json(row) for row in self.events],
            "events_omitted": sum(self.events_omitted.values()),
            "events_omitted_by_type": self.events_omitted,
            "violations": [x.to_json() for x in v.violations],
            "timings": {
                "connect_ms": ms(v.connect_s),
                "first_event_ms": ms(v.first_event_s),
                "total_ms": ms(v.total_s),
                "phases": {k: round(x, 1) for k, x in self.phases.items()},
                "address": self.address,
            },
            "frames": {"received": self.frames.received, "malformed": self.frames.malformed, "unknown": self.frames.unknown},
            "close": None if self.close is None else {"code": self.close[0], "reason": self.close[1], "by": self.close_by},
            "token": self.token,
            "error": None if self.error is None else self.error.to_json(),
            "interrupted": self.interrupted is not None,
            **({"interrupted_in": self.interrupted} if self.interrupted is not None else {}),
        }


class Run:
    """Accumulates one run. All times are monotonic seconds (the event loop's clock)."""

    def __init__(
        self,
        url: str,
        budgets: Budgets | None = None,
        *,
        listener: RunListener | None = None,
        on_event: Callable[[Event], None] | None = None,
        keep_others: int = KEEP_OTHERS,
        row_sink: RowSink | None = None,
    ) -> None:
        self.url = url
        self.contract = Contract(budgets or Budgets())
        self.frames = FrameCounts()
        self.rows = RunRows(keep_others, row_sink)
        self.error: ClassifiedError | None = None
        self.phases: dict[str, float] = {}
        self.close: tuple[int, str] | None = None
        self.close_by: str | None = None
        self.address: str | None = None
        self.token: dict[str, Any] | None = None
        self._listener = listener
        self._on_event = on_event

    def start(self, at: float, **meta: Any) -> None:
        if self._listener:
            # The budgets go with the frames: a replay judges with them, so it gives this verdict.
            self._listener.record("start", at, url=redact_url(self.url), budgets=asdict(self.contract.budgets), **meta)

    def use_budgets(self, budgets: Budgets) -> None:
        """Judge with these budgets instead (a replay learns them from the recording). Only before
        anything was judged (ValueError otherwise)."""
        if self.contract.connect_s is not None or self.contract.sent_at is not None or self.frames.received:
            raise ValueError("the budgets can change only before the run began")
        self.contract = Contract(budgets)

    def opened(self, at: float, connect_s: float, phases: dict[str, float], address: str | None = None) -> None:
        self.phases = dict(phases)
        self.address = address
        self.contract.connected(connect_s)
        if self._listener:
            self._listener.record("open", at, connect_s=connect_s, phases=phases, address=address)

    def sent(self, at: float, text: str, *, is_message: bool = False) -> None:
        if is_message:
            self.contract.message_sent(at)
        if self._listener:
            self._listener.record("send", at, data=text, message=is_message)

    def received(self, at: float, data: str | bytes) -> Event:
        # Called for every frame (the hot path of every run): attributes read once into locals.
        event = parse_frame(data, at)
        frames = self.frames
        frames.received += 1
        kind = event.kind
        if kind == MALFORMED:
            frames.malformed += 1
        elif kind == UNKNOWN:
            frames.unknown += 1
        listener = self._listener
        if listener:
            listener.record("recv", at, data=data)
        contract = self.contract
        sent = contract.sent_at
        offset = at - sent if sent is not None else None
        self.rows.add(event, offset)
        contract.feed(event)
        if event.type in ERROR_TYPES and self.error is None:  # event.is_error, inlined: every frame
            self.error = auth_refusal(auth_failure(event), token_sent=self.token is not None)
        if self._on_event:
            self._on_event(event)
        return event

    def closed(self, at: float, code: int, reason: str, by: str = SERVER) -> None:
        self.close = (code, reason)
        self.close_by = by
        if self._listener:
            self._listener.record("close", at, code=code, reason=reason, by=by)
        if self.error is None and not (self.contract.done and code in (1000, 1001)):
            err = close_error(code, reason, self.url, by)
            if err.kind == AUTH:
                err = auth_error(err.message, token_sent=self.token is not None, code=err.code)
            if err.kind == AUTH or not self.contract.done:
                self.error = err

    def failed(self, at: float, error: ClassifiedError) -> None:
        if self.error is None:
            self.error = error
        if self._listener:
            if self.contract.connect_s is None and self.phases:
                # A connect that failed: how far it got (DNS, TCP, upgrade), and where, is the diagnosis.
                self._listener.record("error", at, error=error.to_json(), phases=self.phases, address=self.address)
            else:
                self._listener.record("error", at, error=error.to_json())

    def finish(self, at: float, *, timed_out: bool = False, interrupted: str | None = None) -> RunResult:
        """Judge the run. `interrupted`: the phase a Ctrl+C cut; the verdict is then partial."""
        done = self.contract.done
        ended_by = None
        if interrupted is not None and not done:
            ended_by = "interrupted"
        elif self.error is not None and not done:
            ended_by = "closed" if self.close is not None else "error"
        elif timed_out and not done:
            ended_by = "timeout"
        if self._listener:
            self._listener.record("end", at, timed_out=ended_by == "timeout",
                                  **({"interrupted": interrupted} if interrupted is not None else {}))
        verdict = self.contract.finish(at, ended_by=ended_by)
        if self.error is not None and verdict.first_event_s is None:
            # No agent event ever arrived: the run could not happen and the error says why. Error
            # frames and a slow connect stay reported (docs/protocol.md §5.6), but for the very
            # AUTH_FAILED frame the error already names.
            auth = self.error.kind == AUTH
            verdict.violations = [v for v in verdict.violations if not (auth and v.code == ERROR_FRAME)]
        return RunResult(self.url, verdict, self.rows.rows(), self.frames, self.error, self.phases, self.close, self.token,
                         self.close_by, self.address, interrupted, self.rows.omitted())


def checkpoint_lines(result: RunResult) -> list[tuple[str, str]]:
    """(event, '+412 ms' or 'missing') for human output, in golden order."""
    out = []
    for name in GOLDEN_EVENTS:
        off = result.verdict.checkpoints.get(name)
        out.append((name, "—" if off is None else f"+{off * 1000:.0f} ms"))
    return out
