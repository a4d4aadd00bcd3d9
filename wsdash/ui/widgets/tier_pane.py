"""The tier pane: a card per tier (status, progress, counts, pass rate against target)."""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from wsdash.core.redact import scrub
from wsdash.services.tiers.board import QUEUED, RUNNING, TierBoard, TierState
from wsdash.ui.widgets.distinct import fit_distinct
from wsdash.ui.widgets.refresh import only_class, update_if_changed

BAR_W = 20
_STATUS_CLASSES = tuple(f"-{s}" for s in ("idle", "queued", "running", "passed", "failed", "blocked", "error", "cancelled", "timeout"))
# short enough that a card line holds all of them at the narrowest width
_COUNT_LABELS = (("passed", "passed"), ("failed", "failed"), ("error", "error"), ("skipped", "skip"), ("xfailed", "xfail"), ("xpassed", "xpass"))


def _bar(done: int, total: int | None, width: int = BAR_W) -> str:
    if not total:
        return "░" * width
    filled = min(width, round(width * done / total))
    return "█" * filled + "░" * (width - filled)


# pytest options whose value is the next word (`--opt=value` is one word either way); any other
# option is a flag. Only -m and -k (and the paths) say which tests run: the rest is plumbing.
_SELECTING = ("-m", "-k")
_TAKES_VALUE = frozenset({
    "-m", "-k", "-p", "-o", "-c", "-W", "-n", "-r", "--rootdir", "--basetemp", "--confcutdir", "--junitxml",
    "--junit-xml", "--tb", "--maxfail", "--ignore", "--ignore-glob", "--deselect", "--durations", "--timeout",
    "--log-level", "--log-cli-level", "--cov", "--cov-report", "--cov-config", "--cov-fail-under", "--dist",
    "--import-mode", "--capture", "--override-ini", "--pyargs", "--html",
})


def _pytest_words(args: Sequence[str]) -> list[str]:
    words: list[str] = ["pytest"]
    it = iter(args)
    for word in it:
        if not word.startswith("-") or word == "-":
            words.append(word)
            continue
        name, eq, value = word.partition("=")
        selector = next((s for s in _SELECTING if name == s or (not eq and name.startswith(s) and len(name) > 2)), None)
        if selector is not None:  # -m EXPR, -m=EXPR, -mEXPR
            expr = value if eq else word[2:] if len(word) > 2 else next(it, "")
            words += [selector, repr(expr) if " " in expr else expr]
        elif name in _TAKES_VALUE and not eq:
            next(it, None)
    return words


def short_command(spec: Any) -> str:
    """The tier's command for a card: which tests it runs, in 30 columns. Absolute paths by their
    last part (a site-packages path says nothing there) and, for pytest, only the paths and the
    -m / -k selections; `wsdash tiers list` and the tier's detail show the command whole."""
    words = list(spec.command or ()) if spec.pytest is None else _pytest_words(spec.pytest)
    return " ".join(os.path.basename(w.rstrip("/\\")) if os.path.isabs(w) else w for w in words)


def card_text(st: TierState, *, command: bool = True, advice: Sequence[Mapping[str, Any]] = (), reasons: int = 2) -> Text:
    """The card's words; `command=False` where the whole command is shown already (the detail).

    A finished pytest tier says how many tests ran next to its pass rate, its top skip reasons
    and, with `advice` (TierBoard.advice), what the skips trace to and what to do."""
    spec = st.spec
    text = Text()
    status = st.status
    text.append(status.upper(), "bold")
    dur = st.duration_s
    if dur is not None and status != QUEUED and (st.result is None or st.result.started):  # no "0.0s" for a tier that never ran
        text.append(f"  {dur:.1f}s", "dim")
    text.append(f"  target {spec.target:.0%}", "dim")
    if spec.on_target:
        text.append(f"  on {spec.on_target}", "dim")
    # The current run only: a queued or running tier shows its own counts, never the last run's.
    counts = st.tally.counts if st.tally is not None and st.result is None else (st.result.counts if st.result else None)
    if status == RUNNING and st.tally is not None:
        total = st.tally.collected
        text.append(f"\n{_bar(st.tally.finished, total)} {st.tally.finished}/{total if total is not None else '?'}")
    if counts:
        parts = [f"{counts[k]} {label}" for k, label in _COUNT_LABELS if counts.get(k)]
        if parts:
            text.append("\n" + " · ".join(parts))
    result = st.result
    if result is not None and status not in (RUNNING, QUEUED):
        sk = result.skips
        if sk is not None:
            text.append(f"\n{sk.ran_text()}", "bold yellow" if sk.skipped else "")
        if result.pass_rate is not None:
            if result.target_met is None:
                judged = "not judged"
            elif result.target_met:
                judged = "target met"
            else:
                judged = "target missed" if result.pass_rate + 1e-12 < spec.target else "target not met"
            text.append(f"\npass rate {result.pass_rate:.1%} — {judged}", "bold")
        if result.message:  # why, right under the rate it explains
            text.append(f"\n{scrub(result.message)}", "italic")
        if sk is not None:
            shown = sk.groups[:reasons]
            # Two reasons that differ only at the end ("…for this run" / "…for that run") stay two.
            for g, reason in zip(shown, fit_distinct([scrub(g.reason) for g in shown], 60, start_first=True)):
                text.append(f"\n{g.count} × {reason}", "yellow")
            if 0 < reasons < len(sk.groups):  # reasons=0: listed elsewhere (the detail's groups)
                text.append(f"\n… {len(sk.groups) - reasons} more skip reason(s)", "dim")
            if sk.files_text():
                text.append(f"\n{sk.files_text()}", "yellow")
        for a in advice[:1]:
            text.append(f"\n{scrub(a['text'])}", "bold")
    elif status == "idle" and command:
        shown = short_command(spec)
        text.append("\n" + (shown if len(shown) <= 32 else shown[:31] + "…"), "dim")
    return text


