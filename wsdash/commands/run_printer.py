"""Human output of a judged run: the five checkpoints, the verdict, violations in words."""

from __future__ import annotations

from typing import TextIO

from wsdash.core.auth import format_duration
from wsdash.core.redact import redact_url, scrub
from wsdash.core.judged_run import RunResult
from wsdash.commands.term import Painter, painter


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f} ms"


_INTERRUPTED_IN = {
    "dns": "while resolving the host name",
    "tcp": "while connecting (TCP)",
    "tls": "during the TLS handshake",
    "upgrade": "while waiting for the WebSocket upgrade",
    "proxy": "while connecting through the proxy",
    "handshake": "during the handshake, before the message was sent",
    "run": "while waiting for agent events",
}


def _partial(result: RunResult, p: Painter) -> list[str]:
    """A Ctrl+C'd run: each checkpoint that arrived, and each that never came."""
    lines = []
    for name, off in result.verdict.checkpoints.items():
        if off is not None:
            lines.append(f"  {p('✓', 'green')} {name:<16} {f'+{off * 1000:.0f} ms':>10}")
        else:
            lines.append(f"  {p('✗', 'red')} {name:<16} {'never came':>10}")
    return lines


def print_human(result: RunResult, out: TextIO) -> None:
    p = painter(out)
    v = result.verdict
    lines = [p("golden path", "bold") + f"  {redact_url(result.url)}"]
    if result.token:
        left = result.token.get("expires_in_s")
        # "at the run": a replay prints this long after, and a countdown from then would mislead
        exp = "" if left is None else (f", {format_duration(left)} left at the run" if left > 0 else p(", EXPIRED at the run", "red"))
        who = result.token.get("subject") or "an unknown subject (not a JWT wsdash can read)"
        lines.append(p(f"  token for {who}{exp}", "dim"))
    phases = " · ".join(f"{k.removesuffix('_ms')} {x:.1f} ms" for k, x in result.phases.items() if k != "total_ms")
    to = f" to {result.address}" if result.address else ""
    if v.connect_s is not None:
        lines.append(f"  connected in {_ms(v.connect_s)}{to}" + (p(f"  ({phases})", "dim") if phases else ""))
    elif to or phases:  # a failed or interrupted connect: how far it got
        lines.append((f"  TCP connected{to}, no WebSocket" if to else "  not connected") + (p(f"  ({phases})", "dim") if phases else ""))
    no_run = result.exit_code == 3 and v.first_event_s is None
    if result.interrupted is not None:
        lines.extend(_partial(result, p))
    elif not no_run and v.connect_s is not None:
        missing_events = {x.event for x in v.violations if x.code in ("missing", "timeout")}
        for name, off in v.checkpoints.items():
            if off is not None:
                lines.append(f"  {p('✓', 'green')} {name:<16} {f'+{off * 1000:.0f} ms':>10}")
            else:
                mark = p("✗", "red") if (name in missing_events or v.violations) else p("·", "dim")
                lines.append(f"  {mark} {name:<16} {'—':>10}")
    f = result.frames
    stats = f"{f.received} frames ({f.malformed} malformed, {f.unknown} unknown)"
    if result.interrupted is not None:
        lines.append(p("INTERRUPTED", "yellow", "bold") + f"  {_INTERRUPTED_IN.get(result.interrupted, 'by Ctrl+C')}: "
                     f"a partial verdict · {stats}")
        for x in v.violations:
            if x.code != "missing":  # what never came is the ✗ list above
                lines.append(f"  {p('•', 'red')} {p(x.code, 'bold')}" + (f" [{x.event}]" if x.event else "") + f": {x.detail}")
    elif result.ok:
        lines.append(p("PASSED", "green", "bold") + f"  run took {_ms(v.total_s)}, first event after {_ms(v.first_event_s)} · {stats}")
    elif no_run:
        lines.append(p("NO RUN", "red", "bold") + "  the golden path could not be run")
    else:
        lines.append(p("FAILED", "red", "bold") + f"  {stats}")
        for x in v.violations:
            lines.append(f"  {p('•', 'red')} {p(x.code, 'bold')}" + (f" [{x.event}]" if x.event else "") + f": {x.detail}")
    if result.error is not None:
        e = result.error
        lines.append(p(f"error ({e.kind}", "red") + (p(f" {e.code}", "red") if e.code else "") + p(")", "red") + f": {e.message}")
        lines.append(f"  {p('hint:', 'yellow')} {e.hint}")
    out.write(scrub("\n".join(lines)) + "\n")
