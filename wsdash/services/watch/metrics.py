"""Metrics for Prometheus from `wsdash watch`: served over HTTP (OpenMetrics or the classic text
format, as the scraper asks) and/or written as a node_exporter textfile. prometheus_client does
the exposition — an optional extra (`pip install 'wsdash[metrics]'`), imported only here.

Every metric is documented in README.md (§ Metrics); the names and help texts below are the API.
"""

from __future__ import annotations

from typing import Any, Sequence

from wsdash.core.run_record import RunRecord, TierRecord

INSTALL_HINT = "pip install 'wsdash[metrics]'  (or: pip install prometheus_client)"
FIRST_EVENT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
TOTAL_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
CONNECT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


class MetricsUnavailable(Exception):
    """prometheus_client is not installed: the message says what to install."""


def _client() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise MetricsUnavailable(f"metrics need prometheus_client, which is not installed: {INSTALL_HINT}") from None
    return prometheus_client


class WatchMetrics:
    """One registry of its own (not the process-wide default: no python_gc_* noise, and tests
    can make several). Raises MetricsUnavailable without prometheus_client."""

    def __init__(self) -> None:
        pc = _client()
        self.registry = reg = pc.CollectorRegistry(auto_describe=True)
        g, h, c = pc.Gauge, pc.Histogram, pc.Counter
        self.up = g("wsdash_golden_path_up", "1 if the last golden path passed the contract, else 0", ["target"], registry=reg)
        self.first_event = h("wsdash_golden_path_first_event_seconds", "Seconds from sending the chat message to the first agent event",
                             ["target"], buckets=FIRST_EVENT_BUCKETS, registry=reg)
        self.total = h("wsdash_golden_path_total_seconds", "Seconds from sending the chat message to agent_completed (completed runs)",
                       ["target"], buckets=TOTAL_BUCKETS, registry=reg)
        self.connect = h("wsdash_golden_path_connect_seconds", "Seconds to open the WebSocket (DNS, TCP, TLS, upgrade)",
                         ["target"], buckets=CONNECT_BUCKETS, registry=reg)
        self.runs = c("wsdash_golden_path_runs", "Golden-path runs by verdict (passed, failed, no_run)", ["target", "verdict"], registry=reg)
        self.violations = c("wsdash_golden_path_violations", "Contract violations by code (docs/protocol.md §5)", ["target", "code"], registry=reg)
        self.last_run = g("wsdash_golden_path_last_run_timestamp_seconds", "Unix time the last golden path started", ["target"], registry=reg)
        self.last_success = g("wsdash_golden_path_last_success_timestamp_seconds",
                              "Unix time the last passing golden path started (from the run history at start-up)", ["target"], registry=reg)
        self.target_up = g("wsdash_target_up", "1 if the target's health check found it usable (up or degraded), else 0", ["target"], registry=reg)
        self.tier_ratio = g("wsdash_tier_pass_ratio", "Pass rate of the tier's last run (passed / (passed + failed + error)), from the run history",
                            ["tier"], registry=reg)
        self.tier_passed = g("wsdash_tier_passed", "1 if the tier's last run met its target, else 0 (from the run history)", ["tier"], registry=reg)
        self.tier_last_run = g("wsdash_tier_last_run_timestamp_seconds", "Unix time the tier's last run started (from the run history)",
                               ["tier"], registry=reg)

    def seed(self, target: str, last_success: RunRecord | None) -> None:
        if last_success is not None:
            self.last_success.labels(target).set(last_success.started_at)

    def observe_run(self, rec: RunRecord, target_up: bool | None) -> None:
        t = rec.target
        self.up.labels(t).set(1 if rec.ok else 0)
        self.runs.labels(t, rec.verdict).inc()
        for code in rec.violation_codes:
            self.violations.labels(t, code).inc()
        if rec.first_event_ms is not None:
            self.first_event.labels(t).observe(rec.first_event_ms / 1000)
        if rec.completed and rec.total_ms is not None:
            self.total.labels(t).observe(rec.total_ms / 1000)
        if rec.connect_ms is not None:
            self.connect.labels(t).observe(rec.connect_ms / 1000)
        self.last_run.labels(t).set(rec.started_at)
        if rec.ok:
            self.last_success.labels(t).set(rec.started_at)
        if target_up is not None:
            self.target_up.labels(t).set(1 if target_up else 0)

    def observe_tiers(self, records: Sequence[TierRecord]) -> None:
        for rec in records:
            if rec.pass_rate is not None:
                self.tier_ratio.labels(rec.tier).set(rec.pass_rate)
            self.tier_passed.labels(rec.tier).set(1 if rec.ok else 0)
            self.tier_last_run.labels(rec.tier).set(rec.started_at)

    def serve(self, port: int, addr: str = "127.0.0.1") -> Any:
        """Serve /metrics on a thread of its own; returns the server (shutdown() to stop).
        Raises OSError when the port is taken."""
        server, _thread = _client().start_http_server(port, addr=addr, registry=self.registry)
        return server

    def write_textfile(self, path: str) -> None:
        """The node_exporter textfile collector's format, written to a temporary file and renamed
        over `path`, so the collector never reads half a file. Raises OSError."""
        _client().write_to_textfile(path, self.registry)

    def text(self) -> str:
        return _client().generate_latest(self.registry).decode("utf-8")
