"""Test tiers: run a project's pytest tiers (or opaque commands) and judge them against targets.

Kept import-light on purpose (``wsdash --version`` imports the CLI, which imports this package):
the names below are loaded on first use.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "TierSpec": "wsdash.services.tiers.spec",
    "TestResult": "wsdash.services.tiers.model",
    "TierResult": "wsdash.services.tiers.model",
    "TierTally": "wsdash.services.tiers.events",
    "TierEvent": "wsdash.services.tiers.events",
    "TierStarted": "wsdash.services.tiers.events",
    "Collected": "wsdash.services.tiers.events",
    "TestStarted": "wsdash.services.tiers.events",
    "TestFinished": "wsdash.services.tiers.events",
    "OutputLine": "wsdash.services.tiers.events",
    "TierFinished": "wsdash.services.tiers.events",
    "tiers_from_config": "wsdash.services.tiers.spec",
    "builtin_tiers": "wsdash.services.tiers.spec",
    "exit_code_for": "wsdash.services.tiers.model",
    "run_tier": "wsdash.services.tiers.runner",
    "run_tiers": "wsdash.services.tiers.batch",
    "iter_tier_events": "wsdash.services.tiers.batch",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wsdash.services.tiers' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
