"""What a tier is: TierSpec, built and checked from a ``[[tiers]]`` table, and the built-in tiers."""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

KIND_PYTEST, KIND_COMMAND = "pytest", "command"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_KEYS = (
    "name", "title", "pytest", "command", "python", "cwd", "env", "target", "requires", "timeout_s",
    "max_skipped", "min_ran", "no_skip_marker", "target_env",
)
DOCKER = "docker"  # what `requires` calls the Docker daemon (the health model checks it by that name)
DEFAULT_NO_SKIP_MARKER = "no_skip"
_MARKER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --------------------------------------------------------------------------------------------
# TierSpec


@dataclass(frozen=True)
class TierSpec:
    """One tier: a pytest selection (live per-test results) or an opaque command (exit code)."""

    name: str
    title: str
    pytest: tuple[str, ...] | None = None
    command: tuple[str, ...] | None = None
    python: str = field(default_factory=lambda: sys.executable)
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    target: float = 1.0
    requires: tuple[str, ...] = ()
    timeout_s: float | None = None
    # Judged on what ran (skips.py): at most this many skipped (an int) or this share of the
    # tier's tests (a float in [0, 1]); None: no limit. At least `min_ran` tests must run.
    max_skipped: int | float | None = None
    min_ran: int = 1
    no_skip_marker: str = DEFAULT_NO_SKIP_MARKER  # "" turns the rule off
    # `wsdash tiers run NAME --target T`: the variables that point this tier's suite at target T.
    target_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    on_target: str | None = None  # set by for_target(): the target this run was pointed at

    @property
    def kind(self) -> str:
        return KIND_PYTEST if self.pytest is not None else KIND_COMMAND

    def argv(self) -> list[str]:
        """The command line, without wsdash's plugin arguments (for display and for running)."""
        if self.pytest is not None:
            return [self.python, "-m", "pytest", *self.pytest]
        assert self.command is not None
        return list(self.command)

    def display_command(self) -> str:
        if self.pytest is not None:
            return shlex.join(["pytest", *self.pytest])
        return shlex.join(self.argv())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "pytest": list(self.pytest) if self.pytest is not None else None,
            "command": list(self.command) if self.command is not None else None,
            "python": self.python,
            "cwd": self.cwd,
            "env": sorted(self.env),  # names only: values may be secrets
            "target": self.target,
            "requires": list(self.requires),
            "timeout_s": self.timeout_s,
            "max_skipped": self.max_skipped,
            "min_ran": self.min_ran,
            "no_skip_marker": self.no_skip_marker or None,
            "target_env": {t: sorted(v) for t, v in self.target_env.items()},  # names only
            "on_target": self.on_target,
        }

    def max_skipped_text(self) -> str:
        """The limit as a person reads it: "0", "3", "10 %"."""
        if self.max_skipped is None:
            return "no limit"
        if isinstance(self.max_skipped, float):
            return f"{self.max_skipped * 100:g} %"
        return str(self.max_skipped)

    def for_target(self, target: str, ws_url: str | None = None) -> TierSpec:
        """This tier pointed at `target`: its `target_env[target]` on top of its env, plus
        WSDASH_TARGET (and WSDASH_WS_URL) for suites that read them; it then requires that target
        (and nothing else: a tier run against staging does not need local). Raises ValueError
        when the tier does not say how to run against `target`."""
        if target not in self.target_env:
            said = ", ".join(sorted(self.target_env)) or "none"
            raise ValueError(
                f"tier {self.name!r} does not say how to run against {target!r}: add "
                f"[tiers.target_env.{target}] with the variables its tests read (targets it knows: {said})"
            )
        env = {**self.env, **self.target_env[target], "WSDASH_TARGET": target}
        if ws_url:
            env["WSDASH_WS_URL"] = ws_url
        return replace(self, env=env, requires=(target,), on_target=target)

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None) -> TierSpec:
        """Build a tier from one ``[[tiers]]`` table; a relative `cwd` is taken from `base_dir`.

        Raises ValueError whose message names the tier and the key, and says what is expected.
        """
        if not isinstance(table, Mapping):
            raise ValueError(f"a tier must be a table, got {type(table).__name__}")
        raw_name = table.get("name")
        where = f"tier {raw_name!r}" if isinstance(raw_name, str) and raw_name else "tier"
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(_KEYS)}")
        if not isinstance(raw_name, str) or not _NAME_RE.match(raw_name):
            said = "is required" if raw_name is None else f"{raw_name!r} is not one"
            raise ValueError(
                f"{where}: 'name' {said}: a tier's name is letters, digits, '-', '_' or '.', e.g. name = \"unit\""
            )
        name = raw_name
        title = table.get("title", name)
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"{where}: 'title' must be a non-empty string, got {title!r}")

        has_pytest, has_command = "pytest" in table, "command" in table
        if has_pytest == has_command:
            raise ValueError(
                f"{where}: give exactly one of 'pytest' (arguments for python -m pytest, e.g. "
                f"pytest = [\"tests/unit\"]) or 'command' (a program and its arguments)"
                + (" — not both" if has_pytest else "")
            )
        pytest_args = _str_list(table["pytest"], f"{where}: 'pytest'", allow_empty=True) if has_pytest else None
        command = _str_list(table["command"], f"{where}: 'command'", allow_empty=False) if has_command else None

        python = table.get("python", sys.executable)
        if not isinstance(python, str) or not python:
            raise ValueError(f"{where}: 'python' must be the path of an interpreter, got {python!r}")
        if has_command and "python" in table:
            raise ValueError(f"{where}: 'python' applies to pytest tiers only; put the interpreter in 'command'")

        cwd = table.get("cwd")
        if cwd is not None:
            if not isinstance(cwd, str) or not cwd:
                raise ValueError(f"{where}: 'cwd' must be a directory path, got {cwd!r}")
            cwd = os.path.expanduser(cwd)
            if base_dir is not None and not os.path.isabs(cwd):
                cwd = os.path.normpath(os.path.join(os.fspath(base_dir), cwd))

        env = table.get("env", {})
        if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise ValueError(f"{where}: 'env' must be a table of strings, e.g. env = {{ DEBUG = \"1\" }}")

        target = table.get("target", 1.0)
        if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0.0 <= float(target) <= 1.0:
            hint = ""
            if isinstance(target, (int, float)) and not isinstance(target, bool) and 1 < target <= 100:
                hint = f" (did you mean {target / 100:g}?)"
            raise ValueError(f"{where}: 'target' is a pass-rate between 0 and 1, got {target!r}{hint}")

        requires = table.get("requires", [])
        if isinstance(requires, str):
            raise ValueError(f"{where}: 'requires' must be a list of target names, e.g. requires = [{requires!r}]")
        requires_t = _str_list(requires, f"{where}: 'requires'", allow_empty=True)

        timeout = table.get("timeout_s")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ValueError(f"{where}: 'timeout_s' must be a positive number of seconds, got {timeout!r}")

        max_skipped, min_ran, marker, target_env = _judging_keys(table, where)

        return cls(
            name=name,
            title=title,
            pytest=pytest_args,
            command=command,
            python=_from_config_dir(os.path.expanduser(python), base_dir),
            cwd=cwd,
            env=dict(env),
            target=float(target),
            requires=requires_t,
            timeout_s=float(timeout) if timeout is not None else None,
            max_skipped=max_skipped,
            min_ran=min_ran,
            no_skip_marker=marker,
            target_env=target_env,
        )


