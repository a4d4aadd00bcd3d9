"""The controller-side reporter: pytest's hooks turned into JSON lines on the results socket.

Writes are the plugin's main cost (10–100 µs each on a small VM), so events are batched, with
no thread and no timer (a thread would change the project's behaviour): a test's results wait
only until the next test starts; failures, session events and everything under xdist are
written at once.

PYTEST_DONT_REWRITE: part of the plugin (see __init__.py), not a test module.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from .report_text import longrepr_of, message_of, output_of
from .selection import CollectionTracker

# One encoder, not json.dumps(..., separators=...) per event: that builds a new encoder each call.
_ENCODE = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=str).encode

# The plugins that implement pytest_report_teststatus in pytest itself. When no other plugin
# does, the category of a plain passing report is known without asking the hook (which costs
# as much as the rest of the plugin's per-test work).
_BUILTIN_TESTSTATUS = frozenset({"terminal", "runner", "skipping"})


class StreamReporter:
    """Turns pytest hooks into JSON lines on the socket (the controller only, under xdist)."""

    def __init__(self, config: pytest.Config, sock: socket.socket, tracker: CollectionTracker | None = None) -> None:
        self.config = config
        self.tracker = tracker
        self.collection_sent = False
        self.sock: socket.socket | None = sock
        self.deselected = 0
        self.collected_sent = False
        self.durations: dict[str, float] = {}
        self.pending: list[str] = []
        self.batch = False  # decided at session start, once every plugin is configured
        self.builtin_status = False  # likewise

    # -- transport -------------------------------------------------------------------------

    def send(self, event: dict[str, Any], *, flush: bool = True) -> None:
        if self.sock is None:
            return
        event["t"] = time.time()  # when pytest produced it: the bench measures latency from here
        self._queue(_ENCODE(event), flush)

    def _queue(self, line: str, flush: bool) -> None:
        self.pending.append(line)
        if flush or len(self.pending) >= 64:
            self.flush()

    def _send_node_event(self, ev: str, nodeid: str, extra: str = "", *, flush: bool = True) -> None:
        # The per-test events, spelled out: a third of the cost of encoding a dict.
        if self.sock is not None:
            self._queue(f'{{"ev":"{ev}","nodeid":{_ENCODE(nodeid)}{extra},"t":{time.time()!r}}}', flush)

    def flush(self) -> None:
        if not self.pending or self.sock is None:
            return
        data = ("\n".join(self.pending) + "\n").encode("ascii")
        self.pending.clear()
        try:
            self.sock.sendall(data)
        except OSError:
            # wsdash went away: keep the test run itself going, just stop reporting.
            self.close()

    def close(self) -> None:
        if self.sock is not None and self.pending:
            self.flush()
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    # -- hooks -----------------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        xdist = self.config.pluginmanager.hasplugin("dsession")
        # Under xdist the controller hears about tests from several workers: no batching.
        self.batch = not xdist
        impls = self.config.hook.pytest_report_teststatus.get_hookimpls()
        self.builtin_status = all(impl.plugin_name in _BUILTIN_TESTSTATUS for impl in impls)
        self.send({"ev": "session_start", "xdist": xdist})

    def pytest_deselected(self, items: list[Any]) -> None:
        self.deselected += len(items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # Same rule as pytest's terminal reporter: failed collectors are errors, skipped
        # collectors (a module-level skip) are skips; passing collectors are not counted.
        if not getattr(report, "count_towards_summary", True):
            return
        if report.failed:
            self._send_report(report, "error")
        elif report.skipped:
            self._send_report(report, "skipped")

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._send_collected(len(session.items))
        if self.tracker is not None and not self.collection_sent:
            self.collection_sent = True
            self.send(self.tracker.summary(list(session.items)))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        # xdist: the first worker that finished tells what the selection collected.
        summary = (getattr(node, "workeroutput", None) or {}).get("wsdash_collection")
        if summary and not self.collection_sent:
            self.collection_sent = True
            self.send(dict(summary))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        # Every worker collects the whole suite: the first one tells the count.
        self._send_collected(len(ids))

    def _send_collected(self, count: int) -> None:
        if self.collected_sent:
            return
        self.collected_sent = True
        self.send({"ev": "collected", "count": count, "deselected": self.deselected})

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self._send_node_event("start", nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        self.durations[nodeid] = self.durations.get(nodeid, 0.0) + float(report.duration or 0.0)
        if not getattr(report, "count_towards_summary", True):
            return
        if self.builtin_status and report.passed and not hasattr(report, "wasxfail"):
            # What pytest's runner/terminal plugins answer for a plain pass.
            category = "passed" if report.when == "call" else ""
        else:
            status = self.config.hook.pytest_report_teststatus(report=report, config=self.config)
            category = status[0] if status else report.outcome
        if category:
            self._send_report(report, category, flush=not self.batch or report.failed)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        duration = float(self.durations.pop(nodeid, 0.0))
        self._send_node_event("finish", nodeid, f',"duration":{duration!r}', flush=not self.batch)

    def _send_report(self, report: Any, category: str, *, flush: bool = True) -> None:
        if category == "passed" and report.passed and not hasattr(report, "wasxfail"):
            # The common case, and nothing to explain.
            extra = f',"when":"{report.when}","outcome":"passed","raw":"passed","duration":{float(report.duration or 0.0)!r},"message":""'
            self._send_node_event("report", report.nodeid, extra, flush=flush)
            return
        event: dict[str, Any] = {
            "ev": "report",
            "nodeid": report.nodeid,
            "when": getattr(report, "when", None) or "collect",
            "outcome": category,
            "raw": report.outcome,
            "duration": float(getattr(report, "duration", 0.0) or 0.0),
            "message": message_of(report, category),
        }
        if report.failed:
            event["longrepr"] = longrepr_of(report)
            event["output"] = output_of(report)
        marker = self.tracker.marker if self.tracker is not None else ""
        if marker and report.skipped and marker in (getattr(report, "keywords", None) or {}):
            event["no_skip"] = True  # a test that must not skip did: wsdash counts it as a failure
        self.send(event, flush=flush)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Any:
        self.flush()
        yield
        # After the other implementations: one of them may still change the exit status.
        self.send({"ev": "session_end", "exitstatus": int(session.exitstatus)})

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.close()
