"""Traced to what is down: skip reasons that name something the health model knows.

A reason like "Docker not available", "cannot reach 127.0.0.1:8002" or "WSDASH_STAGING_TOKEN not
set" points at Docker, a configured target or a token variable. `landmarks(cfg)` lists what the
configuration knows (from the core config: this service does not ask the health service);
`trace` marks each skip group with what it names; `advise` turns that, with the health of those
names passed in as plain data, into what to say and what to do, offering only commands that
exist for this tier (`--target T` only when the tier says how to run against T).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from wsdash.services.tiers.skips import SkipReport
from wsdash.services.tiers.spec import DOCKER

DOCKER_KIND, TARGET_KIND, VARIABLE_KIND = "docker", "target", "variable"
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


@dataclass(frozen=True)
class Landmark:
    kind: str  # docker | target | variable
    key: str  # what a group's `cause` holds: "docker", "target:staging", "variable:WSDASH_STAGING_TOKEN"
    label: str  # as shown: "Docker", "staging", "WSDASH_STAGING_TOKEN"
    health: str  # the health name that says whether it is up: "docker" or the (variable's) target
    patterns: tuple[re.Pattern[str], ...]


def _word(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.-]){re.escape(text)}(?![\w-])", re.IGNORECASE)


def _host_ports(urls: Sequence[str | None]) -> tuple[list[str], list[str]]:
    """("host:port" spellings, bare non-loopback hosts) of the URLs."""
    pairs: list[str] = []
    hosts: list[str] = []
    for url in urls:
        if not url:
            continue
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError:
            continue
        if not host:
            continue
        port = port or (443 if parts.scheme in ("wss", "https") else 80)
        names = list(_LOOPBACK) if host in _LOOPBACK else [host]
        pairs += [f"[{h}]:{port}" if ":" in h else f"{h}:{port}" for h in names]
        if host not in _LOOPBACK:
            hosts.append(host)
    return list(dict.fromkeys(pairs)), list(dict.fromkeys(hosts))


def landmarks(cfg: Any) -> list[Landmark]:
    """What skip reasons may name, from a loaded core `Config`; most specific first."""
    marks: list[Landmark] = []
    for name, t in cfg.targets.items():
        for var in (t.token_env, t.secret_env, t.e2e_key_env):
            if var:
                marks.append(Landmark(VARIABLE_KIND, f"variable:{var}", var, name, (_word(var),)))
        # "requires staging token": the target's own token, in words.
        if t.token_env:
            marks.append(Landmark(VARIABLE_KIND, f"variable:{t.token_env}", t.token_env, name,
                                  (re.compile(rf"\b{re.escape(name)}\b.*\btoken\b", re.IGNORECASE),)))
    docker = [re.compile(r"docker|testcontainers", re.IGNORECASE)]
    if getattr(cfg.docker, "host", None):
        pairs, _ = _host_ports([cfg.docker.host.replace("tcp://", "http://")])
        docker += [_word(p) for p in pairs]
    marks.append(Landmark(DOCKER_KIND, DOCKER, "Docker", DOCKER, tuple(docker)))
    for name, t in cfg.targets.items():
        pairs, hosts = _host_ports([t.ws_url, t.health_url, t.auth_health_url, t.e2e_auth_url])
        ports = sorted({p.rsplit(":", 1)[1] for p in pairs if any(p.startswith(h) or p.startswith(f"[{h}]") for h in _LOOPBACK)})
        patterns = [_word(p) for p in pairs] + [_word(h) for h in hosts]
        patterns += [re.compile(rf"\bport\s+{p}\b", re.IGNORECASE) for p in ports]
        marks.append(Landmark(TARGET_KIND, f"target:{name}", name, name, tuple(patterns)))
    for name in cfg.targets:  # the name in words last ("needs staging", "local backend down"): weakest evidence
        n = re.escape(name)
        said = re.compile(
            rf"\b(?:requires?|needs?|no|without|against)\s+(?:the\s+|a\s+)?{n}\b"
            rf"|\b{n}\s+(?:backend|server|service|environment|env|target|stack|api|is\s+down|unreachable"
            rf"|not\s+(?:available|reachable|running|up))\b",
            re.IGNORECASE,
        )
        marks.append(Landmark(TARGET_KIND, f"target:{name}", name, name, (said,)))
    return marks


def cause_of(reason: str, marks: Sequence[Landmark]) -> Landmark | None:
    for mark in marks:
        if any(p.search(reason) for p in mark.patterns):
            return mark
    return None


def trace(report: SkipReport, marks: Sequence[Landmark]) -> dict[str, Landmark]:
    """Mark each skip group with what its reasons name; returns the landmarks named, by key."""
    named: dict[str, Landmark] = {}
    for group in report.groups:
        mark = next((m for m in (cause_of(v, marks) for v in [*group.variants, group.reason]) if m is not None), None)
        group.cause = mark.key if mark is not None else None
        if mark is not None:
            named.setdefault(mark.key, mark)
    return named


def health_names(named: Mapping[str, Landmark], spec: Any) -> list[str]:
    """The health names whose state the advice needs: what the skips name, and the targets
    this tier can be pointed at instead."""
    return list(dict.fromkeys([*(m.health for m in named.values()), *spec.target_env]))


def _tests(count: int, files: int) -> str:
    tests = count - files
    parts = [f"{tests} test{'s' if tests != 1 else ''}"] if tests else []
    if files:
        parts.append(f"{files} file{'s' if files != 1 else ''} (at import)")
    return " and ".join(parts)


def advise(
    report: SkipReport,
    named: Mapping[str, Landmark],
    spec: Any,
    usable: Mapping[str, bool | None],
    env_has: Callable[[str], bool],
    *,
    ok: str = "✔",
    bad: str = "✗",
) -> list[dict[str, Any]]:
    """What to say about each traced cause, largest first: {cause, label, count, state, command, text}.

    `usable` maps health names to True (up), False (down) or None (not known); `env_has` says
    whether a variable is set for the tier. The command is one that exists for this tier."""
    rerun = f"wsdash tiers run {spec.name}" + (f" --target {spec.on_target}" if spec.on_target else "")
    others = [t for t in spec.target_env if usable.get(t) is True and t != spec.on_target]
    out = []
    for key, mark in named.items():
        groups = [g for g in report.groups if g.cause == key]
        count, files = sum(g.count for g in groups), sum(g.at_collection for g in groups)
        what = _tests(count, files)
        elsewhere = [t for t in others if t != mark.health]
        instead = f"wsdash tiers run {spec.name} --target {elsewhere[0]}" if elsewhere else None
        if mark.kind == VARIABLE_KIND:
            state = "set" if env_has(mark.label) else "unset"
            if state == "unset":
                command, text = rerun, f"{what} skipped because {mark.label} is not set — set it ({mark.health}'s credentials), then rerun: `{rerun}`"
            else:
                command = f"wsdash check --only {mark.health}"
                text = f"{what} skipped on {mark.label}, which is set — check that it is valid: `{command}`"
        else:
            up = usable.get(mark.health)
            shown = f"Environment: {mark.label}"
            if up is False:
                state = "down"
                if instead:
                    command, todo = instead, f"run them against {elsewhere[0]}: `{instead}`"
                elif mark.kind == DOCKER_KIND:
                    command, todo = rerun, f"start Docker, then rerun: `{rerun}`"
                else:
                    command, todo = f"wsdash check --only {mark.health}", f"rerun when `wsdash check --only {mark.health}` is green"
                text = f"{what} skipped because {mark.label} is down ({shown} {bad}) — {todo}"
            elif up is True:
                state, command = "up", rerun
                text = f"{what} skipped on {mark.label}, but {mark.label} is up now ({shown} {ok}) — rerun: `{rerun}`"
            else:
                state, command = "unknown", f"wsdash check --only {mark.health}"
                text = f"{what} skipped on {mark.label} (not checked) — see `{command}`"
        out.append({"cause": key, "label": mark.label, "count": count, "state": state, "command": command, "text": text})
    out.sort(key=lambda a: -a["count"])
    return out


def explain(
    report: SkipReport, marks: Sequence[Landmark], spec: Any, usable: Mapping[str, bool | None],
    env_has: Callable[[str], bool],
) -> list[dict[str, Any]]:
    """trace + advise, stored on the report (its `advice`) for every output to read."""
    named = trace(report, marks)
    report.advice = advise(report, named, spec, usable, env_has)
    return report.advice
