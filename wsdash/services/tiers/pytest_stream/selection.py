"""What the run selects and collects: the rerun filter (``WSDASH_TIER_ONLY``) and the collection
tracker (files, files the tier's own selection emptied, deselected ``no_skip`` tests).

Both run in pytest-xdist workers too: the workers collect, the controller does not.

PYTEST_DONT_REWRITE: part of the plugin (see __init__.py), not a test module.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

MAX_LISTED = 500  # node ids listed in the collection event (deselected no_skip tests, files)


def load_only(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        ids = json.load(f)
    return [str(i) for i in ids]


def selected(nodeid: str, only: set[str]) -> bool:
    """Whether `nodeid` is one of `only` or lies under one of them (a file, a class)."""
    if nodeid in only or "" in only:
        return True
    parts = nodeid.split("::")
    for i in range(1, len(parts)):
        if "::".join(parts[:i]) in only:
            return True
    # A parametrized id "f[1]" selected by its function "f".
    base = nodeid.split("[", 1)[0]
    return base != nodeid and base in only


class OnlyFilter:
    """Deselect every item not in the list (rerun-failed)."""

    def __init__(self, only: list[str]) -> None:
        self.only = set(only)
        self.dropped: set[str] = set()  # so that the collection tracker can tell these apart

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep = [item for item in items if selected(item.nodeid, self.only)]
        dropped = [item for item in items if not selected(item.nodeid, self.only)]
        if dropped:
            self.dropped.update(item.nodeid for item in dropped)
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


class CollectionTracker:
    """How many test files the selection collected, which ones its own -m/-k/--deselect emptied,
    and which deselected tests carry the no-skip marker (the rerun filter's drops are not the
    tier's selection)."""

    def __init__(self, config: pytest.Config, only: OnlyFilter | None, marker: str) -> None:
        self.config = config
        self.only = only
        self.marker = marker
        self.files: set[str] = set()
        self.own_deselected: list[str] = []
        self.no_skip_deselected: list[str] = []

    def pytest_collectstart(self, collector: pytest.Collector) -> None:
        if isinstance(collector, pytest.File) and not isinstance(collector, pytest.Package):
            self.files.add(collector.nodeid)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            if self.only is None or item.nodeid not in self.only.dropped:
                self.own_deselected.append(item.nodeid)
                if self.marker and item.get_closest_marker(self.marker) is not None:
                    self.no_skip_deselected.append(item.nodeid)

    def summary(self, items: list[pytest.Item]) -> dict[str, Any]:
        remaining = {_file_of(i.nodeid) for i in items}
        dropped = {_file_of(n) for n in (self.only.dropped if self.only is not None else ())}
        emptied = sorted({_file_of(n) for n in self.own_deselected} - remaining - dropped)
        return {
            "ev": "collection", "files": len(self.files | remaining), "files_deselected": emptied[:MAX_LISTED],
            "deselected_by_selection": len(self.own_deselected), "no_skip_marker": self.marker,
            "no_skip_deselected": self.no_skip_deselected[:MAX_LISTED], "no_skip_deselected_count": len(self.no_skip_deselected),
        }

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller sends it (reporter.py)
            workeroutput["wsdash_collection"] = self.summary(list(session.items))
