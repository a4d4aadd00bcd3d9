"""What the history keeps of a golden-path run, read off its RunResult: the one home of that rule.

`run_record.RunRecord.from_result` builds its record from these values; `wsdash golden-path`
writes them to the history as they are, so a one-shot run never creates the RunRecord class (the
dataclass machinery costs 2–4 ms of the 5 ms a run's history write may take). Nothing secret is
kept: the URL is redacted and every text scrubbed (docs/protocol.md §2 says where tokens travel).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from wsdash.core import exit_codes
from wsdash.core.redact import redact_url, scrub

if TYPE_CHECKING:
    from wsdash.core.judged_run import RunResult

PASSED, FAILED, NO_RUN = "passed", "failed", "no_run"
SEQUENCE_LIMIT = 64  # event types kept in arrival order: enough to see an order change, bounded for a burst

_VERDICT_OF_EXIT = {exit_codes.OK: PASSED, exit_codes.FAILED: FAILED, exit_codes.NO_RUN: NO_RUN}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def target_key(target: str) -> str:
    """What the history keeps a run under: a configured target's name, or a --url run's URL with
    its secrets masked. `--target` given a URL is read through this too, so the URL a user typed
    finds its runs (and is never printed with its password or token)."""
    return redact_url(target) if "://" in target else target


def run_values(
    result: RunResult, *, target: str | None, source: str, started_at: float | None = None, recording: str | None = None,
) -> dict[str, Any]:
    """RunRecord's fields (all but `id`) for one run."""
    v = result.verdict
    counts: dict[str, int] = {}
    for row in result.events:
        counts[row[0]] = counts.get(row[0], 0) + 1
    url = redact_url(result.url)
    error = result.error
    return dict(
        started_at=started_at if started_at is not None else started_at_of(result),
        target=target_key(target) if target else url,
        url=url,
        source=source,
        verdict=_VERDICT_OF_EXIT.get(result.exit_code, FAILED),
        completed=v.completed,
        connect_ms=_ms(v.connect_s),
        first_event_ms=_ms(v.first_event_s),
        total_ms=_ms(v.total_s),
        checkpoints={k: _ms(x) for k, x in v.checkpoints.items()},
        phases={k: round(x, 3) for k, x in result.phases.items()},
        violations=[(x.code, x.event, scrub(x.detail)) for x in v.violations],
        error_kind=error.kind if error else None,
        error_code=error.code if error else None,
        error_message=scrub(error.message) if error else None,
        error_hint=scrub(error.hint) if error else None,
        close_code=result.close[0] if result.close else None,
        frames=(result.frames.received, result.frames.malformed, result.frames.unknown),
        type_counts=counts,
        sequence=[row[0] for row in result.events[:SEQUENCE_LIMIT]],
        recording=scrub(os.path.abspath(recording)) if recording else None,  # findable from any folder later
    )


def started_at_of(result: RunResult, ended_at: float | None = None) -> float:
    """When a run that just ended began: now less its connect and its run (a run carries
    monotonic times only). Within the grace period of the truth, which a history line needs."""
    spent_ms = (result.phases.get("total_ms") or 0.0) + (result.verdict.total_s or 0.0) * 1000
    return (ended_at if ended_at is not None else time.time()) - spent_ms / 1000
