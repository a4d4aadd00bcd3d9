"""Rows of the history read back as records, every column checked as it is read.

The history is wsdash's own file, but another tool can edit it (a DB browser, a script, a sync
that merged two copies). A damaged row was a traceback (`'NoneType' object is not iterable`) or a
bare "Expecting value: line 1 column 1" naming neither the file nor the run. `DamagedRow` says
which run (or tier run) and which column; core/history.py adds the file and decides: a listing
leaves the row out and says so, a run asked for by id or as `last` is an error."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from wsdash.core.run_record import RunRecord, TierRecord


class DamagedRow(ValueError):
    def __init__(self, table: str, row_id: Any, column: str, expected: str) -> None:
        self.table, self.row_id = table, row_id
        what = "tier run" if table == "tier_runs" else "run"
        super().__init__(f"{what} {row_id} is damaged: its {column} is not {expected} as wsdash writes it")


_MISSING = object()  # json.loads cannot return it: "not what wsdash wrote"


def _json(d: dict[str, Any], table: str, column: str, kind: type) -> Any:
    try:
        value = json.loads(d[column])
    except (TypeError, ValueError):
        value = _MISSING
    if not isinstance(value, kind):
        raise DamagedRow(table, d["id"], column, f"a JSON {'object' if kind is dict else 'array'}")
    return value


def _typed(d: dict[str, Any], table: str, columns: dict[str, tuple[type, ...]]) -> None:
    for column, kinds in columns.items():
        value = d[column]
        if not isinstance(value, kinds) or isinstance(value, bool):
            names = "text" if str in kinds else "a number" if float in kinds else "a whole number"
            names += " or empty" if type(None) in kinds else ""
            raise DamagedRow(table, d["id"], column, names)


_NUMBER = (int, float)
_MAYBE_NUMBER = (int, float, type(None))
_MAYBE_TEXT = (str, type(None))


def run_of(row: Sequence[Any], columns: Sequence[str]) -> RunRecord:
    from wsdash.core.run_record import RunRecord

    d = dict(zip(columns, row))
    _typed(d, "runs", {
        "started_at": _NUMBER, "target": (str,), "url": (str,), "source": (str,), "verdict": (str,),
        "connect_ms": _MAYBE_NUMBER, "first_event_ms": _MAYBE_NUMBER, "total_ms": _MAYBE_NUMBER,
        "error_kind": _MAYBE_TEXT, "error_message": _MAYBE_TEXT, "error_hint": _MAYBE_TEXT, "recording": _MAYBE_TEXT,
        "frames_received": (int,), "frames_malformed": (int,), "frames_unknown": (int,),
    })
    violations = _json(d, "runs", "violations", list)
    if not all(isinstance(v, list) and len(v) == 3 for v in violations):
        raise DamagedRow("runs", d["id"], "violations", "a list of [code, event, detail]")
    return RunRecord(
        id=d["id"], started_at=d["started_at"], target=d["target"], url=d["url"], source=d["source"],
        verdict=d["verdict"], completed=bool(d["completed"]), connect_ms=d["connect_ms"],
        first_event_ms=d["first_event_ms"], total_ms=d["total_ms"],
        checkpoints=_json(d, "runs", "checkpoints", dict), phases=_json(d, "runs", "phases", dict),
        violations=[(c, e, t) for c, e, t in violations],
        error_kind=d["error_kind"], error_code=d["error_code"], error_message=d["error_message"], error_hint=d["error_hint"],
        close_code=d["close_code"],
        frames=(d["frames_received"], d["frames_malformed"], d["frames_unknown"]),
        type_counts=_json(d, "runs", "type_counts", dict), sequence=_json(d, "runs", "sequence", list), recording=d["recording"],
    )


def tier_of(row: Sequence[Any], columns: Sequence[str]) -> TierRecord:
    from wsdash.core.run_record import TierRecord

    d = dict(zip(columns, row))
    _typed(d, "tier_runs", {"started_at": _NUMBER, "tier": (str,), "title": (str,), "status": (str,), "pass_rate": _MAYBE_NUMBER,
                            "target_rate": _NUMBER, "duration_s": _NUMBER, "source": (str,), "requires": (str,)})
    d["counts"] = _json(d, "tier_runs", "counts", dict)
    return TierRecord(**d)
