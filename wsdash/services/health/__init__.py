"""Environment health: probes (Docker, targets), the concurrent check runner, the health board.

Kept import-free on purpose: `wsdash.cli` imports `wsdash.commands.check` on every start, and this
package's `__init__` runs first. Names below load their module on first access.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "CheckResult": "model", "ProbeResult": "model", "HealthBoard": "model", "poll": "model",
    "UP": "model", "DOWN": "model", "DEGRADED": "model", "SKIPPED": "model", "UNKNOWN": "model",
    "run_checks": "check", "run_probes": "check", "checker_for": "check", "what_still_works": "check",
    "probe_docker": "docker", "probe_target": "service",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wsdash.services.health' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"wsdash.services.health.{module}"), name)
