"""The presentation view: the golden path for a room of people who don't read JSON.

A verdict a room can read, the five checkpoints in plain words with their timings, the agent's
steps (nested agents as steps of their parent), and each tier against its target as a big tile.
It reads the same sources as the dashboard (live session or replay, tier board) on the same
~10 Hz timer; `g` runs it again, `p` or `esc` goes back.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from wsdash.core.protocol import GOLDEN_EVENTS
from wsdash.core.story import Story, checkpoint_line, headline, tell
from wsdash.ui.widgets.key_footer import KeyFooter
from wsdash.ui.widgets.refresh import flush_on_news, only_class, update_if_changed

FLUSH_S = 0.1
_STATES = ("-passed", "-failed", "-running", "-idle")


class PresentScreen(Screen[None]):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("escape,p", "app.pop_screen", "Back", tooltip="Back to the dashboard"),
    ]

    def __init__(self, source: Any, tier_board: Any | None = None) -> None:
        super().__init__(classes="present")
        self.source = source
        self.tier_board = tier_board

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="present"):
            yield Static(id="present-verdict")
            with Vertical(id="present-checkpoints"):
                for name in GOLDEN_EVENTS:
                    yield Static(id=f"pc-{name}", classes="present-checkpoint")
            with VerticalScroll(id="present-steps") as steps:
                steps.border_title = "What the agent did"
                yield Static(id="present-steps-text")
            if self.tier_board is not None and self.tier_board.specs:
                with Horizontal(id="present-tiles"):
                    for spec in self.tier_board.specs:
                        yield Static(id=f"tile-{spec.name}", classes="present-tile")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_interval(FLUSH_S, self.flush)
        self._quiet = flush_on_news(self.source, self.flush)
        self.flush()

    def on_unmount(self) -> None:
        self._quiet()

    # ---- the one batched update -------------------------------------------------------------
    def flush(self) -> None:
        src = self.source
        run = src.run
        result = src.results[-1] if src.results else None
        if run is not None:
            rows, missed = run.rows.rows(), set()  # the bounded selection the result will keep
        elif result is not None:
            rows = result.events
            violations = result.verdict.violations
            missed = {v.event for v in violations if v.code == "missing" and v.event}
            if any(v.code == "timeout" for v in violations) or (result.error is not None and result.verdict.first_event_s is None):
                missed = set(GOLDEN_EVENTS)
        else:
            rows, missed = [], set()
        story = tell(rows)
        self._verdict(run, result)
        for name in GOLDEN_EVENTS:
            widget = self.query_one(f"#pc-{name}", Static)
            lit = name in story.checkpoints
            only_class(widget, ("-lit", "-missed", "-waiting"), "-lit" if lit else "-missed" if name in missed else "-waiting")
            mark = "✔" if lit else "✗" if name in missed else "○"
            update_if_changed(widget, Text(f"{mark}  {checkpoint_line(name, story, missed=name in missed)}"))
        update_if_changed(self.query_one("#present-steps-text", Static), self._steps(story))
        if self.tier_board is not None:
            for spec in self.tier_board.specs:
                self._tile(spec, self.tier_board.states[spec.name])

    def _verdict(self, run: Any, result: Any) -> None:
        banner = self.query_one("#present-verdict", Static)
        if run is not None:
            # Answered, but judged only after the grace (docs/protocol.md §5.7): not "working" any more.
            text = "The agent has answered — checking for late events …" if run.contract.done else "The agent is working on the request …"
            state = "-running"
        elif result is None:
            text = "Press g to send a chat message" if hasattr(self.source, "opts") else "Replaying the recorded session …"
            state = "-idle"
        else:
            ok, sentence = headline(result)
            text, state = ("✔  " if ok else "✗  ") + sentence, "-passed" if ok else "-failed"
        only_class(banner, _STATES, state)
        update_if_changed(banner, Text(text, style="bold"))

    @staticmethod
    def _steps(story: Story) -> Text:
        if not story.steps:
            return Text("No steps yet.", style="dim")
        lines = []
        for step in story.steps:
            times = f" ×{step.count}" if step.count > 1 else ""
            when = "" if step.offset is None else f"  +{step.offset:.2f} s"
            lines.append(Text.assemble("   " * step.depth + ("└ " if step.depth else ""), step.words + times, (when, "dim")))
        return Text("\n").join(lines)

    def _tile(self, spec: Any, state: Any) -> None:
        tile = self.query_one(f"#tile-{spec.name}", Static)
        res = state.result
        target = f"target {spec.target * 100:.0f} %"
        if state.status in ("running", "queued"):
            body, cls = f"{spec.title}\n\nrunning …\n{target}", "-running"
        elif res is None:
            body, cls = f"{spec.title}\n\nnot run yet\n{target} · t runs it", "-idle"
        else:
            rate = "—" if res.pass_rate is None else f"{res.pass_rate * 100:.0f} %"
            ok = res.status == "passed"
            verdict = "✔ met" if ok else f"✗ {res.status}"
            body, cls = f"{spec.title}\n\n{rate}\n{verdict} · {target}", "-passed" if ok else "-failed"
        only_class(tile, _STATES, cls)
        update_if_changed(tile, Text(body, justify="center"))
