"""Run every probe concurrently under one deadline, and say what still works.

`wsdash check`, the dashboard's poller and the tier runner all go through `run_checks`, so they
agree on what "up" means. A probe that overruns is cancelled and reported as a timeout: never
lost, never waited for.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any, Awaitable, Callable, Iterable, Mapping, Sequence

from wsdash.core.config import Config, ConfigError
from wsdash.core.errors import AUTH, TIMEOUT, UNKNOWN, ClassifiedError
from wsdash.services.health.model import DEGRADED, DOWN, UP, CheckResult, ProbeResult
from wsdash.services.health.board import Checker
from wsdash.services.health.run_evidence import failing_runs, join, runs_said

DOCKER = "docker"  # the Docker daemon is checked as the target named "docker"

RecentRuns = Callable[[Sequence[str]], Awaitable[Mapping[str, Iterable[Any]]]]
"""Target names → their recent golden-path runs (RunRecords): what the history and the dashboard
already know. It handles its own errors (a broken history must not break the check)."""

Probe = Callable[[float], Awaitable[ProbeResult]]
"""Takes its time budget in seconds; returns a result and never raises (if it does, it is a bug
and is reported as an `unknown` error rather than crashing the round)."""


def known_names(config: Config) -> list[str]:
    return [DOCKER, *(n for n in config.targets if n != DOCKER)]


def names_to_check(config: Config, only: Iterable[str] | None) -> list[str]:
    """The names to check, in config order. Raises ConfigError listing the known names."""
    known = known_names(config)
    if not only:
        return known
    wanted = [n.strip() for n in only if n.strip()]
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ConfigError(
            f"unknown target{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
            f"known names are {', '.join(known)}")
    return [n for n in known if n in wanted]


def required_names(config: Config, names: Sequence[str], *, explicit: bool = False) -> set[str]:
    """Which results decide the exit code: the configured `required` ones — or, when the user
    named targets with --only, exactly those (asking for staging and getting exit 0 while it is
    down would be a lie)."""
    if explicit:
        return set(names)
    required = {n for n, t in config.targets.items() if t.required and n != DOCKER}
    if config.docker.required:
        required.add(DOCKER)
    return required & set(names)


def build_probes(
    config: Config,
    names: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    docker_options: Mapping[str, Any] | None = None,
) -> dict[str, Probe]:
    from wsdash.services.health.docker import probe_docker
    from wsdash.services.health.service import probe_target

    probes: dict[str, Probe] = {}
    for name in names:
        if name == DOCKER:
            opts = {"host": config.docker.host, "env": env, **(docker_options or {})}
            probes[name] = lambda t, o=opts: probe_docker(timeout=t, **o)
        else:
            target = config.targets[name]
            probes[name] = lambda t, tg=target: probe_target(tg, timeout=t, env=env)
    return probes


async def run_probes(probes: Mapping[str, Probe], timeout: float) -> list[ProbeResult]:
    """Start every probe at once; each gets a budget slightly under `timeout` to finish and
    report its own (more precise) timeout; at `timeout` the stragglers are cancelled."""
    from wsdash.services.health.service import warm_up

    warm_up()  # slow synchronous setup before any probe's clock starts
    budget = max(0.05, timeout - min(0.2, timeout * 0.1))
    start = time.perf_counter()
    tasks = {name: asyncio.create_task(probe(budget), name=f"probe:{name}") for name, probe in probes.items()}
    try:
        if tasks:
            await asyncio.wait(tasks.values(), timeout=timeout)
    except asyncio.CancelledError:  # the poller was stopped mid-round: take the probes with us
        for task in tasks.values():
            task.cancel()
        raise
    results = []
    for name, task in tasks.items():
        if not task.done():
            task.cancel()
            results.append(_overran(name, timeout, (time.perf_counter() - start) * 1000))
        elif task.exception() is not None:
            results.append(_crashed(name, task.exception(), (time.perf_counter() - start) * 1000))
        else:
            results.append(task.result())
    pending = [t for t in tasks.values() if not t.done()]
    if pending:  # let cancellations run their cleanup (close sockets) before we return
        await asyncio.wait(pending, timeout=0.2)
    return results


async def run_checks(
    config: Config,
    only: Sequence[str] | None = None,
    *,
    timeout: float = 5.0,
    env: Mapping[str, str] | None = None,
    docker_options: Mapping[str, Any] | None = None,
    recent_runs: RecentRuns | None = None,
) -> list[ProbeResult]:
    """Check `only` (default: Docker and every target) concurrently within `timeout` seconds.
    With `recent_runs`, a target that accepts connections but whose recent runs the server ended
    is degraded (run_evidence.py). Down results' hints then name what else works (`point_hints`)."""
    names = names_to_check(config, only)
    results = await run_probes(build_probes(config, names, env=env, docker_options=docker_options), timeout)
    if recent_runs is not None:
        results = join(results, await recent_runs([n for n in names if n != DOCKER]))
    return point_hints(results)


