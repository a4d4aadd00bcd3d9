"""`wsdash report`'s saved inputs: the one reader of each file (`--tiers-json`, `--check-json`,
`--recording`) and the one place their shape is checked.

A saved file is the output of another wsdash command, maybe edited or truncated by hand. Whatever
the report reads from it is checked here, before anything is judged or rendered, so that bad input
is one line naming the flag, the file, the path inside it (`tiers[2].pass_rate`) and what was
expected — never a traceback, a Python-worded message, or a value (a negative duration, a pass
rate of 1e308) that the report would judge as if it had been measured.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from wsdash.services.health.model import STATUSES as _HEALTH_STATUSES
from wsdash.services.tiers.model import STATUSES as _TIER_STATUSES

MAX_DEPTH = 64  # the real outputs nest ~6 deep; deeper is not theirs (and would exhaust recursion later)


class ReportError(Exception):
    """A saved file that cannot be used, or a configuration problem: exit 2 with this message."""


class _File:
    """Where a saved file's problems are said: the flag, the path and the command it expects."""

    def __init__(self, flag: str, path: str, command: str) -> None:
        self.flag, self.path, self.command = flag, path, command

    def bad(self, what: str) -> ReportError:
        return ReportError(f"{self.flag} {self.path} {what}: expected `{self.command}` output")

    def wrong(self, where: str, value: Any, expected: str) -> ReportError:
        """`where` holds `value`, not `expected`."""
        return ReportError(f"{self.flag} {self.path}: {where} is {_shown(value)}; expected {expected} "
                           f"(as `{self.command}` writes it)")


_MISSING = object()


def _shown(value: Any) -> str:
    if value is _MISSING:
        return "missing"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) or math.isfinite(value) else str(value)
    return text if len(text) <= 40 else f"{text[:37]}…"


def _depth(data: Any) -> int:
    """How deep the containers nest, counted without recursion (the file may be built to exhaust it)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def load_json(file: _File) -> Any:
    """The file's JSON: UTF-8 with or without a BOM, or UTF-16/32 (what Windows PowerShell 5.1's `>`
    writes; JSON allows it and `json.loads` detects it from the bytes)."""
    import os

    if os.path.isdir(file.path):  # asked first: Windows' open() says "Permission denied" for a folder
        raise ReportError(f"{file.flag} {file.path} is a folder: give the file `{file.command}` wrote")
    try:
        with open(file.path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ReportError(f"{file.flag} {file.path}: {exc.strerror or exc}") from None
    if not raw.strip():
        raise file.bad("is empty")
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise file.bad(f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    except RecursionError:
        raise file.bad(f"nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # Python's limit on digits, worded for Python
            raise file.bad("holds a number thousands of digits long") from None
        raise file.bad(f"is not JSON ({exc})") from None
    if _depth(data) > MAX_DEPTH:
        raise file.bad(f"nests deeper than {MAX_DEPTH} levels")
    return data


# What a value may be. Each takes the value (or _MISSING) and says whether it is one.
Check = Callable[[Any], bool]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _share(v: Any) -> bool:
    return _is_number(v) and 0 <= v <= 1


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _text(v: Any) -> bool:
    return isinstance(v, str)


def _or_null(check: Check) -> Check:
    return lambda v: v is None or check(v)


def _field(file: _File, obj: dict[str, Any], at: str, key: str, check: Check, expected: str, *, required: bool = False) -> None:
    """obj[key] must pass `check`; absent is fine unless `required` (the report defaults it)."""
    value = obj.get(key, _MISSING)
    if value is _MISSING and not required:
        return
    if value is _MISSING or not check(value):
        raise file.wrong(f"{at}.{key}" if at else key, value, expected)


def _object(file: _File, value: Any, at: str, expected: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise file.wrong(at, value, expected)
    return value


_JSON_KIND = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false",
              type(None): "null"}


def _top_list(file: _File, data: Any, key: str, other: tuple[str, str]) -> list[Any]:
    """data[key], the list the report reads; a file of the other command's output is named as such."""
    if not isinstance(data, dict):
        raise file.bad(f"holds {_JSON_KIND.get(type(data), 'a value')}, not an object")
    if key not in data:
        other_key, other_flag = other
        mixed = f" (it has \"{other_key}\": is it for {other_flag}?)" if other_key in data else ""
        raise file.bad(f"has no \"{key}\" list{mixed}")
    if not isinstance(data[key], list):
        raise file.wrong(key, data[key], "a list")
    return data[key]


