"""`wsdash report` as a stakeholder reads it: Markdown (to paste into an issue) and one
self-contained HTML file (inline CSS, an inline SVG timeline, no fetches: it opens from an email
attachment). Both say the same thing, from the same `Report`."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Sequence

from wsdash.core.criteria import Criterion, Plan, ran_and_skipped
from wsdash.core.protocol import GOLDEN_EVENTS
from wsdash.core.redact import scrub
from wsdash.core.story import CHECKPOINT_WORDS, tell

MARK = {True: "✅", False: "❌", None: "⚠️ not measured"}


@dataclass
class Report:
    title: str
    when: str  # local time the report was made
    plan: Plan
    health: dict[str, Any] | None
    run: dict[str, Any] | None
    run_headline: str | None
    tiers: Sequence[dict[str, Any]] | None
    sources: list[str]  # where each part came from (run now, or a saved file)


def _checkpoint_rows(run: dict[str, Any]) -> list[tuple[str, str, float | None]]:
    """(event, words, offset in ms) for the five, told as the presentation view tells them."""
    rows = [(e.get("type"), None if e.get("offset_ms") is None else e["offset_ms"] / 1000, e.get("agent_name"),
             e.get("tool_name"), e.get("raw_type"), e.get("kind")) for e in run.get("events") or []]
    story = tell(rows)
    cps = run.get("checkpoints") or {}
    out = []
    for e in GOLDEN_EVENTS:
        words = story.checkpoints[e][0] if e in story.checkpoints else CHECKPOINT_WORDS[e][0]
        out.append((e, words, cps.get(e)))
    return out


def _skip_groups(tier: dict[str, Any]) -> list[tuple[int, str]]:
    groups = (tier.get("skips") or {}).get("groups") or []
    out = []
    for g in groups:
        if isinstance(g, dict):
            out.append((int(g.get("count", 0)), str(g.get("reason", ""))))
    return out


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(r: Report) -> str:
    p = r.plan
    out = [f"# {r.title}", "", f"*{r.when}* · **{'✅ every success criterion holds' if p.ok else '❌ not every success criterion holds'}**", ""]

    def table(rows: list[Criterion]) -> None:
        out.extend(["| | Criterion | Goal | Measured |", "|---|---|---|---|"])
        out.extend(f"| {MARK[c.ok]} | {_cell(c.name)} | {_cell(c.goal)} | {_cell(c.measured)} |" for c in rows)
        out.append("")

    out += ["## Test Success Criteria", ""]
    table(p.criteria) if p.criteria else out.extend(["_no part of the plan was run_", ""])
    out += ["## Success Metrics", ""]
    table(p.metrics) if p.metrics else out.extend(["_nothing measured_", ""])
    if r.run is not None:
        out += ["## The golden path", "", f"**{r.run_headline}**", "", "| | Step | At |", "|---|---|---|"]
        for _, words, at in _checkpoint_rows(r.run):
            out.append(f"| {'✅' if at is not None else '❌'} | {words} | {'—' if at is None else f'+{at / 1000:.2f} s'} |")
        out.append("")
    if r.tiers:
        out += ["## Tiers", "", "| | Tier | Pass rate | Ran | Skipped | Time |", "|---|---|---|---|---|---|"]
        for t in r.tiers:
            ran, skipped = ran_and_skipped(t)
            rate = "—" if t.get("pass_rate") is None else f"{t['pass_rate'] * 100:.0f} %"
            ok = t.get("status") == "passed"
            out.append(f"| {'✅' if ok else '❌'} | {_cell(t.get('title') or t['name'])} ({t.get('status')}) | {rate} "
                       f"(target {float(t.get('target', 1)) * 100:.0f} %) | {ran} | {skipped} | {float(t.get('duration_s') or 0):.1f} s |")
            for count, reason in _skip_groups(t):
                out.append(f"|  | ↳ {count} × skipped: {_cell(reason)} | | | | |")
        out.append("")
    if r.health is not None:
        out += ["## Environment", "", "| | Service | Status | Detail |", "|---|---|---|---|"]
        for t in r.health.get("targets", []):
            up = t.get("status") == "up"
            detail = t.get("detail") or t.get("hint") or ((t.get("error") or {}).get("message") or "")
            out.append(f"| {'✅' if up else '❌'} | {_cell(t['name'])}{' (required)' if t.get('required') else ''} "
                       f"| {t.get('status')} | {_cell(detail)} |")
        out.append("")
    out += ["---", "Sources: " + "; ".join(r.sources), ""]
    return scrub("\n".join(out))


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:60rem;color:#1d2730;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde3e8;padding-bottom:.3rem}
.when{color:#5d6b76}.verdict{font-size:1.25rem;font-weight:600;padding:.8rem 1rem;border-radius:.4rem;margin:1rem 0}
.ok{background:#e6f6ea;color:#17612e}.bad{background:#fdeaea;color:#8c1d1d}.na{background:#fff6dd;color:#6d5200}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #eef1f4;vertical-align:top}
th{font-weight:600;color:#5d6b76;font-size:.85rem}table.plan td:nth-child(2){width:30%}table.plan td:nth-child(3){width:20%}td.m{width:2.2rem;text-align:center}.sub td{color:#5d6b76;font-size:.9rem}
.sources{color:#5d6b76;font-size:.85rem;margin-top:2rem}svg text{font:12px system-ui,sans-serif;fill:#1d2730}
"""


def _mark(ok: bool | None) -> str:
    return {True: '<td class="m" title="holds">✅</td>', False: '<td class="m" title="does not hold">❌</td>',
            None: '<td class="m" title="not measured">⚠️</td>'}[ok]