def checker_for(config: Config, *, timeout: float = 5.0, env: Mapping[str, str] | None = None,
                docker_options: Mapping[str, Any] | None = None, recent_runs: RecentRuns | None = None) -> Checker:
    """A `Checker` for `HealthBoard(checker=…)` and `poll`: names (None = all) → results."""
    async def check(names: Sequence[str] | None) -> list[ProbeResult]:
        return await run_checks(config, names, timeout=timeout, env=env, docker_options=docker_options,
                                recent_runs=recent_runs)
    return check


def working_targets(results: Sequence[ProbeResult], besides: str = "") -> list[str]:
    """The targets that work now: usable, and their recent runs not ended by the server. The one
    answer to "what else can I use" — for `what_still_works` and for every hint (`point_hints`)."""
    return [r.name for r in results if r.name not in (DOCKER, besides) and r.usable and not failing_runs(r)]


def elsewhere(results: Sequence[ProbeResult], name: str) -> str:
    """What to use instead of `name`, from these results only: the targets that work, or — when
    every other checked target is down too — how to configure one. "" when no other target was
    checked (nothing is known, so nothing is suggested)."""
    others = [r for r in results if r.name not in (DOCKER, name)]
    works = working_targets(results, besides=name)
    if works:
        verb = "is" if len(works) == 1 else "are"
        return f"the {_join(works)} target{'s' if len(works) > 1 else ''} {verb} up (--target {works[0]})"
    if others:
        return "no other configured target is up (add one: [targets.NAME] ws_url in wsdash.toml)"
    return ""


def point_hints(results: Sequence[ProbeResult]) -> list[ProbeResult]:
    """A down result's hint ends with what else works (`elsewhere`): a probe knows only itself,
    so the hints it writes never name another target (an "or use staging" while staging is down
    sent people to a dead end); this adds the ones that are up now."""
    out = []
    for r in results:
        # Not for a refused token: the target is there and the hint says which token to set.
        extra = elsewhere(results, r.name) if r.status == DOWN and r.hint and not (r.error and r.error.kind == AUTH) else ""
        if not extra:
            out.append(r)
            continue
        hint = f"{r.hint}; {extra}"
        error = replace(r.error, hint=hint) if r.error is not None and r.error.hint == r.hint else r.error
        checks = [replace(c, error=error) if c.error is r.error and c.error is not None else c for c in r.checks]
        out.append(replace(r, hint=hint, error=error, checks=checks))
    return out


def _overran(name: str, timeout: float, ms: float) -> ProbeResult:
    err = ClassifiedError(TIMEOUT, f"the {name} probe did not finish within {timeout:g}s",
                          "something on the way is hanging: rerun with a larger --timeout, or check it alone with --only " + name)
    return ProbeResult(name, DOWN, ms, err.hint, [CheckResult("deadline", DOWN, ms, err)], error=err)


