"""`enter` on a tier card: its tests as they stream (failures first), the selected test's
traceback and output, and a filter."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from wsdash.core.redact import scrub
from wsdash.services.tiers.board import TierState
from wsdash.ui.widgets.key_footer import KeyFooter
from wsdash.ui.widgets.tier_pane import card_text

_OUTCOME_STYLE = {"passed": "green", "failed": "bold red", "error": "bold red", "skipped": "yellow", "xfailed": "dim", "xpassed": "yellow"}


class TierDetailScreen(ModalScreen[None]):
    # Under 30 rows the modal takes the whole screen and its header lines shrink, so the list of
    # tests keeps rows when the filter box opens (at 80×24 it had none).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter"),
        Binding("o", "run_one", "Run this tier"),
        Binding("f", "rerun_failed", "Rerun failed"),
    ]

    def __init__(self, state: TierState, pane: Any = None) -> None:
        super().__init__()
        self.pane = pane  # the TierPane that runs tiers (the same keys as on its card)
        self._was_running = False
        self.state = state
        self._shown_version = -1
        self._needle = ""
        self._shown_tests: list = []

    def compose(self) -> ComposeResult:
        # The breakpoint class now, not at the first resize: a modal opened at 80×24 would show
        # the tall layout (and a filtered list with no rows) until the terminal changed size.
        height = self.app.size.height
        self.update_classes({name: name == next(n for edge, n in reversed(self.VERTICAL_BREAKPOINTS) if height >= edge)
                             for _, name in self.VERTICAL_BREAKPOINTS}, update=False)
        with Vertical(id="tier-detail"):
            yield Static(self.state.spec.title, id="tier-detail-title", markup=False)
            yield Static(Text("$ " + scrub(self.state.spec.display_command()), "dim"), id="tier-detail-command")
            yield Static(id="tier-detail-summary")
            yield Input(placeholder="filter tests: part of a node id, or an outcome (failed, skipped…)", id="tier-filter")
            yield DataTable(id="tests", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="traceback-box"):
                yield Static(id="traceback", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("outcome", "test", "phase", "duration")
        self.query_one("#tier-filter", Input).display = False
        self.set_interval(0.1, self.sync)
        self.sync()
        table.focus()

    def sync(self) -> None:
        st = self.state
        running = self.pane is not None and self.pane.running
        if running != self._was_running:  # o / f are offered only while no tier runs (and f on failures)
            self._was_running = running
            self.refresh_bindings()
        summary = card_text(st, command=False)
        if st.status == "idle":
            busy = self.pane is not None and self.pane.running
            summary.append("\nnot run yet" + (" (another tier is running)" if busy else ": o runs this tier"), "italic")
        self.query_one("#tier-detail-summary", Static).update(summary)
        if st.version == self._shown_version:
            return
        self._shown_version = st.version
        table = self.query_one(DataTable)
        tests = st.sorted_tests(self._needle)
        shown = self._shown_tests
        # Keep the selected test selected as results stream in and re-sort (failures first).
        selected = shown[table.cursor_row].nodeid if 0 <= table.cursor_row < len(shown) else None
        self._shown_tests = tests
        table.clear()
        keep = next((i for i, t in enumerate(tests) if t.nodeid == selected), 0)
        for i, t in enumerate(tests):
            # Text, not str: a parametrized id like test_x[nested] is not markup.
            table.add_row(Text(t.outcome, _OUTCOME_STYLE.get(t.outcome, "")), Text(scrub(t.nodeid)), t.phase, f"{t.duration_s:.2f}s", key=str(i))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
            self._show(min(keep, table.row_count - 1))
        elif self._needle and st.tests:  # not the last run's output, as if nothing had run
            self.query_one("#traceback", Static).update(f"no test matches {self._needle!r} — esc clears the filter")
        elif st.result is not None and st.result.last_output:
            self.query_one("#traceback", Static).update(scrub("\n".join(st.result.last_output[-40:])))

    def _show(self, row: int) -> None:
        tests = self._shown_tests
        if not 0 <= row < len(tests):
            return
        t = tests[row]
        body = t.longrepr or t.message or f"{t.outcome} in {t.duration_s:.3f}s"
        if t.output:
            body += "\n\n── captured output ──\n" + t.output
        self.query_one("#traceback", Static).update(scrub(f"{t.nodeid}\n\n{body}"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(event.cursor_row)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("run_one", "rerun_failed"):
            if self.pane is None or self.pane.running:
                return False
            return action == "run_one" or self.state.has_failures
        return True

    def action_run_one(self) -> None:
        self.pane.run([self.state.spec.name])

    def action_rerun_failed(self) -> None:
        self.pane.rerun_failed([self.state.spec.name])

    def action_filter(self) -> None:
        box = self.query_one("#tier-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._needle = event.value.strip()
        self._shown_version = -1
        self.sync()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def action_back(self) -> None:
        box = self.query_one("#tier-filter", Input)
        if box.has_focus and box.value:
            box.value = ""
            return
        self.dismiss()
