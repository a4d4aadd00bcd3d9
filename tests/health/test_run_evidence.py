"""A target that accepts the WebSocket and then ends every run is not UP: what the golden-path runs
already say joins the probe (services/health/run_evidence.py) — and hints only send people to
targets that are up (check.point_hints)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from wsdash.core.config import Config, DockerConfig
from wsdash.core.errors import ClassifiedError, classify
from wsdash.core.run_record import FAILED, NO_RUN, PASSED, RunRecord
from wsdash.services.agent_server import ServerThread
from wsdash.services.health.check import point_hints, run_checks, what_still_works
from wsdash.services.health.model import DEGRADED, DOWN, UP, CheckResult, ProbeResult
from wsdash.services.health.run_evidence import RECENT_S, apply, evidence

SECRET = "s3cret-run-evidence-0123456789abcdef"
NOW = 1_800_000_000.0


def run(ago_s: float, verdict: str = FAILED, *, completed: bool = False, close: int | None = 1011, kind: str | None = "closed") -> RunRecord:
    return RunRecord(started_at=NOW - ago_s, target="stg", url="ws://x/ws", source="golden-path", verdict=verdict,
                     completed=completed, close_code=close if verdict == FAILED else None,
                     error_kind=kind if verdict != PASSED else None,
                     error_hint="the server hit an internal error or was not ready: check its /health and logs, then retry")


# -- the rule ------------------------------------------------------------------------------------
def test_the_newest_runs_ended_by_the_server_make_a_streak_with_its_cause() -> None:
    ev = evidence("stg", [run(300), run(200), run(100), run(900, PASSED, completed=True)], now=NOW)
    assert ev is not None and ev.failing == 3 and ev.close_code == 1011 and ev.last_at == NOW - 100
    assert ev.sentence() == "last 3 runs closed 1011: server error (or service not ready)"


def test_one_run_the_server_finished_clears_it() -> None:
    assert evidence("stg", [run(300), run(200), run(10, PASSED, completed=True)], now=NOW) is None
    # completed with contract violations: the server served the run; the contract pane says the rest
    assert evidence("stg", [run(300), run(10, FAILED, completed=True, close=None)], now=NOW) is None


def test_runs_that_never_connected_are_passed_over_and_old_runs_say_nothing() -> None:
    ev = evidence("stg", [run(300), run(100, NO_RUN, close=None, kind="refused")], now=NOW)
    assert ev is not None and ev.failing == 1
    assert evidence("stg", [run(RECENT_S + 60)], now=NOW) is None


def test_mixed_causes_are_counted() -> None:
    ev = evidence("stg", [run(300), run(200, close=None, kind="timeout")], now=NOW)
    assert ev is not None and ev.close_code is None
    assert ev.sentence() == ("last 2 runs ended before agent_completed: 1 × timed out before agent_completed; "
                             "1 × closed 1011: server error (or service not ready)")


def test_only_a_usable_result_changes() -> None:
    ev = evidence("stg", [run(100)], now=NOW)
    up = ProbeResult("stg", UP, 5.0, detail="ws 2 ms")
    got = apply(up, ev)
    assert got.status == DEGRADED and got.detail == "accepts connections · last run closed 1011: server error (or service not ready)"
    assert got.hint.startswith("the server hit an internal error") and "`wsdash history --target stg`" in got.hint
    assert time.strftime("the newest at %H:%M:%S", time.localtime(NOW - 100)) in got.hint  # a clock time: the card ages
    assert got.checks[-1].name == "runs" and got.checks[-1].error.code == 1011
    down = ProbeResult("stg", DOWN, 5.0, hint="start it")
    assert apply(down, ev) is down


# -- `wsdash check` against a real server that closes every run with 1011 --------------------------
@pytest.fixture
def closing_server():  # type: ignore[no-untyped-def]
    with ServerThread(host="127.0.0.1", secret=SECRET, scenario="close:1011", pace=0.0) as srv:
        yield srv


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "wsdash.toml"
    cfg.write_text(f'default_target = "stg"\n[targets.stg]\nws_url = "{url}"\nsecret_env = "STG_SECRET"\nrequired = true\n',
                   encoding="utf-8")
    return cfg


def test_check_says_degraded_when_the_last_runs_closed_1011(tmp_path: Path, closing_server) -> None:  # type: ignore[no-untyped-def]
    cfg = _config(tmp_path, closing_server.url)
    env = {"STG_SECRET": SECRET}
    before = run_cli("check", "--config", str(cfg), "--only", "stg", "--json", env=env, cwd=tmp_path)
    assert before.returncode == 0 and json.loads(before.stdout)["targets"][0]["status"] == UP  # no runs yet: the probe alone
    for _ in range(3):
        ran = run_cli("golden-path", "--config", str(cfg), "--timeout", "10", env=env, cwd=tmp_path)
        assert ran.returncode == 1 and "1011" in ran.stdout
    out = run_cli("check", "--config", str(cfg), "--only", "stg", "--json", env=env, cwd=tmp_path)
    assert out.returncode == 1, out.stderr  # a required target whose runs all fail is not "ok"
    doc = json.loads(out.stdout)
    stg = doc["targets"][0]
    assert doc["ok"] is False and stg["status"] == DEGRADED
    assert stg["detail"] == "accepts connections · last 3 runs closed 1011: server error (or service not ready)"
    facts = stg["facts"]["recent_runs"]
    assert facts["failing_runs"] == 3 and facts["close_code"] == 1011 and facts["summary"].startswith("last 3 runs")
    assert [c["name"] for c in stg["checks"]][-1] == "runs"
    table = run_cli("check", "--config", str(cfg), "--only", "stg", env=env, cwd=tmp_path)
    assert "degraded" in table.stdout and "last 3 runs closed 1011" in table.stdout
    assert "stg accepts connections, but its last 3 runs closed 1011" in table.stdout  # not "degraded but usable"
    closing_server.scenario = "golden"  # fixed: one good run clears the card
    assert run_cli("golden-path", "--config", str(cfg), "--timeout", "10", env=env, cwd=tmp_path).returncode == 0
    after = run_cli("check", "--config", str(cfg), "--only", "stg", "--json", env=env, cwd=tmp_path)
    assert after.returncode == 0 and json.loads(after.stdout)["targets"][0]["status"] == UP


# -- hints send people only where things work --------------------------------------------------------
def _down(name: str, hint: str) -> ProbeResult:
    err = ClassifiedError("refused", "refused", hint)
    return ProbeResult(name, DOWN, 1.0, hint, [CheckResult("tcp", DOWN, 1.0, err)], error=err)


DOCKER_HINT = "Docker Desktop is not running: start it, or run `wsdash demo` (it needs no Docker)"


def test_a_down_hint_names_the_targets_that_are_up() -> None:
    docker = _down("docker", DOCKER_HINT)
    got = point_hints([docker, _down("local", "no service"), ProbeResult("staging", UP, 80.0)])
    assert got[0].hint == DOCKER_HINT + "; the staging target is up (--target staging)"
    assert got[0].error.hint == got[0].hint and got[0].checks[0].error is got[0].error  # one hint everywhere
    assert got[1].hint == "no service; the staging target is up (--target staging)"


def test_a_down_hint_never_names_a_target_that_is_down_or_failing_its_runs() -> None:
    staging_failing = apply(ProbeResult("staging", UP, 80.0), evidence("staging", [run(10)], now=time.time()))
    for staging in (_down("staging", "dns"), staging_failing):
        got = point_hints([_down("docker", DOCKER_HINT), staging])
        assert "--target" not in got[0].hint
        assert got[0].hint.endswith("no other configured target is up (add one: [targets.NAME] ws_url in wsdash.toml)")
    lines = what_still_works([_down("docker", DOCKER_HINT), staging_failing])
    assert "the staging target still works" not in lines[0] and "nothing checked works now" in lines[0]


def test_without_other_targets_checked_nothing_is_suggested() -> None:
    assert point_hints([_down("docker", DOCKER_HINT)])[0].hint == DOCKER_HINT  # `--only docker`: staging unknown


@pytest.mark.parametrize("exc", [
    ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 8002)"),
    OSError(22, "[WinError 1225] The remote computer refused the network connection"),
    ConnectionRefusedError(10061, "[WinError 10061] No connection could be made because the target machine actively refused it"),
])
def test_the_refused_8002_hint_does_not_send_people_to_staging(exc: OSError) -> None:
    if "1225" in str(exc):
        exc.winerror = 1225  # type: ignore[attr-defined]  # asyncio's Windows loop: errno 22, winerror 1225
    err = classify(exc, "ws://127.0.0.1:8002/ws")
    assert err.kind == "refused" and "staging" not in err.hint and "wsdash demo" in err.hint


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_run_checks_points_the_hints_of_real_probes(tmp_path: Path) -> None:
    """Real probes: a refused local and an up target; the refused one's hint names the up one."""
    from wsdash.core.config import TargetConfig
    from wsdash.services.agent_server import AgentServer

    async with AgentServer(host="127.0.0.1", port=0) as srv:
        cfg = Config(targets={"local": TargetConfig(name="local", ws_url=f"ws://127.0.0.1:{_closed_port()}/ws"),
                              "stg": TargetConfig(name="stg", ws_url=srv.url)}, docker=DockerConfig())
        got = {r.name: r for r in await run_checks(cfg, ["local", "stg"], timeout=5, env={})}
    assert got["stg"].status == UP and got["local"].status == DOWN
    assert got["local"].hint.endswith("; the stg target is up (--target stg)")