def timeline_svg(run: dict[str, Any], width: int = 900) -> str:
    """The five checkpoints on one time axis: where each landed, or a red ✗ where it never did."""
    rows = _checkpoint_rows(run)
    end = max([at for _, _, at in rows if at is not None] + [float((run.get("timings") or {}).get("total_ms") or 0), 1.0])
    left, right, axis_y = 20, width - 20, 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="The five checkpoints on a time line" '
             f'viewBox="0 0 {width} 150" width="100%">',
             f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" stroke="#9aa7b1" stroke-width="2"/>',
             f'<text x="{left}" y="{axis_y + 40}">0 s</text>',
             f'<text x="{right}" y="{axis_y + 40}" text-anchor="end">{end / 1000:.2f} s</text>']
    for i, (event, words, at) in enumerate(rows):
        label = html.escape(words)
        if at is None:
            x = left + (right - left) * (i + 0.5) / len(rows)
            parts.append(f'<text x="{x:.0f}" y="{axis_y + 5}" text-anchor="middle" fill="#c0392b" style="fill:#c0392b;font-weight:700">✗</text>')
            parts.append(f'<text x="{x:.0f}" y="{axis_y + 22 + 14 * (i % 2)}" text-anchor="middle" style="fill:#c0392b">{label} — never</text>')
            continue
        x = left + (right - left) * at / end
        y_text = axis_y - 18 - 16 * (i % 2)
        parts.append(f'<circle cx="{x:.1f}" cy="{axis_y}" r="7" fill="#2e9e52"><title>{html.escape(event)} +{at / 1000:.2f} s</title></circle>')
        anchor = "start" if x < left + 80 else "end" if x > right - 80 else "middle"
        parts.append(f'<text x="{x:.1f}" y="{y_text}" text-anchor="{anchor}">{label} · {at / 1000:.2f} s</text>')
    parts.append("</svg>")
    return "".join(parts)


def html_page(r: Report) -> str:
    e = html.escape
    p = r.plan
    cls = "ok" if p.ok else "bad"
    body = [f"<h1>{e(r.title)}</h1>", f'<div class="when">{e(r.when)}</div>',
            f'<div class="verdict {cls}">{"✅ Every success criterion holds" if p.ok else "❌ Not every success criterion holds"}</div>']

    def table(title: str, rows: list[Criterion]) -> None:
        body.append(f"<h2>{e(title)}</h2>")
        if not rows:
            body.append("<p><em>Not part of this report.</em></p>")
            return
        body.append('<table class="plan"><tr><th></th><th>Criterion</th><th>Goal</th><th>Measured</th></tr>')
        body.extend(f"<tr>{_mark(c.ok)}<td>{e(c.name)}</td><td>{e(c.goal)}</td><td>{e(c.measured)}</td></tr>" for c in rows)
        body.append("</table>")

    table("Test Success Criteria", p.criteria)
    table("Success Metrics", p.metrics)
    if r.run is not None:
        body.append("<h2>The golden path</h2>")
        body.append(f'<div class="verdict {"ok" if r.run.get("ok") else "bad"}">{e(r.run_headline or "")}</div>')
        body.append(timeline_svg(r.run))
    if r.tiers:
        body.append("<h2>Tiers</h2><table><tr><th></th><th>Tier</th><th>Pass rate</th><th>Ran</th><th>Skipped</th><th>Time</th></tr>")
        for t in r.tiers:
            ran, skipped = ran_and_skipped(t)
            rate = "—" if t.get("pass_rate") is None else f"{t['pass_rate'] * 100:.0f} %"
            body.append(f"<tr>{_mark(t.get('status') == 'passed')}<td>{e(t.get('title') or t['name'])} ({e(str(t.get('status')))})</td>"
                        f"<td>{rate} (target {float(t.get('target', 1)) * 100:.0f} %)</td><td>{ran}</td><td>{skipped}</td>"
                        f"<td>{float(t.get('duration_s') or 0):.1f} s</td></tr>")
            for count, reason in _skip_groups(t):
                body.append(f'<tr class="sub"><td></td><td colspan="5">↳ {count} × skipped: {e(reason)}</td></tr>')
        body.append("</table>")
    if r.health is not None:
        body.append("<h2>Environment</h2><table><tr><th></th><th>Service</th><th>Status</th><th>Detail</th></tr>")
        for t in r.health.get("targets", []):
            detail = t.get("detail") or t.get("hint") or ((t.get("error") or {}).get("message") or "")
            body.append(f"<tr>{_mark(t.get('status') == 'up')}<td>{e(t['name'])}{' (required)' if t.get('required') else ''}</td>"
                        f"<td>{e(str(t.get('status')))}</td><td>{e(detail)}</td></tr>")
        body.append("</table>")
    body.append(f'<p class="sources">Sources: {e("; ".join(r.sources))}</p>')
    page = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(r.title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
    return scrub(page)


def terminal(r: Report) -> str:
    """The summary `wsdash report` prints when no format is asked for on stdout."""
    lines = [f"{r.title} — {'every success criterion holds' if r.plan.ok else 'NOT every success criterion holds'}"]
    for title, rows in (("Test Success Criteria", r.plan.criteria), ("Success Metrics", r.plan.metrics)):
        lines.append(f"\n{title}")
        for c in rows:
            mark = {True: "✔", False: "✗", None: "?"}[c.ok]
            lines.append(f"  {mark} {c.name:<38} {c.goal:<32} {c.measured}")
    return scrub("\n".join(lines))
