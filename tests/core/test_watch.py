"""`wsdash watch` against the embedded server: lines, JSON Lines, alerts and the bell when the
server goes away and comes back, Ctrl+C's summary, exit codes, the schedule, and the metrics as
Prometheus itself reads them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SECRET, sigterm_mid_run
from wsdash.core.history import History
from wsdash.services.agent_server import ServerThread
from wsdash.services.watch.schedule import run_schedule

REPO = Path(__file__).resolve().parents[2]


def watch(cli, url: str, *extra: str, env: dict[str, str] | None = None):
    return cli("watch", "--url", url, "--secret", SECRET, "--every", "0.2", "--grace", "0", *extra, env=env, timeout=120)


def test_json_lines_one_per_run_and_a_summary(cli, server_thread, private_history: Path) -> None:
    out = watch(cli, server_thread.url, "--runs", "3", "--json")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [x["type"] for x in lines] == ["start", "run", "run", "run", "summary"]
    runs = lines[1:4]
    assert all(r["verdict"] == "passed" and r["target_up"] is True and r["first_event_ms"] > 0 for r in runs)
    assert lines[-1]["runs"] == 3 and lines[-1]["pass_rate"] == 1.0 and lines[-1]["exit_code"] == 0
    with History(private_history) as db:
        kept = db.runs()
    assert [r.source for r in kept] == ["watch"] * 3 and sorted(r.id for r in kept) == sorted(x["history_id"] for x in runs)


def test_until_fail_stops_at_the_first_failure_with_exit_1(cli, server_thread) -> None:
    out = watch(cli, f"{server_thread.url}?scenario=missing:agent_completed", "--until-fail", "--timeout", "2")
    assert out.returncode == 1, out.stderr
    assert len(re.findall(r"^\d\d:\d\d:\d\d  FAILED", out.stdout, re.M)) == 1 and "missing[agent_completed]" in out.stdout
    assert "done: 1 run" in out.stdout


def test_nothing_to_connect_to_is_exit_3(cli) -> None:
    out = watch(cli, "ws://127.0.0.1:9/ws", "--runs", "2")
    assert out.returncode == 3
    assert len(re.findall(r"^\d\d:\d\d:\d\d  NO RUN", out.stdout, re.M)) == 2 and "no service is listening on 127.0.0.1:9" in out.stdout


def _lines_until(proc: subprocess.Popen, needle: str, seen: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} never came; saw:\n{''.join(seen)}")


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process group")
def test_the_server_goes_away_and_comes_back_alert_bell_and_summary(private_history: Path) -> None:
    with ServerThread(secret=SECRET, pace=0.0) as first:  # leaving the block stops it
        port = first.port
        env = {**os.environ, "NO_COLOR": "1"}
        env.pop("WSDASH_CONFIG", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "wsdash", "watch", "--url", f"ws://127.0.0.1:{port}/ws", "--secret", SECRET, "--every", "0.3", "--grace", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, encoding="utf-8")
        seen: list[str] = []
        try:
            _lines_until(proc, "PASSED", seen)
            _lines_until(proc, "PASSED", seen)
        except BaseException:
            proc.kill()
            raise
    try:
        _lines_until(proc, "ALERT", seen)
        assert "is FAILING — it had been passing for" in seen[-1] and seen[-1].rstrip("\n").endswith("\a")
        assert any("NO RUN" in line and f"127.0.0.1:{port}" in line for line in seen)
        with ServerThread(secret=SECRET, pace=0.0, port=port):
            _lines_until(proc, "RECOVERED", seen)
            assert "is passing again — it had been failing for" in seen[-1] and "\a" in seen[-1]
            proc.send_signal(signal.SIGINT)
            rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err  # the last run passed
    assert "stopped:" in rest and "longest failing streak" in rest and "last run: PASSED" in rest
    assert "Traceback" not in err


async def test_the_schedule_never_overlaps_and_a_long_run_delays_the_next() -> None:
    spans: list[tuple[float, float]] = []
    loop = asyncio.get_running_loop()

    async def job(slot):
        start = loop.time()
        await asyncio.sleep(0.35 if slot.number == 2 else 0.02)  # the second overruns the 0.1 s interval
        spans.append((start, loop.time()))
        return slot

    slots = []
    await run_schedule(job, 0.1, runs=5, on_result=lambda slot, _: slots.append(slot), clock=loop.time)
    assert len(spans) == 5
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end - 1e-3  # one at a time
    assert slots[2].late_s > 0.15  # the third waited for the long second one…
    assert spans[2][0] - spans[1][1] < 0.08  # …and started as soon as it ended, not a slot later
    assert spans[3][0] - spans[2][0] >= 0.09  # then the interval again: nothing stacked up to catch up


def _scrape(port: int, accept: str) -> str:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read().decode("utf-8")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_over_http_and_textfile_parse_with_prometheus_own_parsers(server_thread, tmp_path: Path) -> None:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
    from prometheus_client.parser import text_string_to_metric_families as parse_text

    port = _free_port()
    prom = tmp_path / "wsdash.prom"
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("WSDASH_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "wsdash", "watch", "--url", server_thread.url, "--secret", SECRET, "--every", "0.3", "--grace", "0",
         "--json", "--metrics-port", str(port), "--metrics-file", str(prom)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, encoding="utf-8")
    try:
        seen: list[str] = []
        _lines_until(proc, '"type": "run"', seen)
        _lines_until(proc, '"type": "run"', seen)
        families = {f.name: f for f in parse_openmetrics(_scrape(port, "application/openmetrics-text; version=1.0.0"))}
        classic = {f.name: f for f in parse_text(_scrape(port, "text/plain"))}
        from_file = {f.name: f for f in parse_text(prom.read_text(encoding="utf-8"))}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    for fams in (families, classic, from_file):
        target = server_thread.url
        up = [s for s in fams["wsdash_golden_path_up"].samples if s.labels == {"target": target}]
        assert up and up[0].value == 1.0
        assert fams["wsdash_golden_path_first_event_seconds"].type == "histogram"
        count = [s.value for s in fams["wsdash_golden_path_first_event_seconds"].samples if s.name.endswith("_count")]
        assert count and count[0] >= 2
        assert fams["wsdash_golden_path_total_seconds"].type == "histogram"
        assert [s.value for s in fams["wsdash_target_up"].samples] == [1.0]
        runs = {s.labels["verdict"]: s.value for s in fams["wsdash_golden_path_runs"].samples if s.name.endswith("_total")}
        assert runs["passed"] >= 2
    assert not list(tmp_path.glob("wsdash.prom.*"))  # the temporary file was renamed over, not left behind


def test_tier_pass_ratio_comes_from_the_history(cli, server_thread, tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families as parse_text

    cfg = tmp_path / "wsdash.toml"
    cfg.write_text(f'[[tiers]]\nname = "unit"\ncommand = ["{sys.executable}", "-c", "pass"]\n', encoding="utf-8")
    assert cli("tiers", "run", "--config", str(cfg)).returncode == 0
    prom = tmp_path / "m.prom"
    out = watch(cli, server_thread.url, "--runs", "1", "--metrics-file", str(prom), "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    fams = {f.name: f for f in parse_text(prom.read_text(encoding="utf-8"))}
    assert [(s.labels, s.value) for s in fams["wsdash_tier_passed"].samples] == [({"tier": "unit"}, 1.0)]


def test_metrics_without_prometheus_client_say_what_to_install(server_thread) -> None:
    code = ("import sys; sys.modules['prometheus_client'] = None\n"  # as if it were not installed
            "from wsdash.cli import main\n"
            f"raise SystemExit(main(['watch', '--url', {server_thread.url!r}, '--runs', '1', '--metrics-port', '9']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 2
    assert "--metrics-port: metrics need prometheus_client, which is not installed: pip install 'wsdash[metrics]'" in out.stderr
    assert out.stdout == ""  # no run happened


def test_a_taken_metrics_port_is_a_usage_error(cli, server_thread) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        out = watch(cli, server_thread.url, "--runs", "1", "--metrics-port", str(s.getsockname()[1]))
    assert out.returncode == 2 and "cannot serve metrics on 127.0.0.1" in out.stderr


@pytest.mark.skipif(os.name != "posix", reason="signals to a child process")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_end_it_with_the_summary_as_ctrl_c_does(server_thread, private_history: Path, sig: str) -> None:
    """A CI job's timeout (SIGTERM) or a closed terminal (SIGHUP): the summary of the runs so far,
    the last run's exit code — not a silent death."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("WSDASH_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "wsdash", "watch", "--url", server_thread.url, "--secret", SECRET, "--every", "0.3", "--grace", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, encoding="utf-8")
    seen: list[str] = []
    try:
        _lines_until(proc, "PASSED", seen)
        proc.send_signal(getattr(signal, sig))
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err  # the last run passed
    assert "stopped:" in rest and "last run: PASSED" in rest and "Traceback" not in err