def test_an_unreadable_history_is_a_warning_and_the_probe_still_answers(tmp_path: Path, closing_server) -> None:  # type: ignore[no-untyped-def]
    cfg = _config(tmp_path, closing_server.url)
    broken = tmp_path / "history.sqlite3"
    broken.write_bytes(b"this is not a database, it is a text file" * 100)
    env = {"STG_SECRET": SECRET, "WSDASH_HISTORY_PATH": str(broken)}
    out = run_cli("check", "--config", str(cfg), "--only", "stg", "--json", env=env, cwd=tmp_path)
    assert out.returncode == 0 and json.loads(out.stdout)["targets"][0]["status"] == UP  # JSON intact on stdout
    assert "wsdash check: warning:" in out.stderr and str(broken) in out.stderr and "not consulted" in out.stderr
    assert "Traceback" not in out.stderr


def test_history_disabled_means_the_probe_alone(tmp_path: Path, closing_server) -> None:  # type: ignore[no-untyped-def]
    cfg = _config(tmp_path, closing_server.url)
    env = {"STG_SECRET": SECRET}
    assert run_cli("golden-path", "--config", str(cfg), "--timeout", "10", env=env, cwd=tmp_path).returncode == 1
    off = {**env, "WSDASH_HISTORY_ENABLED": "false"}
    out = run_cli("check", "--config", str(cfg), "--only", "stg", "--json", env=off, cwd=tmp_path)
    assert out.returncode == 0 and json.loads(out.stdout)["targets"][0]["status"] == UP
