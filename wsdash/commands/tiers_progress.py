"""The human report of a tier run: live progress, a verdict per tier and the final summary, for a terminal or a log."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Sequence, TextIO

if TYPE_CHECKING:
    from wsdash.services.tiers.events import TierEvent
    from wsdash.services.tiers.model import TierResult
    from wsdash.services.tiers.spec import TierSpec

_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Safe for a terminal: redacted, no escape sequences (a test's output must not clear the
    user's screen or recolour it), no control characters."""
    from wsdash.core.redact import scrub

    return _CONTROL.sub("", _ANSI.sub("", scrub(text)))


class Style:
    """Colours (wsdash.commands.term's rules) and glyphs with an ASCII fallback for cp1252 consoles."""

    def __init__(self, stream: TextIO) -> None:
        from wsdash.commands.term import painter

        self._paint = painter(stream)
        self.color = self._paint.enabled
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "✔✗⊘…━·○".encode(encoding)
            fancy = True
        except (UnicodeEncodeError, LookupError):
            fancy = False
        self.ok, self.bad, self.blocked, self.rule, self.dot, self.skip = (
            ("✔", "✗", "⊘", "━━", "·", "○") if fancy else ("OK", "X", "-", "==", "-", "s")
        )

    def __call__(self, name: str, text: str) -> str:
        return self._paint(text, name)


STATUS_COLOR = {"passed": "green", "failed": "red", "error": "red", "timeout": "red", "blocked": "yellow", "cancelled": "yellow"}
PROGRESS_CHAR = {"passed": ".", "skipped": "s", "xfailed": "x", "xpassed": "X"}


def pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    text = f"{value * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + " %"


def counts_text(counts: dict[str, int], *, skipped: bool = True) -> str:
    parts = [f"{n} {'errors' if k == 'error' and n > 1 else k}" for k, n in counts.items() if n and (skipped or k != "skipped")]
    return ", ".join(parts) or ("no tests ran" if skipped else "")


def glyphs(text: str, style: Style) -> str:
    """The service's ✔/✗ in the console's alphabet."""
    return text.replace("✔", style.ok).replace("✗", style.bad)