def _from_config_dir(path: str, base_dir: str | os.PathLike[str] | None, pathmod: Any = os.path) -> str:
    """A relative interpreter path ("../backend/.venv/bin/python", ".venv\\Scripts\\python.exe") is
    the config file's neighbour, like `cwd`; a bare name ("python3") stays a name found on PATH."""
    if base_dir is None or pathmod.isabs(path) or not any(sep and sep in path for sep in (pathmod.sep, pathmod.altsep)):
        return path
    return pathmod.normpath(pathmod.join(os.fspath(base_dir), path))


def _judging_keys(table: Mapping[str, Any], where: str) -> tuple[int | float | None, int, str, dict[str, dict[str, str]]]:
    """max_skipped, min_ran, no_skip_marker and target_env, checked."""
    max_skipped = table.get("max_skipped")
    if max_skipped is not None:
        if isinstance(max_skipped, bool) or not isinstance(max_skipped, (int, float)):
            raise ValueError(f"{where}: 'max_skipped' is a count (e.g. 0) or a share of the tier's tests (e.g. 0.1), got {max_skipped!r}")
        if isinstance(max_skipped, int) and max_skipped < 0:
            raise ValueError(f"{where}: 'max_skipped' must not be negative, got {max_skipped!r}")
        if isinstance(max_skipped, float) and not 0.0 <= max_skipped <= 1.0:
            hint = f" (a count is written without a decimal point: {int(max_skipped)})" if max_skipped.is_integer() and max_skipped > 1 else ""
            raise ValueError(f"{where}: 'max_skipped' as a float is a share between 0 and 1, got {max_skipped!r}{hint}")
    min_ran = table.get("min_ran", 1)
    if isinstance(min_ran, bool) or not isinstance(min_ran, int) or min_ran < 0:
        raise ValueError(f"{where}: 'min_ran' must be a whole number of tests (0 or more), got {min_ran!r}")
    marker = table.get("no_skip_marker", DEFAULT_NO_SKIP_MARKER)
    if not isinstance(marker, str) or (marker and not _MARKER_RE.match(marker)):
        raise ValueError(f"{where}: 'no_skip_marker' must be a marker name like \"no_skip\" (or \"\" for none), got {marker!r}")
    target_env = table.get("target_env", {})
    if not isinstance(target_env, Mapping) or not all(
        isinstance(t, str) and isinstance(v, Mapping) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())
        for t, v in target_env.items()
    ):
        raise ValueError(f"{where}: 'target_env' must be tables of strings per target, e.g. [tiers.target_env.staging] ENVIRONMENT = \"staging\"")
    return max_skipped, min_ran, marker, {t: dict(v) for t, v in target_env.items()}


