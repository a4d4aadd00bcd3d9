"""`wsdash history`'s printing: the runs table, a target's summary, CSV, the tier runs."""

from __future__ import annotations

import csv
from typing import Any, Sequence, TextIO

from wsdash.commands.term import painter
from wsdash.commands.time_text import ms, stamp, when
from wsdash.core.redact import scrub
from wsdash.core.run_record import iso

_WORDS = {"passed": ("passed", "green"), "failed": ("FAILED", "red"), "no_run": ("NO RUN", "red")}
RUN_CSV = ("id", "started_at", "target", "source", "verdict", "connect_ms", "first_event_ms", "total_ms",
           "violations", "error_kind", "frames_received", "frames_malformed", "frames_unknown", "recording")
TIER_CSV = ("id", "started_at", "tier", "status", "passed", "failed", "error", "skipped", "pass_rate", "target_rate", "duration_s", "source")





def _grid(header: Sequence[str], rows: list[list[str]], out: TextIO, paint: Any = None) -> None:
    widths = [max(len(r[i]) for r in [list(header), *rows]) for i in range(len(header))]
    p = painter(out)
    out.write(p("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), "bold") + "\n")
    for row in rows:
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
        out.write(scrub(paint(line, row) if paint else line) + "\n")


def print_table(records: Sequence[Any], out: TextIO) -> None:
    """Oldest first, so the newest run sits right above the summary and the prompt."""
    p = painter(out)
    rows = []
    for r in records:
        word = _WORDS.get(r.verdict, (r.verdict, ""))[0]
        what = ", ".join(f"{c}" + (f"[{e}]" if e else "") for c, e, _ in r.violations[:3])
        if len(r.violations) > 3:
            what += f" +{len(r.violations) - 3}"
        if r.error_kind and not r.violations:
            what = f"{r.error_kind}: {r.error_hint or r.error_message or ''}"[:80]
        rows.append([str(r.id), stamp(r.started_at), r.target, r.source, word, ms(r.first_event_ms), ms(r.total_ms), what])

    def paint(line: str, row: list[str]) -> str:
        word = row[4]
        colour = "green" if word == "passed" else "red"
        return line.replace(f"  {word}  ", f"  {p(word, colour)}  ", 1)

    _grid(("RUN", "STARTED", "TARGET", "SOURCE", "VERDICT", "FIRST", "TOTAL", "VIOLATIONS / ERROR"), rows, out, paint)


def print_summary(s: Any, out: TextIO) -> None:
    p = painter(out)
    rate = "—" if s.pass_rate is None else f"{s.pass_rate:.1%}"
    lines = ["", p(f"{s.target or 'all targets'}", "bold") + f"  {s.runs:,} run{'s' if s.runs != 1 else ''} since {when(s.first_at, today='today ')} · {rate} passed"]
    if s.runs:
        f, t = s.first_event_ms, s.total_ms
        lines.append(f"  first event  p50 {ms(f.p50)} · p95 {ms(f.p95)} · p99 {ms(f.p99)}" + p(f"   ({f.n:,} run{'s' if f.n != 1 else ''} with a first event)", "dim"))
        lines.append(f"  total        p50 {ms(t.p50)} · p95 {ms(t.p95)} · p99 {ms(t.p99)}" + p(f"   ({t.n:,} completed run{'s' if t.n != 1 else ''})", "dim"))
        streak = s.longest_failing
        if streak.runs:
            still = p("  still failing", "red", "bold") if streak.ongoing else ""
            lines.append(f"  longest failing streak: {streak.runs:,} run{'s' if streak.runs != 1 else ''}, {when(streak.first_at, today='today ')} → {when(streak.last_at, today='today ')}{still}")
        else:
            lines.append("  longest failing streak: none — every run passed")
        c = s.last_change
        if c is not None:
            colour = "green" if c.now == "passing" else "red"
            lines.append(f"  last change: {p(c.now, colour, 'bold')} since {when(c.at, today='today ')}, after {c.after:,} {'failing' if c.now == 'passing' else 'passing'} run{'s' if c.after != 1 else ''}")
        else:
            lines.append(f"  last change: none — {'passing' if s.last_ok else 'failing'} in every run shown")
    out.write(scrub("\n".join(lines)) + "\n")


def print_csv(records: Sequence[Any], out: TextIO) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(RUN_CSV)
    for r in records:
        w.writerow([scrub(str(x)) if isinstance(x, str) else ("" if x is None else x) for x in (
            r.id, iso(r.started_at), r.target, r.source, r.verdict, r.connect_ms, r.first_event_ms, r.total_ms,
            " ".join(r.violation_codes), r.error_kind, *r.frames, r.recording)])


def print_tier_table(records: Sequence[Any], out: TextIO) -> None:
    rows = []
    for r in records:
        rate = "—" if r.pass_rate is None else f"{r.pass_rate:.1%}"
        counts = f"{r.counts.get('passed', 0)} passed, {r.counts.get('failed', 0)} failed" + (f", {r.counts['error']} error" if r.counts.get("error") else "")
        rows.append([str(r.id), stamp(r.started_at), r.tier, r.status, rate, f"{r.target_rate:.0%}", counts, f"{r.duration_s:.1f} s", r.source])
    _grid(("RUN", "STARTED", "TIER", "STATUS", "PASS RATE", "TARGET", "TESTS", "TOOK", "SOURCE"), rows, out)


def print_tier_csv(records: Sequence[Any], out: TextIO) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(TIER_CSV)
    for r in records:
        c = r.counts
        w.writerow([r.id, r.to_json()["started_at"], r.tier, r.status, c.get("passed", 0), c.get("failed", 0), c.get("error", 0),
                    c.get("skipped", 0), "" if r.pass_rate is None else r.pass_rate, r.target_rate, r.duration_s, r.source])
