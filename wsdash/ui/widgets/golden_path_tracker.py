"""The five checkpoints, the verdict banner and the connection line of the golden-path pane."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from wsdash.core.auth import format_duration
from wsdash.core.contract import Verdict
from wsdash.core.protocol import GOLDEN_EVENTS
from wsdash.core.redact import scrub
from wsdash.ui.widgets.prose import prose
from wsdash.ui.widgets.refresh import only_class, update_if_changed
from wsdash.core.judged_run import RunResult

_LABELS = {
    "agent_started": "started",
    "agent_thinking": "thinking",
    "tool_executing": "tool call",
    "tool_completed": "tool result",
    "agent_completed": "completed",
}
_SHORT = {"agent_started": "start", "agent_thinking": "think", "tool_executing": "tool", "tool_completed": "result", "agent_completed": "done"}


def seconds(left: float) -> str:
    """A countdown for people: '8 s', '0.4 s' (tenths only where they matter)."""
    left = max(0.0, left)
    return f"{left:.0f} s" if left >= 9.95 else f"{left:.1f} s"


def listening(source: Any) -> str:
    """What a run does between its outermost agent_completed and its verdict (the grace)."""
    grace = getattr(getattr(source, "opts", None), "grace_s", None)
    return f"listening {grace:g} s for late frames, then the verdict" if grace else "listening for late frames, then the verdict"


def frames(n: int) -> str:
    return f"{n:,} frame" + ("" if n == 1 else "s")


class Checkpoint(Static):
    """One of the five: pending, lit (with its offset) or missed."""

    def show(self, event: str, offset: float | None, missed: bool) -> None:
        self.update_classes({"-lit": offset is not None, "-missed": missed})
        update_if_changed(self, checkpoint_text(event, offset, missed, self.size.width))


def checkpoint_text(event: str, offset: float | None, missed: bool, width: int) -> Text:
    """Two lines that fit `width` (0: not laid out yet, take the widest): full words, then short
    ones, then under 8 columns the label alone over the mark and the offset in seconds. Never
    wrapped: a word cut over two lines ('waitin' / 'g') reads as garbage."""
    mark = "●" if offset is not None else ("✗" if missed else "○")
    if width == 0 or width >= 14:
        label, when = f"{mark} {_LABELS[event]}", f"+{offset * 1000:.0f} ms" if offset is not None else ("missing" if missed else "waiting")
    elif width >= 8:
        label, when = f"{mark} {_SHORT[event]}", f"+{offset * 1000:.0f}" if offset is not None else ("missing" if missed else "waiting")
    else:
        label = _SHORT[event]
        when = mark + (f"{offset:.1f}s" if offset < 9.95 else f"{offset:.0f}s" if offset < 99.5 else ">99") if offset is not None else mark
    return Text.assemble(label, "\n", (when, "bold"))


class GoldenPathTracker(Vertical):
    """Reads a LiveSession or ReplayPlayer (`source`) on the screen's timer."""

    def __init__(self, source: Any, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.lines = 0  # the verdict's and connection's lines (before wrapping): its shape

    def compose(self) -> ComposeResult:
        with Horizontal(id="checkpoints"):
            for name in GOLDEN_EVENTS:
                yield Checkpoint(id=f"cp-{name}", classes="checkpoint")
        yield Static(id="verdict")
        yield Static(id="connection")

    def sync(self) -> None:
        src = self.source
        run = src.run
        result: RunResult | None = src.results[-1] if src.results else None
        if run is not None:
            checkpoints = run.contract.checkpoints
            violations = run.contract.violations
            missed: set[str] = set()
        elif result is not None:
            checkpoints = result.verdict.checkpoints
            violations = result.verdict.violations
            missed = {v.event for v in violations if v.code == "missing" and v.event} | (
                set(GOLDEN_EVENTS) if any(v.code == "timeout" for v in violations) else set())
        else:
            checkpoints, violations, missed = dict.fromkeys(GOLDEN_EVENTS), [], set()
        for name in GOLDEN_EVENTS:
            self.query_one(f"#cp-{name}", Checkpoint).show(name, checkpoints.get(name), name in missed)
        self.lines = self._verdict(run, result) + self._connection()

    def _verdict(self, run: Any, result: RunResult | None) -> int:
        banner = self.query_one("#verdict", Static)
        if run is not None:
            live = run.contract.violations
            if run.contract.done:
                # All five may be lit, but the verdict waits out the grace (docs/protocol.md §5.7):
                # say so, or "RUNNING" under five lit checkpoints reads as a hang.
                text = Text.assemble(("COMPLETED", "bold"), f"  {listening(self.source)} · run {self.source.status.runs} · "
                                     f"{frames(run.frames.received)} in the run")
            else:
                text = Text.assemble(("RUNNING", "bold"), f"  run {self.source.status.runs} · {frames(run.frames.received)} in the run")
            for v in live[-3:]:
                text.append(scrub(f"\n  • {v.code}: {v.detail}"))
            state = "-running"
        elif result is None:
            hint = "press g to run a golden path" if hasattr(self.source, "opts") else "replaying…"
            text = Text.assemble(("NO RUN YET", "bold"), f"  {hint}")
            state = "-idle"
        elif result.ok:
            v: Verdict = result.verdict
            text = Text.assemble(("PASSED", "bold"), f"  all five events in {v.total_s * 1000:.0f} ms · first after "
                                 f"{(v.first_event_s or 0) * 1000:.0f} ms · {frames(result.frames.received)} in the run")
            state = "-passed"
        else:
            # A run cut short by Ctrl+C (a recording of one, replayed) is no failure of the service
            text = Text.assemble(("INTERRUPTED" if result.interrupted is not None else "FAILED", "bold"))
            for x in result.verdict.violations[:6]:
                text.append(scrub(f"\n  • {x.code}" + (f" [{x.event}]" if x.event else "") + f": {x.detail}"))
            if len(result.verdict.violations) > 6:
                text.append(f"\n  … and {len(result.verdict.violations) - 6} more")
            if result.error is not None:
                text.append(scrub(f"\n  {result.error.kind}: {result.error.message}\n  hint: "))
                text.append_text(prose(scrub(result.error.hint)))
            state = "-failed"
        only_class(banner, ("-passed", "-failed", "-running", "-idle"), state)
        update_if_changed(banner, text)
        return text.plain.count("\n") + 1

    def _connection(self) -> int:
        src = self.source
        st = src.status
        store = src.store
        line = Text()
        if st.state == "backoff" and st.retry_at is not None:
            # The next retry and how many came before it: a server that keeps failing is retried
            # ever more slowly, and the reader sees that rather than a frozen "backoff".
            line.append("reconnecting", "bold")
            line.append(f" in {seconds(st.retry_at - time.monotonic())} · attempt {st.attempt} (r: now)")
        else:
            line.append(f"{st.state}", "bold")
        if st.state == "connecting" and getattr(st, "failures", 0):
            line.append(f" · attempt {st.attempt}")
        elif st.connect_ms is not None and st.state in ("connected", "running"):
            line.append(f" · connected in {st.connect_ms:.0f} ms")
        if getattr(src, "speed", None) is not None:
            speed = "max" if src.speed == float("inf") else f"×{src.speed:g}"
            line.append(f" · speed {speed} (space: pause, s: speed)")
        info = getattr(src, "token_info", None)
        if info is not None:
            left = info.seconds_left()
            who = info.subject or "?"
            if left is None:
                line.append(f" · token {who}")
            elif left <= 0:
                line.append(f" · token {who} EXPIRED", "bold")
            else:
                line.append(f" · token {who}, expires in {format_duration(left)}")
        line.append(f"\nreceived {store.received:,} · shown {store.shown:,}")
        if store.dropped:  # not lost: older rows leave the screen's buffer (a recording keeps all)
            line.append(f" · {store.dropped:,} older rows out of the buffer")
        recording = getattr(src, "last_recording", None)
        if recording:
            line.append(f" · recorded to {recording}")
        if store.filter:
            line.append(f" · filter: {store.filter.text}")
        if st.error is not None and st.state in ("backoff", "connecting"):
            line.append(scrub(f"\n{st.error.kind}: {st.error.message}\nhint: "))
            line.append_text(prose(scrub(st.error.hint + self._elsewhere(st.error))))
        update_if_changed(self.query_one("#connection", Static), line)
        return line.plain.count("\n") + 1

    def _elsewhere(self, error: Any) -> str:
        """The connection's hint knows only this target; the health board knows which others are
        up now: name them (`check.elsewhere`, the rule every hint follows). Not for a refused token:
        the target is there and the hint says which token to set."""
        from wsdash.core.errors import AUTH
        from wsdash.services.health.check import elsewhere

        board = getattr(self.app, "health_board", None)
        lead = getattr(getattr(self.app, "settings", None), "target", None)
        if board is None or lead is None or error.kind == AUTH:
            return ""
        results = [r for r in map(board.result, board.names()) if r is not None]
        extra = elsewhere(results, lead)
        return f"; {extra}" if extra else ""