def _crashed(name: str, exc: BaseException, ms: float) -> ProbeResult:
    err = ClassifiedError(UNKNOWN, f"the {name} probe failed: {type(exc).__name__}: {exc}",
                          "this is a wsdash bug: please report it with `wsdash check --json`")
    return ProbeResult(name, DOWN, ms, err.hint, [CheckResult("probe", DOWN, ms, err)], error=err)


def label(name: str) -> str:
    return "Docker" if name == DOCKER else name


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def what_still_works(results: Sequence[ProbeResult], tiers: Sequence[Any] | None = None) -> list[str]:
    """Plain sentences for a person deciding what to do next. With the configured `tiers`
    (title, requires), the blocked ones are named; without, it is said in general. A tier's
    skipped tests validated nothing: with what its last run left (ran, skipped, total,
    top_reasons), they are counted as not validated, whatever the probes say."""
    down = [r for r in results if r.status == DOWN]
    degraded = [r for r in results if r.status == DEGRADED]
    unvalidated = _not_validated(tiers or ())
    if not down and not degraded:
        return (["Everything checked is up."] + unvalidated) if results else unvalidated
    lines = []
    if down:
        # What still works comes from the configuration: the tiers that need nothing that is down
        # (by their titles), and the targets that answer — never a tier that does not exist.
        # A requirement that was not checked (`check --only`) is not known to work: such a tier is
        # not said to work either.
        fine = {r.name for r in results if r.status != DOWN}
        free = [str(_fact(t, "title")) for t in tiers or () if set(_fact(t, "requires", ()) or ()) <= fine]
        works = free + [f"the {n} target" for n in working_targets(results)]
        verb = "is" if len(down) == 1 else "are"
        still = (f"{_join(works)} still work{'s' if len(works) == 1 else ''}" if works
                 else "nothing checked works now")
        lines.append(f"{_join([label(r.name) for r in down])} {verb} down: {still}; `wsdash demo` runs everything locally.")
        blocked = [r.name for r in down if r.name != DOCKER]
        if blocked and tiers is None:
            lines.append(f"Tiers that need {_join(blocked)} are blocked until "
                         f"{'it is' if len(blocked) == 1 else 'they are'} back.")
        elif blocked:
            waiting = [(_fact(t, 'title'), [n for n in _fact(t, 'requires', ()) if n in blocked]) for t in tiers]
            said = [f"{title} until {_join(needs)} {'is' if len(needs) == 1 else 'are'} back" for title, needs in waiting if needs]
            if said:
                lines.append("Blocked: " + "; ".join(said) + ".")
    for r in degraded:
        if failing_runs(r):  # it answers the probe, but runs on it end: "usable" would send people there
            lines.append(f"{label(r.name)} {runs_said(r)}.")  # the card and the check row carry the hint
        else:
            lines.append(f"{label(r.name)} is degraded but usable: {r.hint or r.detail}")
    return lines + unvalidated


def _fact(tier: Any, key: str, default: Any = None) -> Any:
    """A tier given as a mapping (the board's facts) or as an object (a TierSpec)."""
    return tier.get(key, default) if isinstance(tier, Mapping) else getattr(tier, key, default)


def _not_validated(tiers: Sequence[Any]) -> list[str]:
    said = []
    for tier in tiers:
        skipped, ran, total = _fact(tier, "skipped", 0) or 0, _fact(tier, "ran"), _fact(tier, "total")
        if not skipped or ran is None:
            continue
        why = ", ".join(f"{n} × {reason}" for reason, n in (_fact(tier, "top_reasons") or []))
        said.append(f"{_fact(tier, 'title')} — {skipped} of {total} tests skipped" + (f" ({why})" if why else ""))
    return ["Not validated: " + "; ".join(said) + "."] if said else []


def report(results: Sequence[ProbeResult], required: set[str]) -> dict[str, Any]:
    """The `--json` document: {ok, targets}."""
    targets = []
    for r in results:
        data = r.to_json()
        data["required"] = r.name in required
        targets.append(data)
    return {"ok": all_up(results, required), "targets": targets}


def all_up(results: Sequence[ProbeResult], required: set[str]) -> bool:
    return all(r.status == UP for r in results if r.name in required)
