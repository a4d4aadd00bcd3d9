"""Live test results from pytest to wsdash: a self-contained pytest plugin.

runner.py copies this file alone onto the child's PYTHONPATH and loads it in the *project under
test's* interpreter (``-p wsdash_pytest_stream``), so it imports only the standard library and
pytest: never wsdash, which is usually not installed there.

Transport: one loopback TCP connection to the address in ``WSDASH_TIER_STREAM`` ("host:port"),
JSON lines, ASCII only, Nagle disabled. The first line is a ``hello`` carrying the secret from
``WSDASH_TIER_TOKEN``, so that no other local process can inject results.

Writes are the plugin's main cost (10–100 µs each on a small VM), so events are batched, with
no thread and no timer (a thread would change the project's behaviour): a test's results wait
only until the next test starts; failures, session events and everything under xdist are
written at once.

Events, in order: ``hello``, ``session_start``, ``report`` for failed/skipped collectors,
``collected`` (count + deselected), ``collection`` (files, files the selection emptied,
deselected ``no_skip`` tests), then per test ``start``, one ``report`` per report pytest
*counts* in its summary line (category from pytest's own ``pytest_report_teststatus``; a skip
of a test marked ``WSDASH_TIER_NO_SKIP`` says so), ``finish``; finally ``session_end``.
Under pytest-xdist only the controller reports; workers filter (``WSDASH_TIER_ONLY``) and hand
their collection summary back through ``workeroutput``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from typing import Any

import pytest

ENV_ADDR = "WSDASH_TIER_STREAM"
ENV_TOKEN = "WSDASH_TIER_TOKEN"
ENV_ONLY = "WSDASH_TIER_ONLY"  # path of a JSON list of node ids: run only those (rerun-failed)
ENV_NO_SKIP = "WSDASH_TIER_NO_SKIP"  # the marker of tests that must not skip ("" or unset: none)
PROTOCOL = 1

# Limits keep one huge failure (a test that prints megabytes) from flooding the socket and
# wsdash's memory; the interesting part of a traceback is its end, of output both ends.
MAX_MESSAGE = 500
MAX_LONGREPR = 8_000
MAX_OUTPUT = 8_000
MAX_LISTED = 500  # node ids listed in the collection event (deselected no_skip tests, files)

# One encoder, not json.dumps(..., separators=...) per event: that builds a new encoder each call.
_ENCODE = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=str).encode

# The plugins that implement pytest_report_teststatus in pytest itself. When no other plugin
# does, the category of a plain passing report is known without asking the hook (which costs
# as much as the rest of the plugin's per-test work).
_BUILTIN_TESTSTATUS = frozenset({"terminal", "runner", "skipping"})


def truncate_tail(text: str, limit: int) -> str:
    """Keep the last `limit` characters (the end of a traceback says what failed)."""
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit} characters cut …]\n" + text[-limit:]


def truncate_middle(text: str, limit: int) -> str:
    """Keep both ends of `text` (how the output started, and what it said last)."""
    if len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    return f"{text[:head]}\n[… {len(text) - limit} characters cut …]\n{text[-tail:]}"


# ---- Windows: Ctrl+Break stops pytest like Ctrl-C ------------------------------------------
# wsdash starts pytest in a new process group (so that the user's Ctrl-C does not hit it
# directly), and Windows delivers only CTRL_BREAK_EVENT to such a group. The C runtime turns it
# into SIGBREAK, but a Python SIGBREAK handler runs only between blocking calls: a test in
# time.sleep or a socket read would sit out wsdash's grace period and be killed, losing pytest's
# partial summary. CPython wakes a main-thread time.sleep for SIGINT only, and
# signal.raise_signal(SIGINT) from another thread does wake it (_thread.interrupt_main does
# not). So a console control handler (run by Windows on a thread of its own, before the C
# runtime's) raises SIGINT and says the event is handled.

CTRL_C_EVENT, CTRL_BREAK_EVENT = 0, 1
_CONSOLE_HANDLER: Any = None  # the ctypes callback: kept alive for good, or Windows calls freed memory


def on_console_event(event: int) -> int:
    """The console control handler: TRUE (1) for Ctrl+C/Ctrl+Break after raising SIGINT; FALSE
    (0) for the rest (close, logoff, shutdown), which the next handler deals with."""
    if event in (CTRL_C_EVENT, CTRL_BREAK_EVENT):
        signal.raise_signal(signal.SIGINT)
        return 1
    return 0


def install_console_handler(kernel32: Any = None, functype: Any = None) -> bool:
    """Windows: register on_console_event with SetConsoleCtrlHandler. False elsewhere or when
    Windows refuses (then install_break_handler is the fallback). Both arguments are for tests."""
    global _CONSOLE_HANDLER
    if _CONSOLE_HANDLER is not None:  # once per process (pytest may be configured again in-process)
        return True
    if kernel32 is None:
        import sys

        if sys.platform != "win32":
            return False
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        functype = ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.DWORD)  # type: ignore[attr-defined]
        kernel32.SetConsoleCtrlHandler.argtypes = (functype, wintypes.BOOL)
        kernel32.SetConsoleCtrlHandler.restype = wintypes.BOOL
    handler = functype(on_console_event)
    if not kernel32.SetConsoleCtrlHandler(handler, True):
        return False
    _CONSOLE_HANDLER = handler
    return True


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def install_break_handler(signal_module: Any = signal) -> bool:
    """Windows fallback: SIGBREAK → KeyboardInterrupt (between blocking calls only, see above)."""
    sigbreak = getattr(signal_module, "SIGBREAK", None)
    if sigbreak is None:
        return False
    try:
        signal_module.signal(sigbreak, _raise_keyboard_interrupt)
    except ValueError:  # not the main thread (pytest embedded somewhere): leave it alone
        return False
    return True


def _is_xdist_worker(config: pytest.Config) -> bool:
    # Not the PYTEST_XDIST_WORKER variable: a pytest started *by* a worker inherits it.
    return hasattr(config, "workerinput")


def _load_only(path: str) -> list[str]:
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


class _OnlyFilter:
    """Deselect every item not in the list (rerun-failed). Runs in xdist workers too."""

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
    tier's selection). Runs in xdist workers too: they collect, the controller does not."""

    def __init__(self, config: pytest.Config, only: _OnlyFilter | None, marker: str) -> None:
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
        if workeroutput is not None:
            workeroutput["wsdash_collection"] = self.summary(list(session.items))


