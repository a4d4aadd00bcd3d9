"""A replay reproduces the live verdict exactly (issue 13 point 6).

For every scenario of the embedded server in every envelope, the JSON of the live run and of its
replay are equal, field for field. WALL_CLOCK lists the fields that may differ because they are
read from the wall clock at the time of printing — none today: every time in the output is measured
during the run and recorded (the token's `expires_in_s` is the time left *at the run*), and the
README's golden-path section says so. The budgets (varied per envelope below), the connect phases
(of a failed connect too) and the token summary are recorded, so nothing is judged differently.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET
from wsdash.core.auth import mint_token
from wsdash.core.contract import Budgets
from wsdash.core.recording import Recorder, replay
from wsdash.services.agent_server.envelopes import ENVELOPES
from wsdash.services.agent_server.scenarios import SIMPLE
from wsdash.services.session.handshake import SessionOptions
from wsdash.services.session.once import run_golden_path

WALL_CLOCK: frozenset[str] = frozenset()  # fields allowed to differ between live and replay (README: golden-path)

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
# Every scenario `wsdash serve` knows: the simple ones and each parametric one with fast arguments.
SCENARIOS = [*SIMPLE, *(f"missing:{e}" for e in EVENTS), "slow-first:0.05", "close:1011", "close:1000", "close:1008",
             "close:4401", "burst:50"]
# One budget tightened per envelope, so each is seen to travel in the recording.
BUDGETS = {
    "nested": Budgets(),
    "flat": Budgets(first_event_s=0.001),
    "wrapped": Budgets(gap_s=0.001),
    "payload": Budgets(run_s=0.001),
    "demo": Budgets(connect_s=0.000001),
}


def comparable(result) -> dict:
    """The JSON a command prints, without the wall-clock fields."""
    from wsdash.core.redact import scrub_obj

    data = json.loads(json.dumps(scrub_obj(result.to_json())))
    for name in WALL_CLOCK:
        data.pop(name, None)
    return data


async def live_and_replay(url: str, path: Path, budgets: Budgets, token: str | None) -> tuple[dict, dict, int, int]:
    never_completes = any(f"scenario={name}&" in url for name in ("stall", "unfinished", "missing:agent_completed"))
    timeout = 0.5 if never_completes else 10.0  # judge their timeout quickly
    opts = SessionOptions(url=url, token=token, timeout_s=timeout, grace_s=0.05, established_wait_s=0.05,
                          first_frame_wait_s=2.0, budgets=budgets)
    with Recorder(path) as rec:
        live = await run_golden_path(opts, listener=rec)
    replayed = replay(path)
    return comparable(live), comparable(replayed), live.exit_code, replayed.exit_code


@pytest.mark.parametrize("envelope", ENVELOPES)
async def test_every_scenario_replays_to_the_live_json(server, tmp_path: Path, envelope: str) -> None:
    token = mint_token(SECRET)
    base = server.url.replace("/ws", "/api/demo/ws") if envelope == "demo" else server.url  # the demo socket speaks demo
    handshake = "&handshake=1" if envelope == "wrapped" else ""
    runs = [live_and_replay(f"{base}?scenario={s}&envelope={envelope}&pace=0.01{handshake}", tmp_path / f"{i}.jsonl",
                            BUDGETS[envelope], token) for i, s in enumerate(SCENARIOS)]
    results = await asyncio.gather(*runs)  # concurrently: one server, one file each
    for scenario, (live, replayed, live_code, replay_code) in zip(SCENARIOS, results):
        assert replayed == live, f"{scenario} in {envelope}"
        assert replay_code == live_code, f"{scenario} in {envelope}"
    codes = {v["code"] for live, *_ in results for v in live["violations"]}
    tightened = {"flat": "first_event_late", "wrapped": "gap_too_long", "payload": "run_too_long", "demo": "connect_slow"}
    if envelope in tightened:
        assert tightened[envelope] in codes  # the budget really bit live, and the replay agreed


async def test_a_wrong_token_and_a_refused_connect_replay_the_same(server, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        refused = f"ws://127.0.0.1:{s.getsockname()[1]}/ws"
    cases = {"wrong-token": (server.url, mint_token("another-secret-for-wsdash-tests-0123456789")),
             "no-token": (server.url, None), "refused": (refused, None)}
    for name, (url, token) in cases.items():
        live, replayed, live_code, replay_code = await live_and_replay(url, tmp_path / f"{name}.jsonl", Budgets(), token)
        assert replayed == live and replay_code == live_code == 3, name
    assert live["timings"]["phases"] and "dns_ms" in live["timings"]["phases"]  # the failed connect's phases, replayed


# ---- the real commands ----------------------------------------------------------------------

def test_a_budget_that_failed_live_fails_the_replay(server_thread, cli, tmp_path: Path) -> None:
    rec = tmp_path / "late.jsonl"
    live = cli("golden-path", "--url", server_thread.url + "?pace=0.02", "--secret", SECRET, "--json", "--record", str(rec),
               "--first-event-budget", "0.001")
    replayed = cli("replay", str(rec), "--headless", "--json")
    assert live.returncode == replayed.returncode == 1
    assert [v["code"] for v in json.loads(live.stdout)["violations"]] == ["first_event_late"]
    assert json.loads(replayed.stdout) == json.loads(live.stdout) and replayed.stderr == ""
    # a flag overrides the recorded budget, and says so
    relaxed = cli("replay", str(rec), "--headless", "--json", "--first-event-budget", "10")
    assert relaxed.returncode == 0 and json.loads(relaxed.stdout)["violations"] == []
    assert "--first-event-budget 10 instead of the recorded 0.001 s" in relaxed.stderr


def test_a_failed_connect_keeps_its_phases_in_the_replay(cli, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rec = tmp_path / "refused.jsonl"
    live = cli("golden-path", "--url", f"ws://127.0.0.1:{port}/ws", "--json", "--record", str(rec))
    replayed = cli("replay", str(rec), "--headless", "--json")
    assert live.returncode == replayed.returncode == 3
    assert json.loads(replayed.stdout) == json.loads(live.stdout)
    assert "dns_ms" in json.loads(replayed.stdout)["timings"]["phases"]


def test_an_older_recording_without_budgets_is_judged_with_the_defaults_and_says_so(cli, tmp_path: Path) -> None:
    from tests.ui.helpers import write_recording

    rec = write_recording(tmp_path / "old.jsonl")  # as wsdash 0.1.0 wrote them: no budgets
    out = cli("replay", str(rec), "--headless", "--json")
    assert out.returncode == 0 and "does not say which budgets" in out.stderr and "defaults" in out.stderr


def test_replay_into_a_file_is_headless_and_ends(server_thread, tmp_path: Path) -> None:
    """`wsdash replay FILE > out`: no terminal to draw on, so the verdict, not a dashboard waiting for keys."""
    import subprocess

    rec = tmp_path / "run.jsonl"
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("WSDASH_CONFIG", None)
    subprocess.run([sys.executable, "-m", "wsdash", "golden-path", "--url", server_thread.url, "--secret", SECRET, "--record", str(rec)],
                   env=env, capture_output=True, timeout=60, check=True)
    out_file = tmp_path / "out.txt"
    with open(out_file, "w", encoding="utf-8") as out:
        proc = subprocess.run([sys.executable, "-m", "wsdash", "replay", str(rec)], stdout=out, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, env=env, timeout=30, text=True)
    text = out_file.read_text(encoding="utf-8")
    assert proc.returncode == 0 and "PASSED" in text and "\x1b[" not in text, proc.stderr


@pytest.mark.parametrize("make, says", [
    (lambda p: p.write_bytes(os.urandom(2048)), "not a wsdash recording"),
    (lambda p: p.mkdir(), "is a directory, not a recording"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_text('{"k":"format","format":"wsdash-recording/2"}\n{"k":"start","t":1}\n'),
     "written by a newer wsdash (format 2); this one reads format 1"),
], ids=["random-bytes", "directory", "empty", "newer-format"])
@pytest.mark.parametrize("mode", [["--headless", "--json"], []], ids=["json", "piped"])
def test_replay_of_what_is_not_a_recording_names_it_and_exits_2(cli, tmp_path: Path, make, says: str, mode: list[str]) -> None:
    path = tmp_path / "thing.jsonl"
    make(path)
    out = cli("replay", str(path), *mode)
    assert out.returncode == 2 and says in out.stderr and str(path) in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_demo_headless_records_when_asked(cli, tmp_path: Path) -> None:
    rec = tmp_path / "demo.jsonl"
    live = cli("demo", "--headless", "--pace", "0", "--record", str(rec))
    assert live.returncode == 0 and f"recorded to {rec}" in live.stdout, live.stderr
    replayed = cli("replay", str(rec), "--headless")
    assert replayed.returncode == 0 and "PASSED" in replayed.stdout
