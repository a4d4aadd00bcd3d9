"""The history's arithmetic (percentiles, failing streaks, the last change), `wsdash diff`'s
comparison of two recordings, and the [history]/[watch] configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ui.helpers import GOLDEN_FRAMES, write_recording
from wsdash.core.config import ConfigError, describe, load_config
from wsdash.core.recording import replay
from wsdash.core.run_diff import diff_runs
from wsdash.core.run_record import RunRecord
from wsdash.core.run_stats import summarize


def rows(verdicts: str, start: float = 1000.0) -> list[tuple]:
    """'ppffp' → timings rows one minute apart; first = 10·i ms, total = 100·i ms."""
    out = []
    for i, v in enumerate(verdicts):
        verdict = {"p": "passed", "f": "failed", "n": "no_run"}[v]
        out.append((start + 60 * i, "local", verdict, int(v == "p"), None if v == "n" else 10.0 * (i + 1), 100.0 * (i + 1)))
    return out


def test_summary_counts_rates_and_percentiles() -> None:
    s = summarize(rows("p" * 100))
    assert (s.runs, s.passed, s.pass_rate) == (100, 100, 1.0)
    assert (s.first_event_ms.p50, s.first_event_ms.p95, s.first_event_ms.p99) == (510.0, 950.0, 990.0)  # nearest rank
    assert s.longest_failing.runs == 0 and s.last_change is None


def test_longest_failing_streak_and_last_change() -> None:
    s = summarize(rows("ppfffpfnnnnpp"))
    assert s.longest_failing.runs == 5  # f n n n n: a run that could not run is failing too
    assert s.longest_failing.first_at == 1000 + 60 * 6 and s.longest_failing.last_at == 1000 + 60 * 10
    assert not s.longest_failing.ongoing
    assert s.last_change is not None and s.last_change.now == "passing" and s.last_change.after == 5
    assert s.last_change.at == 1000 + 60 * 11
    # only completed runs count for the total; runs without a first event are left out of its percentiles
    assert s.total_ms.n == 5 and s.first_event_ms.n == 9


def test_a_streak_still_going_says_so() -> None:
    s = summarize(rows("pppff"))
    assert s.longest_failing.runs == 2 and s.longest_failing.ongoing
    assert s.last_change is not None and s.last_change.now == "failing" and s.last_change.after == 3


def _record(path: Path) -> RunRecord:
    return RunRecord.from_result(replay(path), target=None, source="recording", started_at=0.0)


def test_diff_of_two_recordings_names_what_changed(tmp_path: Path) -> None:
    good = write_recording(tmp_path / "good.jsonl")
    frames = [f for f in GOLDEN_FRAMES if f[1]["type"] != "agent_thinking"]
    frames = [(frames[0][0], frames[1][1]), (frames[1][0], frames[0][1]), *frames[2:]]  # tool_executing before agent_started
    frames = [(0.8 + off, f) if f["type"] == "agent_completed" else (off, f) for off, f in frames]  # 0.8 s slower at the end
    frames.insert(2, (0.7, {"type": "error", "data": {"message": "tool crashed"}}))
    bad = write_recording(tmp_path / "bad.jsonl", frames)
    d = diff_runs(_record(good), _record(bad))
    assert d.verdict_changed and (d.a.verdict, d.b.verdict) == ("passed", "failed")
    assert d.only_in_a == {"agent_thinking": 2}
    assert d.only_in_b == {"error": 1}
    assert d.order_changed and d.order.at == 1  # connection_established, then they part
    assert d.order.a_around[0] == "agent_started" and d.order.b_around[0] == "tool_executing"
    codes = {c for c, _, _ in d.violations_new}
    assert {"missing", "out_of_order", "error_frame"} <= codes and d.violations_gone == []
    a, b, delta = d.checkpoints["agent_completed"]
    assert delta == pytest.approx(800.0, abs=1) and a == pytest.approx(1655.0, abs=1)
    assert d.frames["received"] == (7, 6)
    assert not d.same
    json.dumps(d.to_json())  # serialisable as it is


def test_diff_of_a_run_with_itself_is_the_same(tmp_path: Path) -> None:
    rec = _record(write_recording(tmp_path / "a.jsonl"))
    d = diff_runs(rec, rec)
    assert d.same and not d.order_changed and all(x[2] == 0 for x in d.checkpoints.values())


def test_history_and_watch_settings_with_provenance(tmp_path: Path) -> None:
    cfg_file = tmp_path / "wsdash.toml"
    cfg_file.write_text('[history]\nkeep_days = 7\nmax_runs = 500\npath = "~/runs.sqlite3"\n[watch]\nevery_s = 15\n', encoding="utf-8")
    cfg = load_config(cfg_file, env={"WSDASH_HISTORY_ENABLED": "false"})
    assert (cfg.history.keep_days, cfg.history.max_runs, cfg.history.enabled) == (7.0, 500, False)
    assert cfg.history.path == str(Path.home() / "runs.sqlite3")
    assert cfg.watch.every_s == 15.0
    rows = {k: (v, s) for k, v, s in describe(cfg)}
    assert rows["history.enabled"] == (False, "env WSDASH_HISTORY_ENABLED")
    assert rows["history.keep_days"][1] == str(cfg_file) and rows["watch.every_s"] == (15.0, str(cfg_file))
    assert load_config(env={}, cwd=tmp_path / "nowhere").history.keep_days == 30.0


@pytest.mark.parametrize("text, message", [
    ("[history]\nkeep_days = 0\n", "history.keep_days: expected a number > 0, got 0"),
    ("[history]\nmax_runs = 2.5\n", "history.max_runs: expected a whole number ≥ 0, got 2.5"),
    ("[history]\nkeep = 3\n", "unknown key 'keep' in [history]; known: enabled, keep_days, max_runs, path"),
    ("[watch]\nevery_s = -1\n", "watch.every_s: expected a number > 0, got -1"),
    ("history = 3\n", "[history] must be a table"),
])
def test_bad_history_settings_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    cfg_file = tmp_path / "wsdash.toml"
    cfg_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(cfg_file, env={})
    assert message in str(info.value) and str(cfg_file) in str(info.value)