class TierCard(Static, can_focus=True):
    BINDINGS = [
        Binding("enter", "open", "Open tier", tooltip="Tests as they stream, failures first, tracebacks"),
        Binding("o", "run_one", "Run this"),
        Binding("f", "rerun_failed", "Rerun failed"),
    ]

    class Open(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, pane: "TierPane", state: TierState) -> None:
        super().__init__(classes="card tier-card", id=f"tier-{state.spec.name}")
        self.pane = pane
        self.state = state
        self._version = -1

    def sync(self) -> None:
        st = self.state
        only_class(self, _STATUS_CLASSES, f"-{st.status}")
        advice = self.pane.board.advice(st.spec.name)
        update_if_changed(self, Text.assemble((f"{st.spec.title}\n", "bold"), card_text(st, advice=advice)))

    def action_open(self) -> None:
        self.post_message(self.Open(self.state.spec.name))

    def action_run_one(self) -> None:
        self.pane.run([self.state.spec.name])

    def action_rerun_failed(self) -> None:
        self.pane.rerun_failed([self.state.spec.name])


class TierPane(VerticalScroll, can_focus=False):
    """Owns the TierBoard; the app's `t`/`x` keys and the cards' keys call into it."""

    def __init__(self, specs: Sequence[Any], health: Any = None) -> None:
        super().__init__(id="tier-pane")
        self.border_title = "Tiers"
        self.board = TierBoard(specs, health)
        self._was_running = False
        self._worker: Any = None

    def on_mount(self) -> None:
        # What skip reasons can be traced to (the config's Docker, targets and token variables),
        # and the health board's word on them: the cards say why tests skipped and what to do.
        cfg = getattr(getattr(self.app, "settings", None), "config", None)
        if cfg is not None:
            from wsdash.services.tiers.causes import landmarks

            self.board.landmarks = landmarks(cfg)
        self.board.usable = self._usable

    def _usable(self) -> dict[str, bool | None]:
        health = getattr(self.app, "health_board", None)
        if health is None:
            return {}
        return {n: (r.usable if (r := health.result(n)) is not None else None) for n in health.names()}

    def compose(self):  # type: ignore[override]
        if not self.board.specs:
            yield Static("no tiers configured: add [[tiers]] to wsdash.toml", classes="pane-title")
        for st in self.board.states.values():
            yield TierCard(self, st)

    @property
    def running(self) -> bool:
        return self.board.running

    @property
    def has_failures(self) -> bool:
        return self.board.has_failures

    def sync(self) -> None:
        for card in self.query(TierCard):
            card.sync()
        if self.board.running != self._was_running:  # the footer's t / x follow the state
            self._was_running = self.board.running
            self.app.refresh_bindings()

    def _start(self, names: Sequence[str] | None, rerun_failed: bool) -> None:
        if self.board.running:
            self.app.notify("tiers are already running: x cancels", severity="warning")
            return
        self._worker = self.app.run_worker(self.board.run(names, rerun_failed=rerun_failed), name="tier runner", exit_on_error=False)

    def run_all(self) -> None:
        self._start(None, False)

    def run(self, names: Sequence[str]) -> None:
        self._start(names, False)

    def rerun_failed(self, names: Sequence[str] | None = None) -> None:
        states = [self.board.states[n] for n in names] if names else list(self.board.states.values())
        if not any(st.has_failures for st in states):  # said, not a run of nothing
            self.app.notify("no failed tests to rerun")
            return
        self._start(names, True)

    def cancel(self) -> None:
        if self.board.cancel():
            self.app.notify("cancelling: the running tier stops with a partial summary")

    def stop_now(self) -> None:
        """The app is ending: cancel the run, whose tier kills its whole process tree at once
        (no grace: nobody is left to read a partial summary)."""
        if self._worker is not None and not self._worker.is_finished:
            self._worker.cancel()
