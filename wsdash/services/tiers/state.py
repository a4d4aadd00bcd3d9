"""The last run's failures per tier, for ``wsdash tiers run --rerun-failed``.

Stored as JSON in the platformdirs user cache dir. A tier is keyed by its name *and* its
working directory, so two projects that both call a tier "unit" do not mix their failures.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Sequence

from wsdash.services.tiers.model import ST_BLOCKED, ST_CANCELLED, ST_TIMEOUT, TierResult
from wsdash.services.tiers.spec import KIND_PYTEST, TierSpec

STATE_FILE = "tiers-last-run.json"
VERSION = 1


def state_path() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("wsdash", appauthor=False)) / STATE_FILE


def tier_key(spec: TierSpec) -> str:
    # A tier pointed at another target (--target) has failures of its own.
    on = f"#{spec.on_target}" if spec.on_target else ""
    return f"{spec.name}@{os.path.abspath(spec.cwd or os.getcwd())}{on}"


def load_state(path: Path | None = None) -> dict[str, Any]:
    """The stored state; an absent or unreadable file is an empty state (it is only a cache)."""
    path = path or state_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": VERSION, "tiers": {}}
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("tiers"), dict):
        return {"version": VERSION, "tiers": {}}
    return data


def previous_failures(spec: TierSpec, path: Path | None = None) -> list[str] | None:
    """Failed node ids of the tier's last recorded run; None when no run is recorded."""
    entry = load_state(path)["tiers"].get(tier_key(spec))
    if not isinstance(entry, dict) or not isinstance(entry.get("failed"), list):
        return None
    return [str(n) for n in entry["failed"]]


def _complete(result: TierResult) -> bool:
    """A whole-tier run that reached the end of its session: its failures replace the old ones."""
    return (
        result.only_nodeids is None
        and result.session_ended
        and result.status not in (ST_TIMEOUT, ST_CANCELLED)
    )


def record_results(pairs: Sequence[tuple[TierSpec, TierResult]], path: Path | None = None) -> Path:
    """Remember each run tier's failures. Partial runs (rerun, cancel, timeout, crash) merge:
    a test that now passed is forgotten, one that failed is added, others stay as they were."""
    path = path or state_path()
    state = load_state(path)
    tiers: dict[str, Any] = state["tiers"]
    changed = False
    for spec, result in pairs:
        if spec.kind != KIND_PYTEST or not result.started or result.status == ST_BLOCKED:
            continue
        key = tier_key(spec)
        failed = result.failed_nodeids
        if not _complete(result):
            before = tiers.get(key, {}).get("failed", []) if isinstance(tiers.get(key), dict) else []
            ok = result.ok_nodeids
            failed = list(dict.fromkeys([n for n in before if n not in ok] + failed))
        tiers[key] = {"name": spec.name, "failed": failed, "status": result.status, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    return path
