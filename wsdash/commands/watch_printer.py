"""What `wsdash watch` prints: one line per run, an alert (with the terminal bell) when the state
changes, a summary at the end — or the same as JSON Lines, one object per line."""

from __future__ import annotations

import json
from typing import Any, Sequence, TextIO

from wsdash.commands.term import painter
from wsdash.commands.time_text import clock, ms, when
from wsdash.core.redact import scrub, scrub_obj

BELL = "\a"
_WORDS = {"passed": ("PASSED", "green"), "failed": ("FAILED", "red"), "no_run": ("NO RUN", "red")}





def runs_word(n: int) -> str:
    return f"{n:,} run" + ("" if n == 1 else "s")


class Printer:
    def __init__(self, out: TextIO, *, json_mode: bool) -> None:
        self.out = out
        self.json = json_mode
        self.p = painter(out)
        self.target = ""

    def _emit(self, obj: dict[str, Any]) -> None:
        self.out.write(scrub(json.dumps(scrub_obj(obj), ensure_ascii=False)) + "\n")
        self.out.flush()

    def _line(self, text: str) -> None:
        self.out.write(scrub(text) + "\n")
        self.out.flush()

    def start(self, target: str, every: float, *, metrics_url: str | None) -> None:
        self.target = target
        if self.json:
            self._emit({"type": "start", "target": target, "every_s": every, "metrics": metrics_url})
            return
        extra = f" · metrics on {metrics_url}" if metrics_url else ""
        self._line(self.p(f"watching {target}", "bold") + f" every {every:g} s{extra} — Ctrl+C for a summary")

    def note(self, text: str) -> None:
        if self.json:
            self._emit({"type": "note", "message": text})
        else:
            self._line(self.p(f"  {text}", "yellow"))

    def run(self, w: Any) -> None:
        rec = w.record
        if self.json:
            self._emit({
                "type": "run", "at": rec.to_json()["started_at"], "target": rec.target, "verdict": rec.verdict, "ok": rec.ok,
                "first_event_ms": rec.first_event_ms, "total_ms": rec.total_ms, "connect_ms": rec.connect_ms,
                "violations": rec.violation_codes, "error": None if rec.error_kind is None else {"kind": rec.error_kind, "message": rec.error_message},
                "target_up": w.target_up, "late_s": round(w.late_s, 3), "history_id": w.history_id, "recording": rec.recording,
                "exit_code": w.exit_code,
            })
            return
        word, colour = _WORDS.get(rec.verdict, ("FAILED", "red"))
        parts = [self.p(clock(rec.started_at), "dim"), self.p(f"{word:<6}", colour, "bold")]
        if rec.verdict != "no_run":
            parts.append(f"first {ms(rec.first_event_ms):>8} · total {ms(rec.total_ms):>9}")
        if rec.violations:
            shown = [f"{c}" + (f"[{e}]" if e else "") for c, e, _ in rec.violations[:4]]
            more = len(rec.violations) - 4
            parts.append(self.p(", ".join(shown) + (f" +{more} more" if more > 0 else ""), "red"))
        if rec.error_kind is not None and rec.verdict == "no_run":
            parts.append(f"{rec.error_kind}: {w.hint or rec.error_message}")
        elif w.target_up is False:  # the run went ahead, but the health check had its doubts
            parts.append(self.p(f"(target {w.target_note})", "yellow"))
        if w.late_s >= 0.5:
            parts.append(self.p(f"(started {w.late_s:.1f} s late: the run before overran the interval)", "dim"))
        self._line("  ".join(parts))

    def alert(self, w: Any, change: Any) -> None:
        rec = w.record
        lasted = f"{change.before} for {runs_word(change.after_runs)}" + (f" since {when(change.since)}" if change.since else "")
        if self.json:
            self._emit({"type": "alert", "at": rec.to_json()["started_at"], "target": rec.target, "from": change.before,
                        "to": change.now, "after_runs": change.after_runs})
            return
        if change.now == "failing":
            text = self.p(f"ALERT  {clock(rec.started_at)}  {rec.target} is FAILING", "red", "bold") + f" — it had been {lasted}"
        else:
            text = self.p(f"RECOVERED  {clock(rec.started_at)}  {rec.target} is passing again", "green", "bold") + f" — it had been {lasted}"
        self.out.write(scrub(text) + BELL + "\n")  # the bell: an on-call engineer may be in another window
        self.out.flush()

    def summary(self, seen: Sequence[Any], *, interrupted: bool) -> None:
        from wsdash.core.run_stats import summarize

        rows = [(w.record.started_at, w.record.target, w.record.verdict, w.record.completed, w.record.first_event_ms, w.record.total_ms)
                for w in seen]
        s = summarize(rows, self.target)
        if self.json:
            self._emit({"type": "summary", "interrupted": interrupted, **s.to_json(),
                        "exit_code": seen[-1].exit_code if seen else None})
            return
        why = "stopped" if interrupted else "done"
        if interrupted:
            self.out.write("\n")  # after the terminal's ^C
        if not seen:
            self._line(self.p(f"{why}: no run finished", "bold"))
            return
        rate = f"{s.pass_rate:.0%}" if s.pass_rate is not None else "—"
        lines = [self.p(f"{why}: {runs_word(s.runs)} of {self.target}", "bold") + f" · {s.passed:,} passed ({rate})"]
        lines.append(f"  first event  p50 {ms(s.first_event_ms.p50)} · p95 {ms(s.first_event_ms.p95)} · p99 {ms(s.first_event_ms.p99)}")
        lines.append(f"  total        p50 {ms(s.total_ms.p50)} · p95 {ms(s.total_ms.p95)} · p99 {ms(s.total_ms.p99)}")
        streak = s.longest_failing
        if streak.runs:
            lines.append(f"  longest failing streak: {runs_word(streak.runs)}, {when(streak.first_at)} → {when(streak.last_at)}"
                         + (" (still failing)" if streak.ongoing else ""))
        last = seen[-1].record
        lines.append(f"  last run: {_WORDS.get(last.verdict, ('FAILED', ''))[0]} at {when(last.started_at)}")
        self._line("\n".join(lines))
