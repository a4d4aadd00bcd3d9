"""The runner against real pytest subprocesses: events, timeout, cancel, crash, commands, rerun,
the results socket. Several tiers in a row: test_tiers_batch.py."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest

from tests.tiers.tiers_support import QUICK, SLOW_LAST, pid_dead, spec_for, write_suite
from wsdash.services.tiers.events import (
    Collected,
    OutputLine,
    TestFinished,
    TestStarted,
    TierEvent,
    TierFinished,
    TierStarted,
    TierTally,
)
from wsdash.services.tiers.spec import TierSpec
from wsdash.services.tiers.runner import run_tier
from wsdash.services.tiers.stream import StreamServer

posix_only = pytest.mark.skipif(sys.platform.startswith("win"), reason="process groups and /proc are POSIX")

# The slow test starts a grandchild that ignores SIGINT, so only killing the whole group ends
# it. With "{ignore}" the test itself ignores SIGINT too: pytest cannot stop until killed.
STUBBORN = """
    import os, signal, subprocess, sys, time

    def test_quick():
        pass

    def test_hangs():
        {ignore}
        child = subprocess.Popen([sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"])
        with open("grandchild.pid", "w") as f:
            f.write(str(child.pid))
        time.sleep(30)
"""

async def test_events_arrive_in_order_and_match_the_result(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", QUICK)
    events: list[TierEvent] = []
    result = await run_tier(spec_for(root, name="quick"), on_event=events.append)
    kinds = [type(e) for e in events if not isinstance(e, OutputLine)]
    assert kinds[0] is TierStarted and kinds[-1] is TierFinished
    assert kinds.index(Collected) < kinds.index(TestStarted)
    started: set[str] = set()
    tally = TierTally("quick")
    for e in events:
        assert e.tier == "quick"
        tally.apply(e)
        if isinstance(e, TestStarted):
            started.add(e.nodeid)
        if isinstance(e, TestFinished):
            assert e.result.nodeid in started  # a result never precedes its start
            assert e.result.received_at is not None and e.result.finished_at is not None
    finished = events[-1]
    assert isinstance(finished, TierFinished) and finished.result is result
    assert result.counts == tally.counts == {"passed": 3, "failed": 1, "skipped": 1, "xfailed": 0, "xpassed": 0, "error": 0}
    assert tally.collected == result.collected == 5 and not tally.running
    assert result.status == "failed" and result.exit_code == 1 and result.pass_rate == 0.75
    assert result.failed_nodeids == ["test_quick.py::test_two"]
    assert any(isinstance(e, OutputLine) and "1 failed, 3 passed, 1 skipped" in e.line for e in events)
    assert "1 failed, 3 passed, 1 skipped" in result.last_output[-1]


async def test_target_below_one_passes_with_a_failure(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", QUICK)
    result = await run_tier(spec_for(root, target=0.75))
    assert result.status == "passed" and result.target_met is True and result.exit_code == 1
    assert "target met despite 1 failing" in (result.message or "")


@posix_only
@pytest.mark.parametrize("pytest_ignores_sigint", [True, False], ids=["pytest-killed-after-grace", "pytest-stops-on-interrupt"])
async def test_timeout_kills_the_whole_tree(tmp_path: Path, pytest_ignores_sigint: bool) -> None:
    ignore = "signal.signal(signal.SIGINT, signal.SIG_IGN)" if pytest_ignores_sigint else "pass"
    root = write_suite(tmp_path / "s", {"test_stubborn.py": STUBBORN.format(ignore=ignore)})
    events: list[TierEvent] = []
    # 4 s: room for pytest to start and reach the hanging test on a loaded machine. The grace:
    # 1 s is all a test that ignores SIGINT gets; one that stops on it may need more than 1 s on
    # a loaded machine to print its summary.
    grace = 1.0 if pytest_ignores_sigint else 8.0
    result = await run_tier(spec_for(root, timeout_s=4), on_event=events.append, grace_s=grace)
    assert result.status == "timeout"
    assert "timeout of 4 s" in (result.message or "")
    assert result.counts["passed"] == 1  # what finished before the timeout is kept
    assert result.running == ["test_stubborn.py::test_hangs"]
    if pytest_ignores_sigint:
        assert result.returncode == -signal.SIGKILL and not result.session_ended
        assert 4.9 <= result.duration_s < 25  # timeout + grace, not the 30 s sleep
    else:
        # Interrupted like Ctrl-C: pytest ended its session and printed its summary.
        assert result.session_ended and result.exit_code == 2
        assert 4 <= result.duration_s < 25
    pid = next(e.pid for e in events if isinstance(e, TierStarted))
    assert pid_dead(pid)
    grandchild = int((root / "grandchild.pid").read_text())
    assert pid_dead(grandchild), "the grandchild outlived the timeout"


async def test_cancel_gives_a_partial_summary(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", SLOW_LAST)
    cancel = asyncio.Event()

    def on_event(e: TierEvent) -> None:
        if isinstance(e, TestStarted) and e.nodeid.endswith("test_sleeps"):
            cancel.set()

    result = await run_tier(spec_for(root), on_event=on_event, cancel=cancel)
    assert result.status == "cancelled"
    assert result.counts["passed"] == 2 and result.counts["failed"] == 1
    # pytest was interrupted like Ctrl-C: it ended its session (exit 2) and said so.
    assert result.session_ended and result.exit_code == 2
    assert not result.crashed
    assert result.duration_s < 25  # not the 30 s sleep
    assert any("KeyboardInterrupt" in line or "Interrupted" in line or "!!!" in line for line in result.last_output)


async def test_cancelling_the_task_kills_the_tree(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", SLOW_LAST)
    pids: list[int] = []
    sleeping = asyncio.Event()

    def on_event(e: TierEvent) -> None:
        if isinstance(e, TierStarted):
            pids.append(e.pid)
        if isinstance(e, TestStarted) and e.nodeid.endswith("test_sleeps"):
            sleeping.set()

    task = asyncio.create_task(run_tier(spec_for(root), on_event=on_event))
    await asyncio.wait_for(sleeping.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pid_dead(pids[0])


async def test_a_subscriber_error_stops_the_run_and_propagates(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", SLOW_LAST)
    pids: list[int] = []

    def on_event(e: TierEvent) -> None:
        if isinstance(e, TierStarted):
            pids.append(e.pid)
        if isinstance(e, TestStarted) and e.nodeid.endswith("test_sleeps"):
            raise LookupError("dashboard bug")

    with pytest.raises(LookupError, match="dashboard bug"):
        await asyncio.wait_for(run_tier(spec_for(root), on_event=on_event), 20)
    assert pid_dead(pids[0])


@posix_only
@pytest.mark.parametrize(
    ("how", "expect"),
    [("os._exit(3)", "exit code 3"), ("os.kill(os.getpid(), signal.SIGKILL)", "killed by signal SIGKILL")],
)
async def test_crash_is_reported_with_last_output(tmp_path: Path, how: str, expect: str) -> None:
    root = write_suite(tmp_path / "s", {
        "test_crash.py": f"""
            import os, signal

            def test_fine():
                pass

            def test_dies():
                print("last words before the crash", flush=True)
                {how}

            def test_after():
                pass
        """,
    })
    result = await run_tier(spec_for(root, "-s"))
    assert result.status == "error" and result.crashed and not result.session_ended
    assert expect in (result.message or "")
    assert "test_crash.py::test_dies" in (result.message or "")
    assert result.counts["passed"] == 1
    assert any("last words before the crash" in line for line in result.last_output)
    assert result.to_dict()["last_output"] == result.last_output


async def test_xdist_worker_crash_is_counted_as_pytest_counts_it(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", {
        "test_w.py": "import os\n\ndef test_ok():\n    pass\n\ndef test_dies():\n    os._exit(1)\n",
    })
    result = await run_tier(spec_for(root, "-p", "xdist.plugin", "-n", "2"))
    # xdist turns a dead worker into a failed test and goes on; pytest itself did not crash.
    assert result.counts["passed"] == 1 and result.counts["failed"] == 1
    assert not result.crashed and result.session_ended
    assert "crashed" in next(t.message for t in result.tests if t.outcome == "failed")


@pytest.mark.parametrize(("code", "status"), [(0, "passed"), (3, "failed")])
async def test_command_tier_is_judged_by_its_exit_code(tmp_path: Path, code: int, status: str) -> None:
    spec = TierSpec.from_table({
        "name": "cmd",
        "command": [sys.executable, "-c", f"import sys; print('hello from the command'); sys.exit({code})"],
        "cwd": str(tmp_path),
    })
    result = await run_tier(spec)
    assert result.status == status and result.exit_code == code and result.returncode == code
    assert result.pass_rate is None and not result.tests
    assert result.last_output == ["hello from the command"]
    if code:
        assert "exit code 3" in (result.message or "")


async def test_command_tier_env_and_cwd(tmp_path: Path) -> None:
    spec = TierSpec.from_table({
        "name": "cmd",
        "command": [sys.executable, "-c", "import os; print(os.getcwd()); print(os.environ['TIER_VAR'])"],
        "cwd": str(tmp_path),
        "env": {"TIER_VAR": "from-the-tier"},
    })
    result = await run_tier(spec)
    assert result.last_output == [str(tmp_path), "from-the-tier"]


async def test_interpreter_that_does_not_exist(tmp_path: Path) -> None:
    spec = TierSpec.from_table({"name": "t", "pytest": [], "python": str(tmp_path / "no-python"), "cwd": str(tmp_path)})
    events: list[TierEvent] = []
    result = await run_tier(spec, on_event=events.append)
    assert result.status == "error" and not result.started
    assert "cannot start" in (result.message or "") and "no-python" in (result.message or "")
    assert [type(e) for e in events] == [TierFinished]


@pytest.mark.parametrize(
    ("args", "files", "needle"),
    [
        (("--no-such-option",), QUICK, "usage error (exit code 4) — "),
        (("--no-such-option",), QUICK, "error: unrecognized arguments: --no-such-option"),
        (("tests/unit/websocket/",), QUICK, "usage error (exit code 4) — ERROR: file or directory not found: tests/unit/websocket/"),
        ((), {"test_x.py": "X = 1\n"}, "no tests collected (exit code 5)"),
        ((), {"test_x.py": "import nope_not_here\n"}, "error(s) during collection"),
    ],
)
async def test_pytest_exit_codes_are_explained(tmp_path: Path, args: tuple[str, ...], files: dict[str, str], needle: str) -> None:
    root = write_suite(tmp_path / "s", files)
    result = await run_tier(spec_for(root, *args))
    assert result.status == "error"
    assert needle in (result.message or "")
    assert not result.crashed


async def test_rerun_only_the_failed_node_ids(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", {
        "test_r.py": """
            import pytest

            @pytest.mark.parametrize("n", range(6))
            def test_p(n):
                assert n % 3

            class TestC:
                def test_ok(self):
                    pass
        """,
        "test_broken.py": "import nope_not_here\n",
    })
    first = await run_tier(spec_for(root, "--continue-on-collection-errors"))
    assert first.failed_nodeids == ["test_broken.py", "test_r.py::test_p[0]", "test_r.py::test_p[3]"]
    (root / "test_broken.py").write_text("def test_fixed():\n    pass\n")
    again = await run_tier(spec_for(root, "--continue-on-collection-errors"), only_nodeids=first.failed_nodeids)
    assert sorted(t.nodeid for t in again.tests) == ["test_broken.py::test_fixed", "test_r.py::test_p[0]", "test_r.py::test_p[3]"]
    assert again.deselected == 5 and again.only_nodeids == first.failed_nodeids
    assert again.failed_nodeids == ["test_r.py::test_p[0]", "test_r.py::test_p[3]"]
    with pytest.raises(ValueError, match="empty"):
        await run_tier(spec_for(root), only_nodeids=[])


async def test_rerun_under_xdist_filters_in_the_workers(tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", {"test_r.py": "import pytest\n\n@pytest.mark.parametrize('n', range(8))\ndef test_p(n):\n    assert n != 5\n"})
    result = await run_tier(spec_for(root, "-p", "xdist.plugin", "-n", "2"), only_nodeids=["test_r.py::test_p[5]", "test_r.py::test_p[1]"])
    assert sorted((t.nodeid, t.outcome) for t in result.tests) == [("test_r.py::test_p[1]", "passed"), ("test_r.py::test_p[5]", "failed")]


async def test_stream_server_ignores_strangers() -> None:
    got: list[dict] = []
    server = StreamServer("s3cret", got.append, lambda exc: None)
    host, port = (await server.start()).rsplit(":", 1)
    try:
        async def send(lines: list[dict]) -> None:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"".join(json.dumps(x).encode() + b"\n" for x in lines))
            await writer.drain()
            writer.close()
            await reader.read()

        await send([{"ev": "hello", "token": "wrong"}, {"ev": "report", "nodeid": "fake"}])
        await send([{"ev": "hello", "token": "s3cret"}, {"ev": "report", "nodeid": "real"}])
        await asyncio.wait_for(server.done.wait(), 5)
        await send([{"ev": "hello", "token": "s3cret"}, {"ev": "report", "nodeid": "second"}])
        await asyncio.sleep(0.1)
    finally:
        await server.close()
    assert got == [{"ev": "report", "nodeid": "real"}]


@posix_only
async def test_an_interpreter_without_pytest_says_why(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho \"$0: No module named pytest\" >&2\nexit 1\n")
    fake.chmod(0o755)
    spec = TierSpec.from_table({"name": "t", "pytest": ["tests"], "python": str(fake), "cwd": str(tmp_path)})
    result = await run_tier(spec)
    assert result.status == "error" and result.started
    assert "did not load or connect" in (result.message or "")
    assert (result.message or "").endswith(f"{fake}: No module named pytest")