def _tier(file: _File, value: Any, at: str) -> dict[str, Any]:
    tier = _object(file, value, at, "a tier (an object with \"name\" and \"status\")")
    _field(file, tier, at, "name", lambda v: _text(v) and v != "", "the tier's name (a string)", required=True)
    _field(file, tier, at, "status", lambda v: v in _TIER_STATUSES, "one of " + ", ".join(_TIER_STATUSES), required=True)
    for key in ("title", "message", "kind"):
        _field(file, tier, at, key, _or_null(_text), "a string or null")
    _field(file, tier, at, "target", _share, "a number from 0 to 1 (the share that must pass: 0.95)")
    _field(file, tier, at, "pass_rate", _or_null(_share), "a number from 0 to 1, or null")
    _field(file, tier, at, "duration_s", _or_null(lambda v: _is_number(v) and v >= 0), "a number of seconds ≥ 0, or null")
    for key in ("ran", "skipped"):
        _field(file, tier, at, key, _or_null(_whole), "a whole number ≥ 0, or null")
    counts = tier.get("counts")
    if counts is not None:
        for outcome, n in _object(file, counts, f"{at}.counts", "an object of counts by outcome, or null").items():
            if not _whole(n):
                raise file.wrong(f"{at}.counts.{outcome}", n, "a whole number ≥ 0")
    skips = tier.get("skips")
    if skips is not None:
        groups = _object(file, skips, f"{at}.skips", "an object, or null").get("groups")
        if groups is not None and not isinstance(groups, list):
            raise file.wrong(f"{at}.skips.groups", groups, "a list, or null")
        for i, group in enumerate(groups or ()):
            g_at = f"{at}.skips.groups[{i}]"
            _object(file, group, g_at, "a skip group (an object with \"count\" and \"reason\")")
            _field(file, group, g_at, "count", _whole, "a whole number ≥ 0")
            _field(file, group, g_at, "reason", _text, "a string")
    return tier


def saved_tiers(path: str) -> list[dict[str, Any]]:
    """The tiers of a `wsdash tiers run --json` file, each checked as the report reads it."""
    file = _File("--tiers-json", path, "wsdash tiers run --json")
    entries = _top_list(file, load_json(file), "tiers", ("targets", "--check-json"))
    tiers = [_tier(file, t, f"tiers[{i}]") for i, t in enumerate(entries)]
    seen: dict[str, int] = {}
    for i, tier in enumerate(tiers):  # two results for one tier: which would the report believe?
        if tier["name"] in seen:
            raise ReportError(f"--tiers-json {path}: tiers[{seen[tier['name']]}] and tiers[{i}] are both named "
                              f"{_shown(tier['name'])}; `wsdash tiers run --json` writes one result per tier")
        seen[tier["name"]] = i
    return tiers


def _target(file: _File, value: Any, at: str) -> dict[str, Any]:
    target = _object(file, value, at, "a checked service (an object with \"name\" and \"status\")")
    _field(file, target, at, "name", lambda v: _text(v) and v != "", "the service's name (a string)", required=True)
    _field(file, target, at, "status", lambda v: v in _HEALTH_STATUSES, "one of " + ", ".join(_HEALTH_STATUSES), required=True)
    _field(file, target, at, "required", lambda v: isinstance(v, bool), "true or false")
    for key in ("detail", "hint"):
        _field(file, target, at, key, _or_null(_text), "a string or null")
    error = target.get("error")
    if error is not None:
        _object(file, error, f"{at}.error", "an object with \"message\", or null")
        _field(file, error, f"{at}.error", "message", _or_null(_text), "a string or null")
    return target


def saved_health(path: str) -> dict[str, Any]:
    """A `wsdash check --json` document, each target checked as the report reads it."""
    file = _File("--check-json", path, "wsdash check --json")
    data = load_json(file)
    entries = _top_list(file, data, "targets", ("tiers", "--tiers-json"))
    _field(file, data, "", "ok", lambda v: isinstance(v, bool), "true or false")
    for i, target in enumerate(entries):
        _target(file, target, f"targets[{i}]")
    return data


def saved_run(path: str) -> tuple[dict[str, Any], Any]:
    """A recording judged again (`core/recording.replay` checks its own lines)."""
    from wsdash.core.recording import RecordingError, replay

    try:
        result = replay(path)
    except RecordingError as exc:
        raise ReportError(str(exc)) from None
    return result.to_json(), result