@pytest.mark.skipif(os.name != "posix", reason="signals to a child process")
def test_a_run_cut_short_by_sigterm_is_printed_counted_and_kept(server_thread, private_history: Path, tmp_path: Path) -> None:
    """SIGTERM mid-run (a CI job's timeout during a stalled run, the case worth knowing about): the
    run is judged on what arrived, as golden-path does. It used to vanish: "runs": 0, no run line,
    nothing in the history."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("WSDASH_CONFIG", None)
    folder = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wsdash", "watch", "--url", f"{server_thread.url}?scenario=stall", "--secret", SECRET,
         "--timeout", "60", "--json", "--record", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, encoding="utf-8")
    out, err = sigterm_mid_run(proc, folder)
    lines = [json.loads(line) for line in out.splitlines()]
    runs = [x for x in lines if x["type"] == "run"]
    summary = lines[-1]
    assert proc.returncode == 130 and len(runs) == 1 and "missing" in runs[0]["violations"], (out, err)
    assert summary["type"] == "summary" and summary["interrupted"] and summary["runs"] == 1, out
    with History(private_history) as db:
        assert [r.source for r in db.runs(None)] == ["watch"]


@pytest.mark.parametrize(("where", "says"), [
    (".", "--metrics-file . is a folder: give a file name, e.g. {sep}".format(sep=os.path.join(".", "wsdash.prom"))),
    (os.path.join("gone", "m.prom"), "its folder {root} does not exist"),
    ("", "--metrics-file needs a file name"),
])
def test_a_metrics_file_that_could_not_be_written_is_refused_before_the_first_run(
        where: str, says: str, cli, server_thread, tmp_path: Path) -> None:
    """A folder given as --metrics-file ran every run and warned at each write; now it is exit 2 at once."""
    out = cli("watch", "--url", server_thread.url, "--secret", SECRET, "--runs", "1", "--metrics-file", where, cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert says.replace("{root}", str(tmp_path / "gone")) in out.stderr and out.stdout == ""


def test_a_refused_metrics_file_leaves_no_record_folder_behind(cli, server_thread, tmp_path: Path) -> None:
    """--record's folder was made before --metrics-file was refused (review)."""
    out = cli("watch", "--url", server_thread.url, "--secret", SECRET, "--runs", "1", "--record", "runs", "--metrics-file", "",
              cwd=tmp_path)
    assert out.returncode == 2 and "--metrics-file needs a file name" in out.stderr, out.stderr
    assert not (tmp_path / "runs").exists()
