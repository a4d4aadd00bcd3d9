"""The history as a user meets it: golden-path and tiers write to it (unless told not to),
`wsdash history` answers from it, `wsdash diff` compares recordings and history runs."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET, sigterm_mid_run
from wsdash.core.history import History


def gp(cli, server, scenario: str = "golden", *extra: str, env: dict[str, str] | None = None):
    return cli("golden-path", "--url", f"{server.url}?scenario={scenario}", "--secret", SECRET, "--grace", "0", *extra, env=env)


def local(cli, server, scenario: str = "golden", *extra: str):
    """A run of the configured target `local`, pointed at the test server (each scenario is a
    URL of its own; the history keeps them all under `local`)."""
    return cli("golden-path", "--secret", SECRET, "--grace", "0", *extra, env={"WSDASH_LOCAL_WS_URL": f"{server.url}?scenario={scenario}"})


def runs(path: Path) -> list:
    if not path.exists():
        return []
    with History(path) as db:
        return db.runs()


def test_golden_path_writes_each_run_and_history_summarises_them(cli, server_thread, private_history: Path) -> None:
    for scenario in ("golden", "golden", "missing:agent_thinking", "golden"):
        local(cli, server_thread, scenario)
    kept = runs(private_history)
    assert [r.verdict for r in kept] == ["passed", "failed", "passed", "passed"]  # newest first
    assert {r.source for r in kept} == {"golden-path"}
    out = cli("history")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "missing[agent_thinking]" in text and "FAILED" in text
    assert "local  4 runs since today" in text and "75.0% passed" in text
    assert "longest failing streak: 1 run" in text
    assert "last change: passing since today" in text and "after 1 failing run" in text
    assert f"history: {private_history}" in text


def test_history_json_csv_and_filters(cli, server_thread, private_history: Path) -> None:
    gp(cli, server_thread, "golden")
    gp(cli, server_thread, "reorder")
    out = cli("history", "--json").stdout
    data = json.loads(out)
    assert sum(line.startswith('    {"started_at": ') for line in out.splitlines()) == 2  # streamed, a run a line
    assert len(data["runs"]) == 2 and len(data["summaries"]) == 2  # two URLs: two targets
    assert data["runs"][0]["violations"][0]["code"] == "out_of_order"
    assert data["runs"][1]["checkpoints"]["agent_completed"] > 0
    target = data["runs"][1]["target"]
    one = json.loads(cli("history", "--json", "--target", target).stdout)
    assert [r["verdict"] for r in one["runs"]] == ["passed"] and one["summaries"][0]["pass_rate"] == 1.0
    table = list(csv.reader(io.StringIO(cli("history", "--csv").stdout)))
    assert table[0][:5] == ["id", "started_at", "target", "source", "verdict"] and len(table) == 3
    assert json.loads(cli("history", "--json", "--since", "2099-01-01").stdout)["runs"] == []
    bad = cli("history", "--since", "yesterday")
    assert bad.returncode == 2 and "expected an age like 90m, 24h, 30d" in bad.stderr
    # Numbers past SQLite's 64-bit INTEGER: a limit that large is all; a run id that large is no run.
    huge = "9" * 30
    every = cli("history", "--json", "--limit", huge)
    assert every.returncode == 0 and len(json.loads(every.stdout)["runs"]) == 2, every.stderr
    none = cli("diff", huge, "1")
    assert none.returncode == 2 and f"no run #{huge}" in none.stderr and "Traceback" not in none.stderr, none.stderr


@pytest.mark.parametrize("where", ["before", "after", "config"])
def test_no_history_before_or_after_the_command_and_enabled_false(cli, server_thread, private_history: Path, tmp_path: Path, where: str) -> None:
    if where == "before":
        out = cli("--no-history", "golden-path", "--url", server_thread.url, "--secret", SECRET)
    elif where == "after":
        out = gp(cli, server_thread, "golden", "--no-history")
    else:
        cfg = tmp_path / "wsdash.toml"
        cfg.write_text("[history]\nenabled = false\n", encoding="utf-8")
        out = gp(cli, server_thread, "golden", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    assert runs(private_history) == []


def test_an_unwritable_history_warns_and_keeps_the_exit_code(cli, server_thread, tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db.sqlite3"
    bad.write_bytes(b"garbage" * 500)
    out = gp(cli, server_thread, "golden", "--json")
    assert out.returncode == 0
    out = cli("golden-path", "--url", server_thread.url, "--secret", SECRET, "--json", env={"WSDASH_HISTORY_PATH": str(bad)})
    assert out.returncode == 0 and json.loads(out.stdout)["ok"] is True
    assert "warning: cannot open the run history" in out.stderr and "file is not a database" in out.stderr
    folder = cli("history", env={"WSDASH_HISTORY_PATH": str(tmp_path)})  # SQLite said only "unable to open database file"
    assert folder.returncode == 2 and "it is a folder" in folder.stderr and str(tmp_path / "history.sqlite3") in folder.stderr


def test_tier_runs_are_kept(cli, tmp_path: Path, private_history: Path) -> None:
    cfg = tmp_path / "wsdash.toml"
    cfg.write_text(
        f'[[tiers]]\nname = "ok"\ncommand = ["{sys.executable}", "-c", "pass"]\n'
        f'[[tiers]]\nname = "broken"\ncommand = ["{sys.executable}", "-c", "raise SystemExit(3)"]\n', encoding="utf-8")
    out = cli("tiers", "run", "--config", str(cfg))
    assert out.returncode == 1, out.stdout + out.stderr
    with History(private_history) as db:
        tiers = db.tier_runs()
    assert [(t.tier, t.status, t.source) for t in tiers] == [("broken", "failed", "tiers"), ("ok", "passed", "tiers")]
    assert tiers[1].started_at <= tiers[0].started_at
    shown = cli("history", "--tiers", "--config", str(cfg)).stdout
    assert "broken" in shown and "failed" in shown
    # A tier name not in the history says which are; --target (golden-path runs only) is refused, not ignored.
    assert "no runs of tier 'unit' in this window (tiers in the history: broken, ok)" in cli("history", "--tiers", "unit", "--config", str(cfg)).stdout
    refused = cli("history", "--tiers", "ok", "--target", "staging", "--config", str(cfg))
    assert refused.returncode == 2 and "tier runs are kept by tier" in refused.stderr
    cli("--no-history", "tiers", "run", "--config", str(cfg))
    cli("tiers", "run", "ok", "--no-history", "--config", str(cfg))
    with History(private_history) as db:
        assert len(db.tier_runs()) == 2


def test_diff_two_recordings_and_last_good_against_last(cli, server_thread, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    local(cli, server_thread, "golden", "--record", str(good))
    local(cli, server_thread, "missing:tool_completed", "--record", str(bad))
    out = cli("diff", str(good), str(bad))
    assert out.returncode == 1, out.stderr
    assert "verdict: passed → FAILED" in out.stdout
    assert "events only in A: tool_completed" in out.stdout
    assert "missing [tool_completed]" in out.stdout
    same = cli("diff", str(good), os.path.join(str(tmp_path), ".", "good.jsonl"))  # one recording, two names
    assert same.returncode == 0 and "are the same run, one recording (passed): nothing to compare." in same.stdout, same.stdout
    assert json.loads(cli("diff", str(good), str(good), "--json").stdout)["same_run"] is True
    # the same two runs from the history: the recording, the target and ids come along
    hist = cli("diff", "last-good", "last", "--json")
    data = json.loads(hist.stdout)
    assert hist.returncode == 1 and data["verdict"] == {"a": "passed", "b": "failed", "changed": True}
    assert data["only_in_a"] == {"tool_completed": 1}
    assert data["b"]["recording"] == str(bad)
    by_id = json.loads(cli("diff", f"#{data['a']['id']}", str(data["b"]["id"]), "--json").stdout)
    assert by_id["checkpoints"] == data["checkpoints"]
    assert data["same_run"] is False
    # after a passing run, last-good and last are one run: said, not diffed as "only timings differ"
    local(cli, server_thread, "golden")
    again = cli("diff", "last-good", "last")
    assert again.returncode == 0 and "are the same run" in again.stdout and "only timings differ" not in again.stdout
    assert json.loads(cli("diff", "last-good", "last", "--json").stdout)["same_run"] is True


def test_diff_says_what_it_cannot_find(cli, server_thread, tmp_path: Path) -> None:
    # a file name that is not there, or a folder: said as such ("is not a recording file, a run id …")
    assert "gone.jsonl does not exist" in cli("diff", "gone.jsonl", "gone.jsonl", cwd=tmp_path).stderr
    assert f"{tmp_path} is a folder, not a recording" in cli("diff", str(tmp_path), str(tmp_path)).stderr
    (tmp_path / "1").write_text("not a recording", encoding="utf-8")  # `1` is run #1, not this file (./1 is)
    assert "does not exist yet" in cli("diff", "1", "1", cwd=tmp_path).stderr
    empty = cli("diff", "last-good", "last")
    assert empty.returncode == 2 and "does not exist yet" in empty.stderr
    gp(cli, server_thread, "missing:agent_thinking")
    none_good = cli("diff", "last-good", "last")
    assert none_good.returncode == 2 and "no passing run of" in none_good.stderr
    assert cli("diff", "99", "last").returncode == 2
    odd = cli("diff", "yesterday", "last")
    assert odd.returncode == 2 and "is not a recording file, a run id" in odd.stderr


@pytest.mark.skipif(os.name != "posix", reason="signals to a child process")
def test_demo_headless_keeps_its_runs_and_judges_one_cut_short(cli, private_history: Path, tmp_path: Path) -> None:
    """`demo --headless` wrote nothing to the history, and a SIGTERM printed only "interrupted"."""
    done = cli("demo", "--headless", "--pace", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "runs"
    folder.mkdir()
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("WSDASH_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "wsdash", "demo", "--headless", "--scenario", "stall", "--pace", "0.05",
                             "--record", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8", env=env, cwd=tmp_path)
    out, err = sigterm_mid_run(proc, folder)
    assert proc.returncode == 130 and "INTERRUPTED" in out and "agent_completed" in out, (out, err)
    with History(private_history) as db:
        runs = db.runs("demo")
    assert [r.source for r in runs] == ["demo", "demo"] and runs[0].verdict != runs[1].verdict, runs


def test_a_url_with_a_password_and_a_token_finds_its_runs_and_is_never_printed(cli, server_thread, private_history: Path) -> None:
    """`history --target`, `diff --target` and `tiers run --target` given the URL a run went to,
    password and ?token= included: it was printed in full ("no runs for ws://bob:Pw@…"), and never
    matched the run, which the history keeps under the masked URL."""
    url = server_thread.url.replace("ws://", "ws://bob:Sup3rSecretPw@") + "?token=ABCDEFSECRET999"
    assert cli("golden-path", "--url", url, "--secret", SECRET, "--grace", "0").returncode == 0
    shown = cli("history", "--target", url, "--json")
    assert shown.returncode == 0 and len(json.loads(shown.stdout)["runs"]) == 1, shown.stdout
    same = cli("diff", "last-good", "last", "--target", url)
    assert same.returncode == 0 and "same run" in same.stdout, same.stdout + same.stderr
    elsewhere = url.replace("127.0.0.1", "127.0.0.2")
    for out in (cli("history", "--target", elsewhere), cli("tiers", "run", "--target", elsewhere), shown, same):
        assert "Sup3rSecretPw" not in out.stdout + out.stderr and "ABCDEFSECRET999" not in out.stdout + out.stderr


def test_a_damaged_row_is_named_left_out_of_listings_and_an_error_when_asked_for(cli, server_thread, private_history: Path) -> None:
    """Another tool edited two rows. `diff 1 2` was a traceback ('NoneType' object is not
    iterable), `history` said only "Expecting value: line 1 column 1" and `history --json` broke
    off mid-document."""
    import sqlite3

    for _ in range(3):
        assert gp(cli, server_thread).returncode == 0
    db = sqlite3.connect(private_history)
    db.execute("UPDATE runs SET violations = 'null' WHERE id = 2")
    db.execute("UPDATE runs SET checkpoints = 'not json' WHERE id = 3")
    db.commit()
    db.close()
    listed = cli("history", "--json")
    assert listed.returncode == 0 and [r["id"] for r in json.loads(listed.stdout)["runs"]] == [1], listed.stdout
    assert f"wsdash: note: {private_history}: run 2 is damaged: its violations is not a JSON array" in listed.stderr
    assert "run 3 is damaged: its checkpoints is not a JSON object" in listed.stderr and "Traceback" not in listed.stderr
    asked = cli("diff", "1", "2")
    assert asked.returncode == 2 and "Traceback" not in asked.stderr, asked.stderr
    assert f"{private_history}: run 2 is damaged: its violations is not a JSON array as wsdash writes it; delete that row" in asked.stderr


def test_a_runs_recording_is_kept_by_its_full_path(cli, server_thread, private_history: Path, tmp_path: Path) -> None:
    """`--record run.jsonl` was kept as "run.jsonl": from any other folder, history pointed nowhere."""
    out = cli("golden-path", "--url", server_thread.url, "--secret", SECRET, "--grace", "0", "--record", "run.jsonl", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [r.recording for r in runs(private_history)] == [str(tmp_path / "run.jsonl")]
