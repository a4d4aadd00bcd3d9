"""Judged on what ran: a skipped test validated nothing.

From a tier's results this module works out how many tests ran and how many skipped, groups the
skip reasons (normalised, so that a port or a path in a message does not split a group), names
the tests that carry the no-skip marker and did not run, counts the test files skipped at
collection, and applies the tier's limits (`max_skipped`, `min_ran`). Plain data and pure
functions: the runner fills a `SkipReport` once, every output reads it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

# A test "ran" when its body was called and did not skip: these call-phase outcomes (and "???",
# xdist's report for a test whose worker died under it).
RAN_OUTCOMES = frozenset({"passed", "failed", "xfailed", "xpassed", "error"})

# -------------------------------------------------------------------------------------------
# Normalising reasons

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # A port after a host or an IP: "127.0.0.1:8002", "localhost:54321", "api.x.io:443".
    (re.compile(r"(?<=[\w\].]):\d{2,5}\b"), ":<port>"),
    # Paths: Windows, POSIX (absolute or ~), and relative ones with a file extension.
    (re.compile(r"\b[A-Za-z]:[\\/][^\s'\"(),;]*"), "<path>"),
    (re.compile(r"(?<![\w:/.<>])~?/[^\s'\"(),;]+"), "<path>"),
    (re.compile(r"(?<![\w/<>])[\w.-]+(?:[\\/][\w.-]+)+\.\w+\b"), "<path>"),
    # Hex ids and addresses, then any free-standing number ("after 3.5 s", "exit 1").
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b"), "<id>"),
    (re.compile(r"(?<![\w.<])\d+(?:\.\d+)?(?![\w.>])"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def normalise(reason: str) -> str:
    """The reason with ports, paths, ids and numbers replaced, so near-identical messages agree."""
    text = reason.strip()
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return text.strip() or "(no reason given)"


def group_key(reason: str) -> str:
    return normalise(reason).lower()


# -------------------------------------------------------------------------------------------
# The report


@dataclass
class SkipGroup:
    reason: str  # as shown: the reason itself when all agree, else its normalised form
    key: str  # normalised, lower case: what groups
    count: int
    nodeids: list[str] = field(default_factory=list)
    at_collection: int = 0  # of them, whole files skipped at import (module-level skip, importorskip)
    variants: list[str] = field(default_factory=list)  # distinct raw reasons (a few)
    cause: str | None = None  # what the reason names (causes.py): "docker", a target, a variable

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason, "normalised": self.key, "count": self.count, "at_collection": self.at_collection,
            "variants": list(self.variants), "cause": self.cause, "nodeids": list(self.nodeids),
        }


@dataclass
class SkipReport:
    """What ran of a tier, and what did not, with why. Filled by the runner; read by every output."""

    total: int = 0  # the tier's selection: tests collected (+ files skipped at import, as pytest counts them)
    ran: int = 0
    skipped: int = 0  # pytest's count: tests skipped + files skipped at collection
    deselected: int = 0  # by the tier's own selection (-m, -k, --deselect); not the rerun filter's
    groups: list[SkipGroup] = field(default_factory=list)
    no_skip: list[tuple[str, str]] = field(default_factory=list)  # (node id, why it did not run)
    no_skip_marker: str = ""
    no_skip_unlisted: int = 0  # deselected no_skip tests beyond the plugin's list limit
    files: int | None = None  # test files the selection collected (None: not known)
    files_at_import: list[str] = field(default_factory=list)  # skipped when imported
    files_deselected: list[str] = field(default_factory=list)  # every test in them deselected
    files_errors: list[str] = field(default_factory=list)  # failed to import
    max_skipped: int | float | None = None
    min_ran: int = 0
    violations: list[str] = field(default_factory=list)  # why the limits fail the tier
    advice: list[dict[str, Any]] = field(default_factory=list)  # causes.py: traced to what is down

    @property
    def files_skipped(self) -> int:
        return len(self.files_at_import) + len(self.files_deselected)

    @property
    def no_skip_count(self) -> int:
        """no_skip tests that did not run: failures, counted in the pass rate."""
        return len(self.no_skip) + self.no_skip_unlisted

    def ran_text(self, dot: str = "·") -> str:
        """ "1 of 29 ran · 28 skipped": what ran, next to every pass rate."""
        text = f"{self.ran} of {self.total} ran"
        if self.skipped:
            text += f" {dot} {self.skipped} skipped"
        return text

    def files_text(self) -> str | None:
        """ "7 of 11 files skipped at collection (5 at import, 2 deselected)", or None if none were."""
        if not self.files_skipped:
            return None
        parts = []
        if self.files_at_import:
            parts.append(f"{len(self.files_at_import)} at import")
        if self.files_deselected:
            parts.append(f"{len(self.files_deselected)} deselected")
        of = f" of {self.files}" if self.files else ""
        noun = "file" if self.files_skipped == 1 and not of else "files"
        return f"{self.files_skipped}{of} {noun} skipped at collection ({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total, "ran": self.ran, "skipped": self.skipped, "deselected": self.deselected,
            "max_skipped": self.max_skipped, "min_ran": self.min_ran,
            "groups": [g.to_dict() for g in self.groups],
            "no_skip_marker": self.no_skip_marker or None,
            "no_skip_failures": [{"nodeid": n, "why": why} for n, why in self.no_skip],
            "no_skip_count": self.no_skip_count,
            "files": {
                "collected": self.files, "skipped_at_import": list(self.files_at_import),
                "deselected": list(self.files_deselected), "errors": list(self.files_errors),
            },
            "violations": list(self.violations),
            "advice": [dict(a) for a in self.advice],
        }


def group_skips(tests: Iterable[Any]) -> list[SkipGroup]:
    """Skipped results grouped by normalised reason, largest group first."""
    by_key: dict[str, list[Any]] = {}
    for t in tests:
        if t.outcome == "skipped":
            by_key.setdefault(group_key(t.message), []).append(t)
    groups = []
    for key, members in by_key.items():
        raw = Counter(m.message.strip() for m in members)
        common = raw.most_common(1)[0][0]
        groups.append(SkipGroup(
            reason=(common or "(no reason given)") if len(raw) == 1 else normalise(common),
            key=key,
            count=len(members),
            nodeids=[m.nodeid for m in members],
            at_collection=sum(1 for m in members if m.phase == "collect"),
            variants=[r for r, _ in raw.most_common(3)],
        ))
    groups.sort(key=lambda g: (-g.count, g.key))
    return groups


def build_report(
    tests: Sequence[Any],
    *,
    collected: int | None,
    collection: Mapping[str, Any] | None,
    max_skipped: int | float | None,
    min_ran: int,
    no_skip_marker: str,
) -> SkipReport:
    """The SkipReport of a run: `tests` are its TestResults, `collection` the plugin's summary."""
    collection = collection or {}
    ran = {t.nodeid for t in tests if t.phase in ("call", "???") and t.outcome in RAN_OUTCOMES}
    skipped = sum(1 for t in tests if t.outcome == "skipped")
    at_import = list(dict.fromkeys(t.nodeid for t in tests if t.phase == "collect" and t.outcome == "skipped"))
    errors = list(dict.fromkeys(t.nodeid for t in tests if t.phase == "collect" and t.outcome == "error"))
    if collected is not None:
        total = collected + len(at_import)
    else:
        total = len({t.nodeid for t in tests if not (t.phase == "collect" and t.outcome == "error")})
    no_skip: list[tuple[str, str]] = []
    for t in tests:
        if getattr(t, "no_skip", False) and t.outcome == "skipped":
            no_skip.append((t.nodeid, f"skipped: {t.message or '(no reason given)'}"))
    for nodeid in collection.get("no_skip_deselected", []) or []:
        no_skip.append((str(nodeid), "deselected by the tier's selection"))
    report = SkipReport(
        total=total, ran=len(ran), skipped=skipped,
        deselected=int(collection.get("deselected_by_selection", 0) or 0),
        groups=group_skips(tests), no_skip=no_skip, no_skip_marker=no_skip_marker,
        files=collection.get("files"), files_at_import=at_import,
        files_deselected=[str(f) for f in collection.get("files_deselected", []) or []],
        files_errors=errors, max_skipped=max_skipped, min_ran=min_ran,
    )
    missing = int(collection.get("no_skip_deselected_count", 0) or 0) - len(collection.get("no_skip_deselected", []) or [])
    report.no_skip_unlisted = max(0, missing)
    report.violations = limit_violations(report)
    return report


