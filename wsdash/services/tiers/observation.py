"""What a running tier has told wsdash so far, and the `TierResult` it adds up to.

The runner (runner.py) owns the process; an `Observation` owns what came out of it: the
plugin's messages from the results socket (stream.py), the output lines from the files the
child writes, the counts, the tests still running, the last lines kept for the error message.
Every message and line becomes a `TierEvent` (events.py) for the subscriber.
"""

from __future__ import annotations

import asyncio
import codecs
import time
from collections import deque
from typing import Any, Callable, Sequence

from wsdash.services.tiers.events import Collected, OnEvent, OutputLine, TestFinished, TestStarted, TierEvent, TierFinished
from wsdash.services.tiers.model import ST_ERROR, TestResult, TierResult, empty_counts, pass_rate, verdict, with_pytest_words
from wsdash.services.tiers.skips import SkipReport, build_report
from wsdash.services.tiers.spec import KIND_PYTEST, TierSpec
from wsdash.services.tiers.stream import POLL_S

MAX_LINE = 2_000  # characters kept of one output line


class Observation:
    def __init__(self, spec: TierSpec, on_event: OnEvent | None, tail_lines: int) -> None:
        self.spec = spec
        self.on_event = on_event
        self.counts = empty_counts()
        self.tests: list[TestResult] = []
        self.first_result: dict[str, TestResult] = {}
        self.running: dict[str, float] = {}
        self.collected: int | None = None
        self.deselected = 0
        self.collection: dict[str, Any] | None = None  # the plugin's summary of what was collected
        self.exit_status: int | None = None
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self.activity = 0  # grows with every message and line: the runner's drain watches it

    def emit(self, event: TierEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    # -- the plugin's messages ---------------------------------------------------------------

    def on_message(self, m: dict[str, Any]) -> None:
        self.activity += 1
        ev = m.get("ev")
        tier = self.spec.name
        if ev == "report":
            result = TestResult(
                nodeid=str(m.get("nodeid", "")),
                outcome=str(m.get("outcome", "")),
                phase=str(m.get("when", "call")),
                duration_s=float(m.get("duration") or 0.0),
                message=str(m.get("message", "")),
                longrepr=str(m.get("longrepr", "")),
                output=str(m.get("output", "")),
                finished_at=m.get("t"),
                received_at=time.time(),
                no_skip=bool(m.get("no_skip")),
            )
            self.tests.append(result)
            self.first_result.setdefault(result.nodeid, result)
            self.counts[result.outcome] = self.counts.get(result.outcome, 0) + 1
            if result.phase == "???":  # xdist: the worker died under this test, no finish follows
                self.running.pop(result.nodeid, None)
            self.emit(TestFinished(tier, result))
        elif ev == "start":
            nodeid = str(m.get("nodeid", ""))
            at = float(m.get("t") or time.time())
            self.running[nodeid] = at
            self.emit(TestStarted(tier, nodeid, at))
        elif ev == "finish":
            nodeid = str(m.get("nodeid", ""))
            self.running.pop(nodeid, None)
            first = self.first_result.get(nodeid)
            if first is not None and m.get("duration") is not None:
                # The whole test (setup + call + teardown), as JUnit and humans mean it.
                first.duration_s = float(m["duration"])
        elif ev == "collected":
            self.collected = int(m.get("count", 0))
            self.deselected = int(m.get("deselected", 0))
            self.emit(Collected(tier, self.collected, self.deselected))
        elif ev == "collection":
            self.collection = m
        elif ev == "session_end":
            self.exit_status = int(m["exitstatus"])

    # -- the child's output ------------------------------------------------------------------

    def on_line(self, stream: str, line: str) -> None:
        self.activity += 1
        if line.endswith("\r"):
            line = line[:-1]
        if len(line) > MAX_LINE:
            line = f"{line[:MAX_LINE]}… [+{len(line) - MAX_LINE} characters]"
        self.tail.append(line)
        self.emit(OutputLine(self.spec.name, stream, line))

    async def tail_output(self, path: str, name: str, exited: asyncio.Event, on_error: Callable[[BaseException], None]) -> None:
        """Follow a file the child writes to, until the child has exited and all is read."""
        # Chunks, not lines: a test may print megabytes without a newline.
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        try:
            with open(path, "rb") as f:
                while True:
                    last_round = exited.is_set()  # checked before reading: nothing is missed
                    while chunk := f.read(1 << 20):
                        lines = (pending + decoder.decode(chunk)).split("\n")
                        pending = lines.pop()
                        for line in lines:
                            self.on_line(name, line)
                        if len(pending) > 4 * MAX_LINE:  # bounded memory on newline-less output
                            self.on_line(name, pending)
                            pending = ""
                    if last_round:
                        break
                    await asyncio.sleep(POLL_S)
            pending += decoder.decode(b"", final=True)
            if pending:
                self.on_line(name, pending)
        except Exception as exc:
            on_error(exc)

    # -- the result --------------------------------------------------------------------------

    def result(
        self, *, status: str | None, message: str | None, returncode: int | None, stopped_by: str | None,
        duration_s: float, started: bool, argv: Sequence[str], only: list[str] | None,
    ) -> TierResult:
        """The tier's result from what was observed (status None: judged here), announced as
        TierFinished. `status` given: the tier never ran (cannot start, missing cwd)."""
        spec = self.spec
        running = list(self.running)
        skips: SkipReport | None = None
        if spec.kind == KIND_PYTEST and started:
            skips = build_report(
                self.tests, collected=self.collected, collection=self.collection,
                max_skipped=spec.max_skipped, min_ran=spec.min_ran, no_skip_marker=spec.no_skip_marker,
            )
        rate = pass_rate(self.counts, skips.no_skip_count if skips is not None else 0)
        crashed = False
        met = None
        if status is None:
            connected = self.exit_status is not None or self.collected is not None or bool(self.tests) or bool(self.running)
            v = verdict(
                kind=spec.kind,
                target=spec.target,
                counts=self.counts,
                returncode=returncode,
                exit_status=self.exit_status if spec.kind == KIND_PYTEST else returncode,
                plugin_connected=connected,
                stopped_by=stopped_by,
                timeout_s=spec.timeout_s,
                running=running,
                skips=skips,
            )
            status, met, message, crashed = v.status, v.target_met, v.message, v.crashed
            if status == ST_ERROR and spec.kind == KIND_PYTEST and stopped_by is None:
                message = with_pytest_words(message, self.tail, connected)
        exit_code = self.exit_status if spec.kind == KIND_PYTEST else returncode
        result = TierResult(
            name=spec.name,
            title=spec.title,
            kind=spec.kind,
            status=status,
            target=spec.target,
            counts=dict(self.counts),
            pass_rate=rate,
            target_met=met,
            duration_s=duration_s,
            exit_code=exit_code if exit_code is not None else returncode,
            returncode=returncode,
            collected=self.collected,
            deselected=self.deselected,
            tests=self.tests,
            message=message,
            crashed=crashed,
            last_output=list(self.tail),
            only_nodeids=only,
            running=running,
            argv=list(argv),
            started=started,
            session_ended=self.exit_status is not None,
            skips=skips,
            on_target=spec.on_target,
        )
        self.emit(TierFinished(spec.name, result))
        return result