class HumanReporter:
    """Progress while running, a verdict per tier, a summary at the end."""

    def __init__(self, out: TextIO, *, live: bool | None = None, max_tracebacks: int = 3) -> None:
        import time

        self.out = out
        self.style = Style(out)
        from wsdash.commands.term import can_redraw

        # live: a counter redrawn in place (a terminal that shows escape sequences: not Windows'
        # legacy console); otherwise pytest-style progress dots.
        self.live = can_redraw(out) if live is None else live
        self.max_tracebacks = max_tracebacks
        self._time = time.monotonic
        self._column = 0  # characters on the current progress-dots line (non-live mode)
        self._status_shown = False
        self._last_draw = 0.0
        self._tally: Any = None  # TierTally of the running tier, None between tiers
        self._started = 0.0

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _break_line(self) -> None:
        if self._status_shown:
            self.out.write("\r\x1b[2K")
            self._status_shown = False
        if self._column:
            self.out.write("\n")
            self._column = 0

    def note(self, text: str) -> None:
        self._break_line()
        self.write(self.style("dim", text))
        if self.live and self._tally is not None:
            self._draw_status(force=True)

    def __call__(self, event: TierEvent) -> None:
        from wsdash.services.tiers import events as ev
        from wsdash.services.tiers import model as m

        s = self.style
        if isinstance(event, ev.TierStarted):
            self._tally, self._started = ev.TierTally(event.tier), self._time()
            return
        if isinstance(event, ev.TierFinished):
            self._break_line()
            self._tally = None
            self.tier_result(event.result)
            return
        if self._tally is None or isinstance(event, ev.OutputLine):
            return
        self._tally.apply(event)
        if isinstance(event, ev.Collected):
            desel = f", {event.deselected} deselected" if event.deselected else ""
            self.note(f"   collected {event.count} test(s){desel}")
        elif isinstance(event, ev.TestFinished):
            r = event.result
            if r.outcome in m.FAILING_OUTCOMES:
                self._break_line()
                label = "FAILED" if r.outcome == m.FAILED else f"ERROR ({'collection' if r.phase == 'collect' else r.phase})"
                msg = f"  {clean(r.message)}" if r.message else ""
                self.write(f"   {s('red', s.bad + ' ' + label)} {clean(r.nodeid)}{s('dim', msg)}")
                if self.live:
                    self._draw_status(force=True)
            elif self.live:
                self._draw_status()
            else:
                self.out.write(("   " if self._column == 0 else "") + PROGRESS_CHAR.get(r.outcome, "?"))
                self._column += 1
                if self._column >= 72:
                    self.out.write("\n")
                    self._column = 0
                self.out.flush()

    def tick(self) -> None:
        """Called twice a second while tiers run: keeps the clock and the running test current."""
        if self.live and self._tally is not None:
            self._draw_status(force=True)

    def _draw_status(self, force: bool = False) -> None:
        import shutil

        now = self._time()
        if not force and now - self._last_draw < 0.1:  # ~10 Hz is plenty for a counter
            return
        self._last_draw = now
        tally = self._tally
        c = tally.counts
        total = f"/{tally.collected}" if tally.collected is not None else ""
        failing = c.get("failed", 0) + c.get("error", 0)
        skipped = c.get("skipped", 0) + c.get("xfailed", 0)
        st = self.style
        passed = st("green", f"{st.ok} {c.get('passed', 0)}")
        bad = st("red" if failing else "dim", f"{st.bad} {failing}")
        skip = st("yellow" if skipped else "dim", f"{st.skip} {skipped}")
        line = f"   {tally.finished}{total}  {passed}  {bad}  {skip}  {now - self._started:.0f} s"
        if tally.running:
            # The test running longest: what a user waiting on a slow tier wants to see.
            nodeid, since = min(tally.running.items(), key=lambda kv: kv[1])
            import time as _t

            waited = _t.time() - since
            if waited >= 2:
                room = shutil.get_terminal_size((100, 20)).columns - 40
                name = clean(nodeid)
                if room > 10:
                    name = name if len(name) <= room else "…" + name[-(room - 1):]
                    line += st("dim", f"  {name} ({waited:.0f} s)")
        self.out.write("\r\x1b[2K" + line)
        self.out.flush()
        self._status_shown = True

    def tier_header(self, spec: TierSpec, note: str | None = None) -> None:
        s = self.style
        self.write(f"{s('bold', f'{s.rule} {spec.name}')} {s.dot} {spec.title}")
        extra = []
        if spec.cwd:
            extra.append(f"in {spec.cwd}")
        if spec.timeout_s:
            extra.append(f"timeout {spec.timeout_s:g} s")
        self.write(s("dim", f"   {spec.display_command()}" + (f"  ({', '.join(extra)})" if extra else "")))
        if note:
            self.write(s("dim", f"   {note}"))

    def tier_result(self, r: TierResult) -> None:
        s = self.style
        color = STATUS_COLOR.get(r.status, "bold")
        symbol = s.ok if r.status == "passed" else s.blocked if r.status in ("blocked", "cancelled") else s.bad
        if r.status == "blocked":
            self.write(f"   {s(color, f'{symbol} blocked')}: {clean(r.message or '')}")
            return
        if r.kind == "command":
            detail = f"exit code {r.exit_code}" if r.exit_code is not None else ""
        else:
            goal = f"target {pct(r.target)}"
            if r.target_met is True:
                goal += " met"
            elif r.target_met is False:
                goal += " missed" if r.pass_rate is not None and r.pass_rate + 1e-12 < r.target else " not met"
            detail = f"pass rate {pct(r.pass_rate)} ({goal})"
            if r.skips is not None:  # what ran, next to the rate: 100 % of 1 test is not 100 % of 40
                rest = counts_text(r.counts, skipped=False)
                detail += f" {s.dot} {r.skips.ran_text(s.dot)}" + (f" {s.dot} {rest}" if rest else "")
            else:
                detail += f" {s.dot} {counts_text(r.counts)}"
        if r.status == "passed" and r.skipped:
            color = "yellow"  # passed, with tests that validated nothing
        self.write(f"   {s(color, f'{symbol} {r.status}')} {s.dot} {detail} {s.dot} {r.duration_s:.1f} s")
        if r.message:
            self.write(f"   {clean(r.message)}")
        self.skips(r)
        failing = [t for t in r.tests if t.outcome in ("failed", "error")]
        for t in failing[: self.max_tracebacks]:
            lines = [ln for ln in clean(t.longrepr).splitlines() if ln.strip()][-8:]
            if lines:
                self.write(s("dim", f"   ┌ {clean(t.nodeid)}") if s.ok == "✔" else s("dim", f"   > {clean(t.nodeid)}"))
                for ln in lines:
                    self.write(s("dim", f"   │ {ln}" if s.ok == "✔" else f"   | {ln}"))
        if len(failing) > self.max_tracebacks:
            self.write(s("dim", f"   … and {len(failing) - self.max_tracebacks} more failing result(s)"))
        if r.crashed or (r.status in ("error", "timeout") and not r.tests) or (r.kind == "command" and r.status != "passed"):
            tail = [clean(ln) for ln in r.last_output[-15:]]
            if tail:
                self.write(s("dim", "   last output:"))
                for ln in tail:
                    self.write(s("dim", f"   | {ln}"))

    def skips(self, r: TierResult, top: int = 5) -> None:
        """Skip reasons grouped, files skipped at collection, no_skip tests named one by one."""
        s, sk = self.style, r.skips
        if sk is None:
            return
        for g in sk.groups[:top]:
            where = f" ({g.at_collection} at import)" if g.at_collection else ""
            self.write(s("yellow", f"   {s.skip} {g.count} × {clean(g.reason)}{where}"))
        if len(sk.groups) > top:
            self.write(s("dim", f"   … and {len(sk.groups) - top} more skip reason(s): --json lists them all"))
        if sk.files_text():
            self.write(s("yellow", f"   {sk.files_text()}"))
        for nodeid, why in sk.no_skip:
            self.write(f"   {s('red', s.bad + ' ' + (sk.no_skip_marker or 'no_skip'))} {clean(nodeid)}{s('dim', '  ' + clean(why))}")
        if sk.no_skip_unlisted:
            self.write(s("red", f"   … and {sk.no_skip_unlisted} more deselected {sk.no_skip_marker} test(s)"))

    def advice(self, results: Sequence[TierResult]) -> None:
        """Why tests skipped, traced to what is down, and what to do (after the health check)."""
        lines = [(r, a) for r in results if r.skips is not None for a in r.skips.advice]
        if not lines:
            return
        s = self.style
        self.write()
        self.write(s("bold", "Skipped tests, traced"))
        for r, a in lines:
            self.write(f"  {r.name}: {glyphs(clean(a['text']), s)}")

    def summary(self, results: Sequence[TierResult], code: int) -> None:
        s = self.style
        self.advice(results)
        if len(results) > 1:
            self.write()
            self.write(s("bold", "Summary"))
            width = max(len(r.name) for r in results)
            for r in results:
                color = STATUS_COLOR.get(r.status, "bold")
                rate = "" if r.kind == "command" or r.status == "blocked" else f"{pct(r.pass_rate):>8} / {pct(r.target)}"
                ran = f"{r.skips.ran}/{r.skips.total} ran" if r.skips is not None else ""
                why = f"  {clean(r.message or '')}" if r.status in ("blocked", "error", "timeout", "cancelled") or r.skips and r.skips.violations else ""
                self.write(f"  {r.name:<{width}}  {s(color, f'{r.status:<9}')} {rate:<19}{ran:>12}{r.duration_s:8.1f} s{why}")
        ran = [r for r in results if r.status != "blocked"]
        missed = [r for r in ran if r.status != "passed"]
        blocked = len(results) - len(ran)
        tail = f", {blocked} blocked" if blocked else ""
        unvalidated = sum(r.skipped for r in ran)
        if code == 0 and unvalidated:
            self.write(s("yellow", f"{s.ok} all {len(ran)} tier(s) that ran met their target{tail} — "
                                   f"but {unvalidated} test(s) skipped: not validated"))
        elif code == 0:
            self.write(s("green", f"{s.ok} all {len(ran)} tier(s) that ran met their target{tail}"))
        elif not ran:
            self.write(s("yellow", f"{s.bad} no tier ran{tail}"))
        else:
            self.write(s("red", f"{s.bad} {len(missed)} of {len(ran)} tier(s) did not pass{tail}"))
