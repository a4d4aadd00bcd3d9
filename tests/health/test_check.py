"""The check runner: concurrency, the deadline, selection, required targets, "what still works"."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from health_fakes import REFUSE_S, SECRET, config_of, fake_docker, free_port, target_for

from wsdash.services.agent_server import AgentServer
from wsdash.core.config import ConfigError, TargetConfig
from wsdash.core.errors import ClassifiedError
from wsdash.services.health.check import (
    all_up, checker_for, known_names, report, required_names, run_checks, run_probes, names_to_check, what_still_works,
)
from wsdash.services.health.model import DEGRADED, DOWN, UP, ProbeResult
from wsdash.services.health.board import HealthBoard


def fake(name: str, status: str = UP, delay: float = 0.0, log: list[str] | None = None):  # type: ignore[no-untyped-def]
    async def probe(budget: float) -> ProbeResult:
        if log is not None:
            log.append(f"start {name}")
        await asyncio.sleep(delay)
        if log is not None:
            log.append(f"finish {name}")
        err = ClassifiedError("refused", "refused", f"{name} hint") if status == DOWN else None
        return ProbeResult(name, status, delay * 1000, err.hint if err else "", [], error=err)
    return probe


async def test_every_probe_starts_before_any_finishes() -> None:
    log: list[str] = []
    probes = {n: fake(n, delay=0.05, log=log) for n in ("docker", "local", "staging")}
    results = await run_probes(probes, timeout=5)
    assert [r.name for r in results] == ["docker", "local", "staging"]  # config order, not finish order
    assert log[:3] == ["start docker", "start local", "start staging"]
    assert all(entry.startswith("finish") for entry in log[3:])


async def test_a_probe_past_the_deadline_is_reported_as_a_timeout_not_lost() -> None:
    probes = {"docker": fake("docker"), "stuck": fake("stuck", delay=60), "local": fake("local")}
    results = await run_probes(probes, timeout=0.2)
    by = {r.name: r for r in results}
    assert by["docker"].status == UP and by["local"].status == UP
    assert by["stuck"].status == DOWN and by["stuck"].error.kind == "timeout"
    assert "--only stuck" in by["stuck"].hint and by["stuck"].checks[0].name == "deadline"


async def test_probes_get_a_budget_under_the_deadline() -> None:
    seen: list[float] = []

    async def probe(budget: float) -> ProbeResult:
        seen.append(budget)
        return ProbeResult("x", UP)

    await run_probes({"x": probe}, timeout=2.0)
    assert 0 < seen[0] < 2.0


async def test_a_crashing_probe_becomes_an_unknown_error() -> None:
    async def broken(budget: float) -> ProbeResult:
        raise KeyError("oops")

    [res] = await run_probes({"x": broken}, timeout=1)
    assert res.status == DOWN and res.error.kind == "unknown" and "KeyError" in res.error.message


def test_select_and_unknown_names() -> None:
    cfg = config_of(TargetConfig("local", "ws://127.0.0.1:1/ws"), TargetConfig("staging", "ws://127.0.0.1:2/ws"))
    assert known_names(cfg) == ["docker", "local", "staging"]
    assert names_to_check(cfg, None) == ["docker", "local", "staging"]
    assert names_to_check(cfg, ["staging", "docker"]) == ["docker", "staging"]
    with pytest.raises(ConfigError, match="unknown target 'nope': known names are docker, local, staging"):
        names_to_check(cfg, ["local", "nope"])


def test_required_names() -> None:
    cfg = config_of(TargetConfig("local", "ws://127.0.0.1:1/ws", required=True), TargetConfig("staging", "ws://127.0.0.1:2/ws"),
                    docker_required=True)
    assert required_names(cfg, ["docker", "local", "staging"]) == {"docker", "local"}
    assert required_names(cfg, ["staging"]) == set()
    assert required_names(cfg, ["staging"], explicit=True) == {"staging"}  # named with --only: it counts


def r(name: str, status: str, hint: str = "") -> ProbeResult:
    return ProbeResult(name, status, 1.0, hint)


def test_what_still_works_when_docker_is_down() -> None:
    lines = what_still_works([r("docker", DOWN), r("local", UP), r("staging", UP)])
    assert lines == ["Docker is down: the local target and the staging target still work; "
                     "`wsdash demo` runs everything locally."]


def test_what_still_works_names_blocked_tiers_and_degraded_targets() -> None:
    lines = what_still_works([r("docker", DOWN), r("local", DOWN), r("staging", DEGRADED, "health says degraded")])
    assert lines[0] == ("Docker and local are down: the staging target still works; "
                        "`wsdash demo` runs everything locally.")
    assert lines[1] == "Tiers that need local are blocked until it is back."
    assert lines[2] == "staging is degraded but usable: health says degraded"
    assert what_still_works([r("docker", UP), r("local", UP)]) == ["Everything checked is up."]
    # with the configured tiers, the blocked ones are named (and none when no tier needs what is down)
    from wsdash.services.tiers.spec import builtin_tiers

    named = what_still_works([r("docker", DOWN), r("local", DOWN), r("staging", DOWN)], builtin_tiers())
    assert named[1].startswith("Blocked: ") and "Staging E2E until staging is back" in named[1] and "local" not in named[1]
    assert len(what_still_works([r("docker", DOWN), r("local", DOWN), r("staging", UP)], builtin_tiers())) == 1
    # Only tiers that exist are said to work: those that need nothing that is down, by their titles.
    assert what_still_works([r("staging", DOWN)])[0].startswith("staging is down: nothing checked works now;")
    said = what_still_works([r("docker", DOWN), r("staging", DOWN), r("local", UP)], builtin_tiers())[0]
    assert said.startswith("Docker and staging are down: Unit & configuration, Business-value protection and the local "
                           "target still work;") and "Staging E2E" not in said
    assert "unit tier" not in " ".join(what_still_works([r("docker", DOWN), r("local", UP)], []))
    # `check --only local` with local down: staging was not checked, so its tier is not said to work
    only = what_still_works([r("local", DOWN)], builtin_tiers())[0]
    assert "Staging E2E" not in only and "Unit & configuration" in only


def test_report_shape_and_ok() -> None:
    results = [r("docker", DOWN), r("local", UP)]
    doc = report(results, {"local"})
    assert set(doc) == {"ok", "targets"} and doc["ok"] is True
    assert [t["required"] for t in doc["targets"]] == [False, True]
    assert not all_up(results, {"docker", "local"})
    assert not all_up([r("local", DEGRADED)], {"local"})  # degraded is usable, but not "up"


async def test_run_checks_end_to_end_with_real_peers(tmp_path: Path) -> None:
    async with AgentServer(host="127.0.0.1", port=0, secret=SECRET) as srv, fake_docker(tmp_path) as docker:
        port = free_port()
        cfg = config_of(target_for(srv), TargetConfig("staging", f"ws://127.0.0.1:{port}/ws"), docker_host=docker.host)
        results = await run_checks(cfg, timeout=REFUSE_S, env={"TEST_SECRET": SECRET}, docker_options={"cli": None})
    by = {x.name: x for x in results}
    assert [x.name for x in results] == ["docker", "local", "staging"]
    assert by["docker"].status == UP and by["local"].status == UP and by["staging"].status == DOWN
    assert what_still_works(results)[0].startswith("staging is down: the local target still works")


async def test_checker_feeds_a_board_for_a_tier_runner(tmp_path: Path) -> None:
    cfg = config_of(TargetConfig("staging", f"ws://127.0.0.1:{free_port()}/ws"))
    board = HealthBoard(checker_for(cfg, timeout=REFUSE_S, env={}, docker_options={"cli": None, "sockets": []}))
    ok, why = await board.ensure("staging")
    assert not ok and why.startswith("staging is down since") and "no service is listening" in why
    assert board.names() == ["staging"]  # only what was asked for was checked
