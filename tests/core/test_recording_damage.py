"""A recording no wsdash could have written is named, never judged (found by a user-eye sweep).

Each case is a recording as `Run` + `Recorder` write it, with one thing changed by hand: a field
of the wrong type, a record moved, removed or doubled, the clock run back, another encoding. The
reader names the file, the line, the record and the key, and says what was expected; `replay`,
`diff` and `report --recording` exit 2 with that one line — never a traceback, never a verdict
(docs/protocol.md §5.10). What wsdash writes, older versions' shapes and a cut file still read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.conftest import isolated_dirs
from tests.ui.helpers import GOLDEN_FRAMES
from wsdash.core.contract import Budgets
from wsdash.core.judged_run import Run
from wsdash.core.recording import Recorder, RecordingError, replay

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abcdefSIGSIGSIG"
Records = list[dict[str, Any]]


def recorded(path: Path) -> Records:
    """A passing run as `golden-path --record` writes it (times fixed), read back as records:
    header, start, open, handshake frame, chat message, six events, a close, end."""
    with Recorder(path) as rec:
        run = Run("ws://127.0.0.1:8002/ws", Budgets(), listener=rec)
        run.token = {"subject": "alice", "expires_in_s": 3600}
        run.start(100.0, token=run.token, auth="subprotocol+header")
        run.opened(100.01, 0.01, {"dns_ms": 0.1, "tcp_ms": 0.4, "upgrade_ms": 2.0, "total_ms": 2.6}, "127.0.0.1:8002")
        run.received(100.011, json.dumps({"type": "connection_established", "data": {"connection_id": "c-1"}}))
        run.sent(100.02, json.dumps({"type": "user_message"}), is_message=True)
        for offset, frame in GOLDEN_FRAMES:
            run.received(100.02 + offset, json.dumps(frame))
        run.closed(102.0, 1000, "bye", "server")
        assert run.finish(102.1).ok
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write(path: Path, records: Records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def kind_at(records: Records, kind: str, nth: int = 0) -> int:
    """The index of the nth record of a kind."""
    return [i for i, r in enumerate(records) if r.get("k") == kind][nth]


def setting(kind: str, key: str, value: Any, nth: int = 0) -> Callable[[Records], None]:
    def change(records: Records) -> None:
        records[kind_at(records, kind, nth)][key] = value
    return change


def dropping(kind: str, key: str) -> Callable[[Records], None]:
    def change(records: Records) -> None:
        del records[kind_at(records, kind)][key]
    return change


def moving_send_to_the_end(records: Records) -> None:
    send = records.pop(kind_at(records, "send"))
    i = kind_at(records, "close")
    send["t"] = records[i - 1]["t"]  # its clock moved with it: only the order is wrong
    records.insert(i, send)


def error_before_end(records: Records) -> None:
    records.insert(len(records) - 1, {"k": "error", "t": records[-1]["t"], "error": "string error"})


def binary_frame(text: str) -> Callable[[Records], None]:
    def change(records: Records) -> None:
        rec = records[kind_at(records, "recv", 1)]
        del rec["data"]
        rec["b64"] = text
    return change


def reversing(records: Records) -> None:
    records[1:] = records[:0:-1]


def doubling(kind: str) -> Callable[[Records], None]:
    def change(records: Records) -> None:
        i = kind_at(records, kind)
        records.insert(i + 1, dict(records[i]))
    return change


def removing(kind: str) -> Callable[[Records], None]:
    return lambda records: records.pop(kind_at(records, kind))


# Line numbers: 1 header, 2 start, 3 open, 4 connection_established, 5 the chat message, 6–11 the
# events, 12 close, 13 end.
TYPES = {
    "token-a-string": (setting("start", "token", JWT), ":2: the 'start' record's 'token' is a string of 52 characters"),
    "token-seconds-a-string": (setting("start", "token", {"subject": None, "expires_in_s": "x"}),
                               ":2: the 'start' record's 'token.expires_in_s' is \"x\": it should be a number of seconds"),
    "url-null": (setting("start", "url", None), ":2: the 'start' record's 'url' is null"),
    "url-a-list": (setting("start", "url", ["x"]), ":2: the 'start' record's 'url' is a list"),
    "budgets-null": (setting("start", "budgets", None), ":2: the 'start' record's 'budgets' is null"),
    "budget-a-word": (setting("start", "budgets", {"connect_s": "two", "first_event_s": 5, "run_s": 60, "gap_s": None}),
                      ":2: the 'start' record's 'budgets.connect_s' is \"two\""),
    "phases-null": (setting("open", "phases", {"dns_ms": None, "tcp_ms": 0.4}), ":3: the 'open' record's 'phases.dns_ms' is null"),
    "phases-a-word": (setting("open", "phases", "fast"), ":3: the 'open' record's 'phases' is \"fast\": it should be an object"),
    "connect-a-word": (setting("open", "connect_s", "slow"), ":3: the 'open' record's 'connect_s' is \"slow\""),
    "data-a-number": (setting("recv", "data", 12345, 1), ":6: the 'recv' record's 'data' is 12345: it should be the text frame as a string"),
    "data-an-object": (setting("recv", "data", {"type": "agent_started"}, 1), ":6: the 'recv' record's 'data' is an object"),
    "no-data": (dropping("recv", "data"), ":4: the 'recv' record has neither 'data' nor 'b64'"),
    "bad-base64": (binary_frame("!!!notbase64"), ":6: the 'recv' record's 'b64' is \"!!!notbase64\": it should be a binary frame in base64"),
    "close-code-a-word": (setting("close", "code", "abc"), ":12: the 'close' record's 'code' is \"abc\": it should be a WebSocket close code"),
    "close-code-huge": (setting("close", "code", 10**20), ":12: the 'close' record's 'code' is 100000000000000000000"),
    "error-a-string": (error_before_end, ":13: the 'error' record's 'error' is \"string error\": it should be an object"),
    "timed-out-a-word": (setting("end", "timed_out", "no"), ":13: the 'end' record's 'timed_out' is \"no\": it should be true or false"),
    "no-t": (dropping("recv", "t"), ":4: the 'recv' record has no 't'"),
    "t-a-word": (setting("send", "t", "soon"), ":5: the 'send' record's 't' is \"soon\""),
    "k-a-number": (setting("recv", "k", 5, 1), ":6: the record's 'k' is 5: it should be one of start, open, send, recv"),
    "k-unknown": (setting("recv", "k", "bogus", 1), ":6: the record's 'k' is \"bogus\""),
}
ORDER = {
    "time-goes-back": (setting("recv", "t", 99.0, 1), ":6: its time goes back: 't' is 99.0, and the record on line 5 had 100.02"),
    "send-after-the-events": (moving_send_to_the_end, ":5: an agent event (agent_started) before the run's chat message"),
    "send-removed": (removing("send"), ":5: an agent event (agent_started) before the run's chat message"),
    "message-flag-removed": (dropping("send", "message"), ":6: an agent event (agent_started) before the run's chat message"),
    "recv-before-open": (lambda r: r.insert(2, dict(r[kind_at(r, "recv", 1)], t=100.0)),
                         ":3: a 'recv' record before the connection opened"),
    "second-start": (doubling("start"), ":3: a second 'start' record (the first is on line 2)"),
    "second-open": (doubling("open"), ":4: a second 'open' record (the first is on line 3)"),
    "second-end": (doubling("end"), ":14: an 'end' record after the run's 'end' (line 13)"),
    "recv-after-end": (lambda r: r.append(dict(r[kind_at(r, "recv", 1)], t=103.0)), ":14: a 'recv' record after the run's 'end' (line 13)"),
    "frame-after-close": (lambda r: r.insert(kind_at(r, "close") + 1, dict(r[kind_at(r, "recv", 1)], t=102.0)),
                          ":13: a 'recv' record after the run closed ('close' on line 12)"),
    "start-removed": (removing("start"), ":2: an 'open' record where the run's 'start' should be"),
    "lines-reversed": (reversing, ":2: an 'end' record where the run's 'start' should be"),
    "second-header": (lambda r: r.insert(3, dict(r[0])), ":4: a second header ('format' record)"),
}


@pytest.mark.parametrize("change, says", list(TYPES.values()) + list(ORDER.values()), ids=list(TYPES) + list(ORDER))
def test_a_damaged_recording_is_named_with_its_line_and_key(tmp_path: Path, change, says: str) -> None:
    records = recorded(tmp_path / "good.jsonl")
    assert replay(tmp_path / "good.jsonl").ok
    change(records)
    path = write(tmp_path / "bad.jsonl", records)
    with pytest.raises(RecordingError) as err:
        replay(path)
    assert f"{path}{says}" in str(err.value), str(err.value)
    assert JWT not in str(err.value)  # a long string is described, not quoted


def test_a_line_that_is_not_a_record_after_the_end_is_named_too(tmp_path: Path) -> None:
    recorded(tmp_path / "r.jsonl")
    path = tmp_path / "r.jsonl"
    path.write_bytes(path.read_bytes() + b"\x00garbage")  # no writer cut there: its end was written
    with pytest.raises(RecordingError, match=r"r\.jsonl:14: not a JSON line .* \(after the run's 'end', which is the last line\)"):
        replay(path)


def test_what_wsdash_writes_and_older_shapes_still_read(tmp_path: Path) -> None:
    records = recorded(tmp_path / "r.jsonl")
    first = replay(write(tmp_path / "same.jsonl", records)).to_json()
    # An older wsdash: no version in the header, no budgets, address, close 'by' (and an unknown field, a newer one's)
    del records[0]["wsdash"], records[1]["budgets"], records[2]["address"], records[-2]["by"]
    records[kind_at(records, "recv", 1)]["later_field"] = {"ignored": True}
    old = replay(write(tmp_path / "old.jsonl", records)).to_json()
    assert old["ok"] and old["checkpoints"] == first["checkpoints"] and old["frames"] == first["frames"]


def test_a_cut_recording_keeps_its_documented_verdict(tmp_path: Path) -> None:
    records = recorded(tmp_path / "r.jsonl")[:9]  # killed after agent_thinking: no close, no end
    path = tmp_path / "cut.jsonl"
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    last = json.dumps({"k": "recv", "t": 100.9, "data": "{\"type\": \"tool_completed\", \"x\": \"ü\"}"}, ensure_ascii=False)
    path.write_bytes(text.encode() + last.encode()[: last.encode().index("ü".encode()) + 1])  # cut inside a character
    result = replay(path)
    assert result.error.kind == "recording" and "last line (10) was cut off mid-write" in result.error.message
    assert result.exit_code == 1 and result.verdict.checkpoints["agent_thinking"] is not None


# ---- encodings ---------------------------------------------------------------------------------

def test_a_recording_saved_with_a_utf8_bom_reads_as_without(tmp_path: Path) -> None:
    recorded(tmp_path / "r.jsonl")
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + (tmp_path / "r.jsonl").read_bytes())  # Notepad's "UTF-8 with BOM"
    assert replay(bom).to_json() == replay(tmp_path / "r.jsonl").to_json()


@pytest.mark.parametrize("encode, says", [
    (lambda text: b"\xff\xfe" + text.encode("utf-16-le"), "the file is UTF-16 LE text (with a byte order mark)"),
    (lambda text: text.encode("utf-16-le"), "the file looks like UTF-16 LE text without a byte order mark"),
    (lambda text: text.encode("utf-16-be"), "the file looks like UTF-16 BE text without a byte order mark"),
], ids=["utf16-bom", "utf16le", "utf16be"])
def test_a_utf16_recording_is_named_as_config_files_are(tmp_path: Path, encode, says: str) -> None:
    recorded(tmp_path / "r.jsonl")
    path = tmp_path / "u.jsonl"
    path.write_bytes(encode((tmp_path / "r.jsonl").read_text(encoding="utf-8")))
    with pytest.raises(RecordingError) as err:
        replay(path)
    assert str(err.value).startswith(f"{path}: {says}") and "save it as UTF-8" in str(err.value)


def test_a_byte_that_is_not_utf8_mid_file_is_named_with_its_line(tmp_path: Path) -> None:
    recorded(tmp_path / "r.jsonl")
    lines = (tmp_path / "r.jsonl").read_bytes().splitlines(keepends=True)
    lines[5] = lines[5].replace(b"agent_started", b"agent_st\xe4rted")  # Windows-1252 'ä'
    path = tmp_path / "ansi.jsonl"
    path.write_bytes(b"".join(lines))
    with pytest.raises(RecordingError, match=r"ansi\.jsonl:6: not UTF-8 text \(byte 0xe4 at column \d+\)"):
        replay(path)


# ---- the commands ------------------------------------------------------------------------------

COMMANDS = {
    "replay": lambda bad, good: ["replay", bad, "--headless"],
    "replay-json": lambda bad, good: ["replay", bad, "--headless", "--json"],
    "diff": lambda bad, good: ["diff", good, bad],
    "report": lambda bad, good: ["report", "--recording", bad, "--no-tiers", "--no-health"],
}


@pytest.mark.parametrize("case", ["token-a-string", "phases-null", "send-after-the-events", "time-goes-back"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_that_reads_a_recording_names_the_damage_and_exits_2(cli, tmp_path: Path, case: str, command: str) -> None:
    """These were tracebacks (token, phases) and PASSED verdicts (send, time) in all four."""
    change, says = {**TYPES, **ORDER}[case]
    records = recorded(tmp_path / "good.jsonl")
    change(records)
    bad = write(tmp_path / "bad.jsonl", records)
    out = cli(*COMMANDS[command](str(bad), str(tmp_path / "good.jsonl")), cwd=tmp_path, env=isolated_dirs(tmp_path))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert f"{bad}{says}" in out.stderr and out.stderr.count("\n") == 1, out.stderr  # one line
    assert "PASSED" not in out.stdout and JWT not in out.stderr + out.stdout


@pytest.mark.parametrize("content, says", [("", " holds no run"), ('{"k": "end", "t": 1.0, "timed_out": false}\n', ":2: an 'end' record where")],
                         ids=["header-alone", "header-and-end"])
@pytest.mark.parametrize("command", ["replay-json", "diff"])
def test_a_recording_with_no_run_in_it_is_exit_2_either_way(cli, tmp_path: Path, content: str, says: str, command: str) -> None:
    """Header and end alone was judged (exit 1, five events 'missing'), the header alone was not."""
    path = tmp_path / "empty-run.jsonl"
    path.write_text('{"k": "format", "format": "wsdash-recording/1", "wsdash": "0.1.0"}\n' + content, encoding="utf-8")
    recorded(tmp_path / "good.jsonl")
    out = cli(*COMMANDS[command](str(path), str(tmp_path / "good.jsonl")), cwd=tmp_path, env=isolated_dirs(tmp_path))
    assert out.returncode == 2 and out.stdout == "" and f"{path}{says}" in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_the_dashboard_replay_refuses_a_damaged_file_before_its_screen_opens(tmp_path: Path, monkeypatch, capsys) -> None:
    from wsdash.cli import build_parser
    from wsdash.commands import dashboard, replay as replay_command

    records = recorded(tmp_path / "good.jsonl")
    ORDER["recv-after-end"][0](records)  # deep in the file: its start reads fine
    bad = write(tmp_path / "bad.jsonl", records)
    opened = []
    monkeypatch.setattr(dashboard, "open_dashboard", lambda settings: opened.append(settings) or 0)
    assert replay_command.run_dashboard(build_parser().parse_args(["replay", str(bad)])) == 2 and opened == []
    assert f"{bad}:14: a 'recv' record after the run's 'end'" in capsys.readouterr().err
    assert replay_command.run_dashboard(build_parser().parse_args(["replay", str(tmp_path / "good.jsonl")])) == 0 and opened


def test_a_line_nested_thousands_deep_is_named_not_a_traceback(tmp_path: Path) -> None:
    """json.loads raised RecursionError, which the reader did not catch (a review of the reader)."""
    recorded(tmp_path / "r.jsonl")
    lines = (tmp_path / "r.jsonl").read_bytes().splitlines(keepends=True)
    lines.insert(3, b"[" * 3000 + b"]" * 3000 + b"\n")
    (tmp_path / "deep.jsonl").write_bytes(b"".join(lines))
    with pytest.raises(RecordingError, match=r"deep\.jsonl:4: nested thousands of levels deep"):
        replay(tmp_path / "deep.jsonl")
    (tmp_path / "deep-header.jsonl").write_bytes(b"[" * 3000 + b"]" * 3000 + b"\n")
    with pytest.raises(RecordingError, match="not a wsdash recording"):
        replay(tmp_path / "deep-header.jsonl")


def test_an_opaque_token_in_a_wrong_place_is_described_not_printed(tmp_path: Path) -> None:
    """Strings of up to 34 characters were quoted as the file had them: a token the redaction does
    not know (not a JWT, not registered) was printed in full (a review of the reader)."""
    records = recorded(tmp_path / "good.jsonl")
    records[kind_at(records, "start")]["token"] = "sk_live_51HxQabc123def456"
    records[kind_at(records, "open")]["phases"] = {"my-opaque-token-abcdef123456": "x"}
    with pytest.raises(RecordingError) as err:
        replay(write(tmp_path / "bad.jsonl", records))
    assert "sk_live_51HxQabc123def456" not in str(err.value) and "a string of 25 characters" in str(err.value)
    del records[kind_at(records, "start")]["token"]
    with pytest.raises(RecordingError) as err:
        replay(write(tmp_path / "bad.jsonl", records))
    assert "abcdef123456" not in str(err.value) and "(a key of 28 characters)" in str(err.value), str(err.value)