def _message(report: Any, category: str) -> str:
    """One line that says why: the exception, the skip reason, the xfail reason."""
    text = ""
    longrepr = getattr(report, "longrepr", None)
    if category in ("xfailed", "xpassed"):
        text = str(getattr(report, "wasxfail", "") or "")
    elif report.skipped and isinstance(longrepr, (tuple, list)) and len(longrepr) == 3:
        text = str(longrepr[2])
        if text.startswith("Skipped: "):  # the reason as written, as pytest's -rs prints it
            text = text[len("Skipped: "):]
    elif report.failed:
        crash = getattr(longrepr, "reprcrash", None)
        text = str(getattr(crash, "message", "") or "")
        if not text:
            lines = [ln for ln in str(getattr(report, "longreprtext", "") or "").splitlines() if ln.strip()]
            text = lines[-1].strip() if lines else ""
            if text.startswith("E "):  # pytest's marker for the exception line
                text = text[1:]
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:MAX_MESSAGE]


def _output(report: Any) -> str:
    parts = []
    for title, content in getattr(report, "sections", []) or []:
        if content:
            parts.append(f"----- {title} -----\n{content}")
    return truncate_middle("\n".join(parts), MAX_OUTPUT)


class StreamReporter:
    """Controller-side reporter: turns pytest hooks into JSON lines on the socket."""

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
            "message": _message(report, category),
        }
        if report.failed:
            event["longrepr"] = truncate_tail(str(getattr(report, "longreprtext", "") or ""), MAX_LONGREPR)
            event["output"] = _output(report)
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


def _connect(addr: str, token: str) -> socket.socket:
    host, _, port = addr.rpartition(":")
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle delay per event
    sock.settimeout(30)  # a stuck reader must not hang the test run forever
    hello = {"ev": "hello", "token": token, "protocol": PROTOCOL, "pid": os.getpid(), "pytest": pytest.__version__}
    sock.sendall((json.dumps(hello) + "\n").encode("ascii"))
    return sock


def pytest_configure(config: pytest.Config) -> None:
    if not install_console_handler():
        install_break_handler()
    only_path = os.environ.get(ENV_ONLY)
    only = _OnlyFilter(_load_only(only_path)) if only_path else None
    if only is not None:
        config.pluginmanager.register(only, "wsdash-only-filter")
    addr = os.environ.get(ENV_ADDR)
    tracker = None
    if addr or _is_xdist_worker(config):
        tracker = CollectionTracker(config, only, os.environ.get(ENV_NO_SKIP, ""))
        config.pluginmanager.register(tracker, "wsdash-collection-tracker")
    if not addr or _is_xdist_worker(config):
        return
    try:
        sock = _connect(addr, os.environ.get(ENV_TOKEN, ""))
    except (OSError, ValueError) as exc:
        # Say so on stderr (wsdash keeps the tail of it) but let the tests run.
        import sys

        print(f"wsdash: cannot connect the live results stream to {addr}: {exc}", file=sys.stderr)
        return
    config.pluginmanager.register(StreamReporter(config, sock, tracker), "wsdash-stream-reporter")
