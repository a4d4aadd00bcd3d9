"""Deterministic inputs for UI tests and snapshots: hand-made recordings, fixed health results,
tier states with fixed numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wsdash.core.errors import ClassifiedError
from wsdash.services.health.model import CheckResult, ProbeResult
from wsdash.core.recording import FORMAT

IDS = {"run_id": "run-1", "thread_id": "thread-1", "user_id": "u-1", "agent_name": "supervisor_agent"}

GOLDEN_FRAMES: list[tuple[float, dict[str, Any]]] = [
    (0.050, {"type": "agent_started", **IDS, "data": {"task_description": "What is the status of my AI spend?"}}),
    (0.312, {"type": "agent_thinking", **IDS, "data": {"reasoning": "Planning which data to pull.", "step_number": 1, "progress_percentage": 20}}),
    (0.598, {"type": "tool_executing", **IDS, "data": {"tool_name": "cost_analyzer", "execution_id": "e1", "parameters": {"period": "mtd"}}}),
    (1.021, {"type": "tool_completed", **IDS, "data": {"tool_name": "cost_analyzer", "execution_id": "e1", "status": "success", "duration": 0.42, "results": {"total_usd": 1834.27}}}),
    (1.240, {"type": "agent_thinking", **IDS, "data": {"reasoning": "Spend is up 12%.", "step_number": 2, "progress_percentage": 80}}),
    (1.655, {"type": "agent_completed", **IDS, "data": {"status": "completed", "final_response": "Month-to-date spend is $1,834.27 (+12%)."}}),
]


def write_recording(path: Path, frames: list[tuple[float, Any]] | None = None, *, base: float = 100.0, end_timed_out: bool = False) -> Path:
    """A recording as `wsdash golden-path --record` writes it, with fixed times."""
    frames = GOLDEN_FRAMES if frames is None else frames
    lines: list[dict[str, Any]] = [
        {"k": "format", "format": FORMAT},
        {"k": "start", "t": base, "url": "ws://127.0.0.1:8002/ws", "token": None},
        {"k": "open", "t": base + 0.012, "connect_s": 0.012, "phases": {"dns_ms": 0.1, "tcp_ms": 0.4, "upgrade_ms": 2.1}},
        {"k": "recv", "t": base + 0.013, "data": json.dumps({"type": "connection_established", "data": {"connection_id": "conn-1"}})},
        {"k": "send", "t": base + 0.020, "data": json.dumps({"type": "user_message"}), "message": True},
    ]
    last = base + 0.02
    for offset, frame in frames:
        last = base + 0.02 + offset
        lines.append({"k": "recv", "t": last, "data": frame if isinstance(frame, str) else json.dumps(frame)})
    lines.append({"k": "end", "t": last + 0.5, "timed_out": end_timed_out})
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def probe(name: str, status: str, *, latency: float = 12.0, detail: str = "", error: ClassifiedError | None = None, hint: str = "") -> ProbeResult:
    checks = [CheckResult("tcp", status, latency, error)]
    return ProbeResult(name, status, latency, hint, checks, detail, {}, error)


DOCKER_DOWN = probe(
    "docker", "down", latency=3.0,
    error=ClassifiedError("refused", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock", ""),
    hint="Docker Desktop is not running: start it, or run `wsdash demo` (it needs no Docker); the staging target is up (--target staging)",
)
LOCAL_DOWN = probe(
    "local", "down", latency=1.0,
    error=ClassifiedError("refused", "[WinError 1225] The remote computer refused the network connection", ""),
    hint=("no service is listening on 127.0.0.1:8002 — is the Docker test stack up? start it, or run `wsdash demo` "
          "(it needs no Docker); the staging target is up (--target staging)"),
)
STAGING_UP = probe("staging", "up", latency=84.0, detail="health 200 ok · ws 61 ms · token accepted · cert 74 days")


class FixedChecker:
    """A health checker that answers fixed results (no network), for deterministic screens."""

    def __init__(self, results: list[ProbeResult]) -> None:
        self.results = {r.name: r for r in results}

    async def __call__(self, names: Any) -> list[ProbeResult]:
        import time

        out = []
        for name in names or list(self.results):
            r = self.results[name]
            r.at = time.time()
            out.append(r)
        return out