def _str_list(value: Any, where: str, *, allow_empty: bool) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ValueError(f"{where} must be a list of strings, e.g. {shlex.split(value) or [value]!r}")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of strings, got {value!r}")
    if not value and not allow_empty:
        raise ValueError(f"{where} must not be empty")
    return tuple(value)


BUILTIN_TIER_TABLES: tuple[dict[str, Any], ...] = (
    # docs/protocol.md §9: the three tiers of the golden-path test plan.
    {"name": "unit", "title": "Unit & configuration", "pytest": ["tests/unit/websocket/"], "target": 1.0, "timeout_s": 300},
    {
        "name": "staging",
        "title": "Staging E2E",
        "pytest": ["tests/e2e/staging/", "-m", "websocket"],
        "target": 0.95,
        "requires": ["staging"],
        "timeout_s": 1200,
    },
    {
        "name": "mission-critical",
        "title": "Business-value protection",
        "pytest": ["tests/mission_critical/", "-m", "websocket"],
        "target": 1.0,
        "max_skipped": 0,  # business-value protection: a skipped test protects nothing
    },
)


def builtin_tiers() -> list[TierSpec]:
    return [TierSpec.from_table(t) for t in BUILTIN_TIER_TABLES]


def tiers_from_config(
    tables: Sequence[Mapping[str, Any]] | None,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    targets: Sequence[str] | None = None,
) -> list[TierSpec]:
    """The tiers a configuration defines; None (no file defines any) means the built-in three.

    A file's list replaces the built-ins as a whole (no merging: a tier list is read as a plan).
    With `targets` (the configured target names), `requires` and `target_env` naming anything
    else are errors here, at load, not a "blocked" surprise at run time.
    """
    if tables is None:
        specs = builtin_tiers()
        if targets is not None:
            _check_targets(specs, targets, lambda i: "built-in tiers")
        return specs
    specs = []
    seen: set[str] = set()
    for i, table in enumerate(tables, 1):
        try:
            spec = TierSpec.from_table(table, base_dir=base_dir)
        except ValueError as exc:
            raise ValueError(f"[[tiers]] #{i}: {exc}") from None
        if spec.name in seen:
            raise ValueError(f"[[tiers]] #{i}: tier name {spec.name!r} is used twice")
        seen.add(spec.name)
        specs.append(spec)
    if not specs:
        raise ValueError("the configuration defines an empty tier list; remove 'tiers' to use the built-in tiers")
    if targets is not None:
        _check_targets(specs, targets, lambda i: f"[[tiers]] #{i}")
    return specs


def _check_targets(specs: Sequence[TierSpec], targets: Sequence[str], where: Any) -> None:
    for i, spec in enumerate(specs, 1):
        for key, names, known in (
            ("requires", spec.requires, [DOCKER, *(t for t in targets if t != DOCKER)]),
            ("target_env", tuple(spec.target_env), [t for t in targets if t != DOCKER]),
        ):
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ValueError(
                    f"{where(i)}: tier {spec.name!r}: '{key}' names {', '.join(map(repr, unknown))}, which is not a "
                    f"target: known names are {', '.join(known)}"
                )


def tiers_for_config(cfg: Any) -> list[TierSpec]:
    """The tiers of a loaded `Config`: relative `cwd`s from the file that defines the tiers, and
    target names checked against the configured targets. Raises ValueError."""
    try:
        return tiers_from_config(cfg.tiers, base_dir=cfg.tiers_base_dir, targets=list(cfg.targets))
    except ValueError as exc:  # named with the file that defines the tiers, as every config error is
        raise ValueError(f"{cfg.source('tiers')}: {exc}") from None


