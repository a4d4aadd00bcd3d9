"""Which tiers `wsdash tiers run` runs, and whether they can: the config's tiers, `--target`, the
names asked for, and what would fail only after the suite ran (the JUnit path, a tier's cwd or
python), said before it runs. Errors are `UsageError`: exit 2, the message names file and tier."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Sequence

from wsdash.commands.common import load_config_noted, output_file_problem

if TYPE_CHECKING:
    from wsdash.services.tiers.spec import TierSpec


class UsageError(Exception):
    """Wrong invocation or configuration: exit code 2, message on stderr."""


def load_specs(config_path: str | None) -> tuple[list[TierSpec], Any, str]:
    """(tiers, Config, where the tiers came from). Raises UsageError on a bad config."""
    from wsdash.core.config import ConfigError
    from wsdash.services.tiers.spec import tiers_for_config

    try:
        cfg = load_config_noted(config_path)
        return tiers_for_config(cfg), cfg, cfg.source("tiers")
    except (ConfigError, ValueError, OSError) as exc:
        raise UsageError(f"configuration error: {exc}") from None


def point_at(specs: Sequence[TierSpec], cfg: Any, target: str | None) -> list[TierSpec]:
    """--target NAME: each tier pointed at that target (spec.for_target), or a usage error."""
    if target is None:
        return list(specs)
    from wsdash.core.config import ConfigError

    try:
        ws_url = cfg.target(target).ws_url
        return [s.for_target(target, ws_url) for s in specs]
    except (ConfigError, ValueError) as exc:
        raise UsageError(f"--target {target}: {exc}") from None


def check_before_run(specs: Sequence[TierSpec], junit: str | None, source: str) -> None:
    """What would fail only after the suite ran, said before it runs."""
    if junit is not None and (problem := output_file_problem("--junit", junit, "wsdash-tiers.xml")):
        raise UsageError(problem)
    for spec in specs:
        if spec.cwd and not os.path.isdir(spec.cwd):
            what = "is not a directory" if os.path.exists(spec.cwd) else "does not exist"
            raise UsageError(f"tier {spec.name!r}: working directory {spec.cwd} {what} (its cwd, from {source})")
        if spec.pytest is not None and (problem := interpreter_problem(spec.python)):
            raise UsageError(f"tier {spec.name!r}: python {spec.python} {problem} (its python, from {source})")


def interpreter_problem(python: str) -> str | None:
    """Why a configured interpreter path cannot start, or None. Only a path is checked (a bare
    name such as "python3" is found on PATH by the platform's own rules, at run time)."""
    if not any(sep and sep in python for sep in (os.sep, os.altsep)):
        return None
    if os.path.isdir(python):  # the venv itself: say where its interpreter is
        inside = os.path.join(python, "Scripts", "python.exe") if sys.platform == "win32" else os.path.join(python, "bin", "python")
        return f"is a folder, not an interpreter — a virtual environment's is {inside} —"
    if os.path.exists(python):
        return None
    # Windows' CreateProcess adds .exe to a name without an extension: ".venv/Scripts/python" starts.
    if sys.platform == "win32" and not os.path.splitext(python)[1] and os.path.isfile(python + ".exe"):
        return None
    return "does not exist"


def select_tiers(specs: Sequence[TierSpec], names: Sequence[str]) -> list[TierSpec]:
    if not names:
        return list(specs)
    by_name = {s.name: s for s in specs}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise UsageError(
            f"unknown tier{plural} {', '.join(repr(n) for n in unknown)}; known tiers: {', '.join(by_name)}"
        )
    return [by_name[n] for n in dict.fromkeys(names)]
