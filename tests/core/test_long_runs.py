"""Long runs: the judge sees every frame, the result lists a bounded selection (core/run_rows.py)
and says what it left out; `--all-events` lists every one; the embedded server's burst reaches
clients with and without compression intact."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.conftest import SECRET
from wsdash.core.judged_run import Run
from wsdash.core.run_rows import KEEP_OTHERS, MAX_MILESTONES

BURST = 5000
FRAMES = BURST + 5  # connection_established, agent_started, the burst, the tool pair, agent_completed
MILESTONES = ["agent_started", "tool_executing", "tool_completed", "agent_completed"]


def golden_path_json(cli, url: str, *flags: str) -> dict:
    out = cli("golden-path", "--url", url, "--secret", SECRET, "--json", "--timeout", "120", *flags, timeout=180)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return json.loads(out.stdout)


def test_a_long_run_lists_milestones_and_both_ends_and_counts_the_rest(server_thread, cli) -> None:
    data = golden_path_json(cli, server_thread.url + f"?scenario=burst:{BURST}")
    assert data["ok"] is True and data["frames"]["received"] == FRAMES
    assert all(v is not None for v in data["checkpoints"].values())
    events = data["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [e["type"] for e in events if e["type"] in MILESTONES] == MILESTONES
    assert events[0]["type"] == "connection_established" and events[-1]["type"] == "agent_completed"
    # The thinking frames are seq 3 … BURST + 2: the first (its checkpoint), the next KEEP_OTHERS,
    # then a gap, then the last KEEP_OTHERS.
    thinking = [e["seq"] for e in events if e["type"] == "agent_thinking"]
    head = list(range(3, 3 + 1 + KEEP_OTHERS))
    tail = list(range(BURST + 3 - KEEP_OTHERS, BURST + 3))
    assert thinking == head + tail
    left_out = BURST - len(thinking)
    assert data["events_omitted"] == left_out == FRAMES - len(events)
    assert data["events_omitted_by_type"] == {"agent_thinking": left_out}


def test_all_events_lists_every_one_and_judges_the_same(server_thread, cli, tmp_path: Path) -> None:
    url = server_thread.url + f"?scenario=burst:{BURST}"
    bounded = golden_path_json(cli, url)
    rec = tmp_path / "run.jsonl"
    every = golden_path_json(cli, url, "--all-events", "--record", str(rec))
    assert [e["seq"] for e in every["events"]] == list(range(1, FRAMES + 1))
    assert every["events_omitted"] == 0 and every["events_omitted_by_type"] == {}
    assert [e["type"] for e in every["events"]].count("agent_thinking") == BURST
    for key in ("ok", "completed", "violations", "frames"):
        assert every[key] == bounded[key], key
    assert every["checkpoints"].keys() == bounded["checkpoints"].keys()
    # The bounded list is the complete one with rows left out, nothing changed.
    by_seq = {e["seq"]: (e["type"], e["kind"], e.get("agent_name")) for e in every["events"]}
    assert all(by_seq[e["seq"]] == (e["type"], e["kind"], e.get("agent_name")) for e in bounded["events"])
    # A replay of the recording lists the same events the live run did.
    replayed = cli("replay", str(rec), "--json", "--all-events", timeout=120)
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout) == every


def test_all_events_without_json_is_a_usage_error(cli) -> None:
    out = cli("golden-path", "--url", "ws://127.0.0.1:9/ws", "--all-events")
    assert out.returncode == 2 and "--all-events" in out.stderr and "--json" in out.stderr


def test_the_all_events_help_states_the_rule(cli) -> None:
    help_text = " ".join(cli("golden-path", "--help").stdout.split())
    assert f"last {KEEP_OTHERS} others" in help_text


def test_rows_stay_bounded_whatever_the_server_sends() -> None:
    """A server that sends nothing but new frame types, or nothing but error frames: the kept
    rows stop at their caps and the counts add up."""
    run = Run("ws://x")
    run.contract.message_sent(0.0)
    n = MAX_MILESTONES + 3 * KEEP_OTHERS + 500
    for i in range(n):
        run.received(float(i), json.dumps({"type": f"novel_{i}"}))
    for i in range(n):
        run.received(float(n + i), json.dumps({"type": "error_message", "error_code": "E", "error_message": "no"}))
    result = run.finish(2.0 * n)
    assert result.frames.received == 2 * n
    assert len(result.events) <= MAX_MILESTONES + 2 * KEEP_OTHERS
    assert len(result.events) + sum(result.events_omitted.values()) == 2 * n
    assert result.events[-1][0] == "error_message" and result.events[-1][6] == 2 * n  # the last one is kept


async def test_a_burst_reaches_a_compressing_client_intact(server) -> None:
    """The burst's pre-serialised frames go uncompressed on a connection that negotiated
    permessage-deflate (RFC 7692 allows it): every frame arrives and decodes, and the compressed
    frames after the burst still inflate."""
    from websockets.asyncio.client import connect

    from wsdash.core.auth import mint_token
    from wsdash.core.protocol import user_message

    types: list[str] = []
    async with asyncio.timeout(30), connect(server.url + "?scenario=burst:2000", subprotocols=[f"jwt-auth.{mint_token(SECRET)}"]) as ws:
        assert ws.protocol.extensions, "the client should have negotiated compression"
        await ws.recv()
        await ws.send(json.dumps(user_message("hi", None, "r")))
        while not types or types[-1] != "agent_completed":
            types.append(json.loads(await ws.recv())["type"])
    assert types.count("agent_thinking") == 2000 and len(types) == 2004
    assert types[-3:] == ["tool_executing", "tool_completed", "agent_completed"]


def test_parse_frame_decodes_exactly_as_json_loads() -> None:
    """parse_frame calls json's scanner directly (the burst's hot path): whatever it is given, it
    accepts and refuses what json.loads does, and reads the same value."""
    from wsdash.core.protocol import MALFORMED, normalise, parse_frame

    texts = [
        '{"type": "agent_thinking", "data": {"reasoning": "x"}}', ' {"type": "heartbeat"}', '{"type": "heartbeat"} ',
        '\n{"type": "pong"}\n', '\ufeff{"type": "pong"}', '{"type": "pong"} {"type": "pong"}', '{"type": "pong"}x',
        "", " ", "[1, 2, 3]", '"text"', "NaN", '{"type": "agent_thinking", "step_number": NaN}', "1e999", "{",
        '{"type": "agent_thinking", "reasoning": ', "[" * 100_000, '{"a": "\\ud800"}', "null", "true", "12",
    ]
    for text in texts:
        event = parse_frame(text, 1.0)
        try:
            expected = normalise(json.loads(text), text, 1.0)
        except (ValueError, RecursionError) as exc:
            assert event.kind == MALFORMED and event.type == MALFORMED, text[:40]
            assert event.note == f"invalid JSON: {str(exc)[:80]}", text[:40]
        else:
            assert (event.kind, event.type, repr(event.fields), event.note) == (expected.kind, expected.type, repr(expected.fields), expected.note), text[:40]


def _contract_without_the_thinking_fast_path() -> type:
    """contract.py as it would be without the burst fast path at the top of `Contract.feed`."""
    import inspect
    import sys
    import types

    import wsdash.core.contract as contract

    src = inspect.getsource(contract)
    start = src.index("        if t == AGENT_THINKING and self.completed_at is None")
    end = src.index("            return []\n", start) + len("            return []\n")
    module = types.ModuleType("contract_reference")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    try:
        exec(compile(src[:start] + src[end:], module.__name__, "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.Contract


def test_the_thinking_fast_path_judges_exactly_as_the_general_path() -> None:
    """Random runs (thinking in every state: before the start, between tools, after completion,
    with and without a gap budget) judged by the contract and by the same contract without its
    fast path: the same violations, checkpoints and timings, event by event."""
    import random

    from wsdash.core.contract import Budgets, Contract
    from wsdash.core.protocol import normalise

    Reference = _contract_without_the_thinking_fast_path()
    vocabulary = [
        {"type": "agent_started"}, {"type": "agent_thinking"}, {"type": "agent_thinking"}, {"type": "agent_thinking"},
        {"type": "tool_executing", "tool_name": "a", "execution_id": "1"}, {"type": "tool_completed", "tool_name": "a", "execution_id": "1"},
        {"type": "tool_completed", "tool_name": "b"}, {"type": "agent_completed"}, {"type": "heartbeat"},
        {"type": "error_message", "error_code": "E", "error_message": "x"}, {"type": "reasoning", "reasoning": "typo'd type"},
    ]
    rng = random.Random(11)
    for case in range(400):
        budgets = Budgets(gap_s=rng.choice([None, 0.05]), first_event_s=rng.choice([5.0, 0.01]))
        ours, reference = Contract(budgets), Reference(budgets)
        for c in (ours, reference):
            c.connected(0.1)
            c.message_sent(0.0)
        t = 0.0
        for _ in range(rng.randint(1, 40)):
            t += rng.choice([0.001, 0.2])
            event = normalise(dict(rng.choice(vocabulary)), "", t)
            assert [v.to_json() for v in ours.feed(event)] == [v.to_json() for v in reference.feed(event)], case
        a, b = ours.finish(t + 1), reference.finish(t + 1)
        assert (a.ok, a.completed, [v.to_json() for v in a.violations], a.checkpoints, a.first_event_s, a.total_s) == \
            (b.ok, b.completed, [v.to_json() for v in b.violations], b.checkpoints, b.first_event_s, b.total_s), case
        assert (ours.progress_in_run, ours.last_at, ours.last_type) == (reference.progress_in_run, reference.last_at, reference.last_type)
