"""Test tiers: run a project's pytest tiers (or opaque commands) and judge them against targets.

Kept import-light on purpose (``wsdash --version`` imports the CLI, which imports this package):
the names below are loaded on first use.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "TierSpec": "wsdash.tiers.spec",
    "TestResult": "wsdash.tiers.model",
    "TierResult": "wsdash.tiers.model",
    "TierTally": "wsdash.tiers.events",
    "TierEvent": "wsdash.tiers.events",
    "TierStarted": "wsdash.tiers.events",
    "Collected": "wsdash.tiers.events",
    "TestStarted": "wsdash.tiers.events",
    "TestFinished": "wsdash.tiers.events",
    "OutputLine": "wsdash.tiers.events",
    "TierFinished": "wsdash.tiers.events",
    "tiers_from_config": "wsdash.tiers.spec",
    "builtin_tiers": "wsdash.tiers.spec",
    "exit_code_for": "wsdash.tiers.model",
    "run_tier": "wsdash.tiers.runner",
    "run_tiers": "wsdash.tiers.batch",
    "iter_tier_events": "wsdash.tiers.batch",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wsdash.tiers' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
