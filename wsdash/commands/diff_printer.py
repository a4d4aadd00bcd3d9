"""`wsdash diff`'s human output: what changed first (verdict, violations, events, order, error),
then the timings side by side."""

from __future__ import annotations

from typing import Any, TextIO

from wsdash.commands.term import painter
from wsdash.commands.time_text import ms, stamp
from wsdash.core.redact import scrub

_WORDS = {"passed": "passed", "failed": "FAILED", "no_run": "NO RUN"}



def _delta(d: float | None) -> str:
    if d is None:
        return ""
    if abs(d) < 0.5:
        return "0 ms"
    return f"{'+' if d > 0 else '−'}{abs(d):,.0f} ms"


def _side(label: str, ref: str, r: Any) -> str:
    where = f"#{r.id}" if r.id is not None else (r.recording or ref)
    at = stamp(r.started_at)
    return f"{label}  {where}  {at}  {r.target}  {_WORDS.get(r.verdict, r.verdict)}" + (f"  ({ref})" if ref.strip("#") != str(r.id) else "")


def print_diff(d: Any, refs: tuple[str, str], out: TextIO) -> None:
    p = painter(out)
    lines = [_side("A", refs[0], d.a), _side("B", refs[1], d.b), ""]
    if d.verdict_changed:
        colour = "red" if d.a.ok else "green"
        lines.append(p(f"verdict: {_WORDS.get(d.a.verdict)} → {_WORDS.get(d.b.verdict)}", colour, "bold"))
    else:
        lines.append(f"verdict: {_WORDS.get(d.b.verdict)} in both")
    if d.a.error_kind != d.b.error_kind:
        lines.append(f"error: {d.a.error_kind or 'none'} → {d.b.error_kind or 'none'}" + (f": {d.b.error_hint or d.b.error_message}" if d.b.error_kind else ""))
    for title, items, colour in (("new violations in B", d.violations_new, "red"), ("violations gone in B", d.violations_gone, "green")):
        if items:
            lines.append(f"{title}:")
            lines += [f"  {p('•', colour)} {p(c, 'bold')}" + (f" [{e}]" if e else "") + f": {t}" for c, e, t in items]
    empty = [label for label, r in (("A", d.a), ("B", d.b)) if not r.type_counts]
    for label in empty:
        lines.append(f"{label} received no events")
    if not empty:
        for title, only in (("events only in A", d.only_in_a), ("events only in B", d.only_in_b)):
            if only:
                lines.append(f"{title}: " + ", ".join(f"{t} ({n} frame{'s' if n != 1 else ''})" for t, n in only.items()))
        if d.type_counts:
            lines.append("frames per event type: " + ", ".join(f"{t} {x} → {y}" for t, (x, y) in d.type_counts.items()))
        o = d.order
        if d.order_changed:
            lines.append(p("order changed", "yellow", "bold") + (f": they part at event {o.at + 1}" if o.at is not None else ""))
            if o.at is not None:
                lines.append(f"  A: {' → '.join(o.a_around) or '(ends)'}")
                lines.append(f"  B: {' → '.join(o.b_around) or '(ends)'}")
            if o.a != o.b:
                lines.append(f"  first arrivals A: {', '.join(o.a)}")
                lines.append(f"  first arrivals B: {', '.join(o.b)}")
        else:
            lines.append("order: the same")
    lines.append("")
    rows = [(n, *v) for n, v in d.checkpoints.items()] + [("", None, None, None)]
    rows += [(f"{k.replace('_', ' ')}", *v) for k, v in d.timings.items()]
    rows += [(f"  {k}", *v) for k, v in d.phases.items()]
    lines.append(p(f"{'':<18}{'A':>11}{'B':>11}{'B − A':>12}", "bold"))
    for name, a, b, delta in rows:
        if not name:
            continue
        lines.append(f"{name:<18}{ms(a):>11}{ms(b):>11}{_delta(delta):>12}")
    lines.append("frames  " + " · ".join(f"{k} {x:,} → {y:,}" if x != y else f"{k} {x:,}" for k, (x, y) in d.frames.items()))
    lines.append(p("only timings differ" if d.same else "the runs differ", "bold"))
    out.write(scrub("\n".join(lines)) + "\n")