def limit_text(max_skipped: int | float | None) -> str:
    if isinstance(max_skipped, float):
        return f"{max_skipped * 100:g} %"
    return str(max_skipped)


def limit_violations(report: SkipReport) -> list[str]:
    """Why this run fails the tier's skip rules, one sentence each ([] when it does not)."""
    out = []
    if report.no_skip_count:
        # Named one by one in the lists (`no_skip`), the detail, the JUnit file and the report.
        n = report.no_skip_count
        how = sorted({why.split(":", 1)[0] for _, why in report.no_skip})
        how_text = " or ".join("deselected" if h.startswith("deselected") else h for h in how) or "deselected"
        out.append(f"{n} {report.no_skip_marker or 'no_skip'} test{'s' if n != 1 else ''} did not run ({how_text})")
    limit = report.max_skipped
    if limit is not None and report.skipped:
        share = report.skipped / report.total if report.total else 1.0
        over = share > limit + 1e-12 if isinstance(limit, float) else report.skipped > limit
        if over:
            out.append(f"{report.skipped} of {report.total} skipped, more than max_skipped = {limit_text(limit)}")
    if report.ran < report.min_ran:
        if report.ran == 0:
            out.append(f"no test ran ({report.skipped} skipped): nothing was validated")
        else:
            out.append(f"only {report.ran} of {report.total} ran, fewer than min_ran = {report.min_ran}")
    return out
