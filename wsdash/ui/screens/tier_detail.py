"""`enter` on a tier card: its tests as they stream (failures first), the selected test's
traceback and output, a filter, and the skip reasons as groups you open (enter on a group shows
its tests, what it traces to and what to do; no_skip tests that did not run are the first group)."""

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
from wsdash.ui.widgets.distinct import cut, fit_distinct, shared_prefix
from wsdash.ui.widgets.tier_pane import card_text

_OUTCOME_STYLE = {"passed": "green", "failed": "bold red", "error": "bold red", "skipped": "yellow", "xfailed": "dim", "xpassed": "yellow"}


NO_SKIP_GROUP = "no_skip"  # the key of the group of no_skip tests that did not run


def _room(table: DataTable) -> int:
    """The columns a table can show without scrolling sideways (0 before it is laid out)."""
    return max(0, table.scrollable_content_region.width - 2)  # 2: a vertical scrollbar may come


def _col(header: str, cells: list[str]) -> int:
    """The width a DataTable gives a column of these cells: the widest, plus its padding."""
    return max([len(header), *map(len, cells)]) + 2


class TierDetailScreen(ModalScreen[None]):
    # Under 30 rows the modal takes the whole screen and its header lines shrink, so the list of
    # tests keeps rows when the filter box opens (at 80×24 it had none).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    DEFAULT_CSS = """
    #skip-groups { height: auto; max-height: 20%; margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter"),
        Binding("g", "groups", "Skip reasons"),
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
        self._group: str | None = None  # the open skip group's key: the table shows its tests
        self._group_keys: list[str] = []
        self._groups_of: Any = None  # the result whose groups the table shows
        self._widths = (0, 0)  # the tables' widths the rows were cut for: a resize cuts them again

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
            yield DataTable(id="skip-groups", cursor_type="row")
            yield Input(placeholder="filter tests: part of a node id, or an outcome (failed, skipped…)", id="tier-filter")
            yield DataTable(id="tests", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="traceback-box"):
                yield Static(id="traceback", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        groups = self.query_one("#skip-groups", DataTable)
        groups.display = False
        # The tests and the selected one's text share what the summary and the groups leave
        # (inline: the app's stylesheet gives the text box a fixed share otherwise).
        self.query_one("#traceback-box").styles.height = "1fr"
        # A long verdict (skips, advice, no_skip) scrolls rather than push the tests off a small screen.
        summary = self.query_one("#tier-detail-summary")
        summary.styles.max_height = "30%"
        summary.styles.overflow_y = "auto"
        table = self.query_one("#tests", DataTable)
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
        advice = self.pane.board.advice(st.spec.name) if self.pane is not None else []
        summary = card_text(st, command=False, advice=advice, reasons=0)
        if self._group is not None:
            summary.append(f"\nshowing one group: {self._group_title()} — esc shows all tests", "bold")
        if st.status == "idle":
            busy = self.pane is not None and self.pane.running
            summary.append("\nnot run yet" + (" (another tier is running)" if busy else ": o runs this tier"), "italic")
        self.query_one("#tier-detail-summary", Static).update(summary)
        widths = (_room(self.query_one("#tests", DataTable)), _room(self.query_one("#skip-groups", DataTable)))
        if widths != self._widths:  # laid out, or resized: cut the rows for the new width
            self._widths, self._shown_version, self._groups_of = widths, -1, None
        self._sync_groups(advice)
        if st.version == self._shown_version:
            return
        self._shown_version = st.version
        table = self.query_one("#tests", DataTable)
        tests = st.sorted_tests(self._needle)
        members = self._group_members()
        if members is not None:
            tests = [t for t in tests if t.nodeid in members]
        shown = self._shown_tests
        # Keep the selected test selected as results stream in and re-sort (failures first).
        selected = shown[table.cursor_row].nodeid if 0 <= table.cursor_row < len(shown) else None
        self._shown_tests = tests
        table.clear(columns=True)
        keep = next((i for i, t in enumerate(tests) if t.nodeid == selected), 0)
        outcomes = [Text(f"{t.outcome} (no_skip)", "bold red") if t.failing and t.outcome == "skipped"
                    else Text(t.outcome, _OUTCOME_STYLE.get(t.outcome, "")) for t in tests]
        phases = [t.phase for t in tests]
        durations = [f"{t.duration_s:.2f}s" for t in tests]
        # What the node ids share is said once, in the header; each row keeps what tells it apart.
        ids = [scrub(t.nodeid) for t in tests]
        prefix = shared_prefix(ids)
        room = self._widths[0] - sum(_col(h, [str(c) for c in col]) for h, col in
                                     (("outcome", outcomes), ("phase", phases), ("duration", durations))) - 2
        names = fit_distinct([i[len(prefix):] for i in ids], room)
        header = "test"
        if prefix:  # its end (the file, the class) matters most
            header = "test · in " + (cut(prefix, max(room - 10, 8), len(prefix)) if room > 0 else prefix)
        table.add_columns("outcome", header, "phase", "duration")
        for i, (outcome, name, phase, duration) in enumerate(zip(outcomes, names, phases, durations)):
            # Text, not str: a parametrized id like test_x[nested] is not markup.
            table.add_row(outcome, Text(name), phase, duration, key=str(i))
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
            self._show(min(keep, table.row_count - 1))
        elif self._needle and st.tests:  # not the last run's output, as if nothing had run
            self.query_one("#traceback", Static).update(f"no test matches {self._needle!r} — esc clears the filter")
        elif st.result is not None and st.result.last_output:
            self.query_one("#traceback", Static).update(scrub("\n".join(st.result.last_output[-40:])))

    # ---- skip groups ---------------------------------------------------------------------------
    def _groups(self) -> list[tuple[str, int, str, str]]:
        """(key, count, reason, traced to) rows: no_skip failures first, then the skip reasons."""
        result = self.state.result
        sk = result.skips if result is not None else None
        if sk is None:
            return []
        rows = []
        if sk.no_skip_count:
            rows.append((NO_SKIP_GROUP, sk.no_skip_count, f"{sk.no_skip_marker or 'no_skip'} tests that did not run (failures)", ""))
        rows += [(g.key, g.count, g.reason, (g.cause or "").split(":", 1)[-1]) for g in sk.groups]
        return rows

    def _sync_groups(self, advice: list) -> None:
        result = self.state.result
        if result is self._groups_of:
            return
        self._groups_of = result
        box = self.query_one("#skip-groups", DataTable)
        box.clear(columns=True)  # a column keeps the width of its widest cell ever: cut rows need new ones
        box.add_columns("tests", "skip reason", "traced to")
        rows = self._groups()
        self._group_keys = [key for key, *_ in rows]
        room = self._widths[1] - _col("tests", [str(c) for _, c, _, _ in rows]) - _col("traced to", [c for *_, c in rows]) - 2
        reasons = fit_distinct([scrub(reason) for _, _, reason, _ in rows], room, start_first=True)  # similar reasons stay told apart
        for (key, count, _, cause), reason in zip(rows, reasons):
            style = "bold red" if key == NO_SKIP_GROUP else "yellow"
            box.add_row(Text(str(count), style), Text(reason, style), cause, key=key)
        box.display = bool(rows)
        if self._group is not None and self._group not in self._group_keys:
            self._group = None

    def _group_members(self) -> set[str] | None:
        result = self.state.result
        if self._group is None or result is None or result.skips is None:
            return None
        if self._group == NO_SKIP_GROUP:
            return {n for n, _ in result.skips.no_skip}
        return next((set(g.nodeids) for g in result.skips.groups if g.key == self._group), set())

    def _group_title(self) -> str:
        return next((f"{count} × {reason}" for key, count, reason, _ in self._groups() if key == self._group), "")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "skip-groups":
            return
        self._group = self._group_keys[event.cursor_row] if 0 <= event.cursor_row < len(self._group_keys) else None
        self._shown_version = -1
        self.sync()
        self._show_group()
        self.query_one("#tests", DataTable).focus()

    def _show_group(self) -> None:
        """The open group in the lower box: its reasons as written, what it traces to, the tests."""
        result = self.state.result
        if self._group is None or result is None or result.skips is None:
            return
        sk = result.skips
        if self._group == NO_SKIP_GROUP:
            lines = [f"{n}\n    {why}" for n, why in sk.no_skip]
            if sk.no_skip_unlisted:
                lines.append(f"… and {sk.no_skip_unlisted} more deselected")
            body = f"{sk.no_skip_count} {sk.no_skip_marker or 'no_skip'} test(s) did not run: each counts as a failure\n\n" + "\n".join(lines)
        else:
            g = next(g for g in sk.groups if g.key == self._group)
            said = [a["text"] for a in sk.advice if a["cause"] == g.cause]
            body = "\n".join([
                f"{g.count} × {g.reason}" + (f" ({g.at_collection} whole file(s) at import)" if g.at_collection else ""),
                *(f"  as written: {v}" for v in g.variants),
                *(["", *said] if said else []),
                "", *g.nodeids,
            ])
        self.query_one("#traceback", Static).update(scrub(body))

    def action_groups(self) -> None:
        box = self.query_one("#skip-groups", DataTable)
        if box.display:
            box.focus()

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
        if event.data_table.id == "tests":
            self._show(event.cursor_row)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "groups":
            return bool(self._groups())
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
        self.query_one("#tests", DataTable).focus()

    def action_back(self) -> None:
        box = self.query_one("#tier-filter", Input)
        if box.has_focus and box.value:
            box.value = ""
            return
        if self._group is not None:  # close the open group first
            self._group = None
            self._shown_version = -1
            self.sync()
            return
        self.dismiss()
