"""WsDashApp: wiring only. Screens and widgets render; the headless core does the work; what the
app is told at start is `ui/settings.AppSettings`.

One factory, `make_app(settings)`, serves the CLI (`wsdash`, `wsdash demo`, `wsdash replay`),
the tests and the screenshot script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from wsdash.core.errors import ClassifiedError
from wsdash.core.event_store import EventStore
from wsdash.core.private_files import make_private
from wsdash.core.redact import redact_url
from wsdash.core import exit_codes, gc_tuning
from wsdash.ui import exit_signals
from wsdash.ui.notifications import Notifier
from wsdash.ui.worker_errors import classify_worker_error
from wsdash.ui.screenshot import screenshot_name
from wsdash.ui.settings import AppSettings

TICK_S = 0.5  # finished runs to the history, auto-run's schedule


class WsDashApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "wsdash"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("g", "golden_path", "Golden path", tooltip="Run a golden path now"),
        Binding("r", "recheck", "Recheck", tooltip="Recheck health now and reconnect"),
        Binding("t", "run_tiers", "Tiers", tooltip="Run all tiers"),
        Binding("x", "cancel_tiers", "Cancel tiers", tooltip="Stop the running tier with a partial summary"),
        Binding("w", "auto_run", "Auto-run", tooltip="Run a golden path on a schedule ([watch] every_s), or stop"),
        Binding("space", "pause", "Pause", tooltip="Pause or resume the replay"),
        Binding("s", "speed", "Speed", tooltip="Replay speed ×1, ×10, as fast as possible"),
        Binding("p", "present", "Present", tooltip="The presentation view: plain words, big verdict, tier tiles"),
        Binding("d", "debug", "Debug", tooltip="Versions, config path, targets, terminal"),
        Binding("f2", "screenshot", "Screenshot", tooltip="Save an SVG screenshot in the working directory"),
    ]

    def get_driver_class(self) -> type[Any]:
        default = super().get_driver_class()
        if default.__name__ != "LinuxDriver":  # Windows, the web driver, a test's: as Textual chose
            return default
        from wsdash.ui.input_driver import driver_for, use_escape_delay

        use_escape_delay()
        return driver_for(default)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the keys that do something now (the footer follows the state)."""
        replay = self.settings.mode == "replay"
        if action in ("pause", "speed"):
            return replay
        if action == "run_tiers":
            return self.tier_pane is not None and not self.tier_pane.running
        if action == "cancel_tiers":
            return self.tier_pane is not None and self.tier_pane.running
        if action == "auto_run":
            return not replay
        if action == "recheck":  # nothing to probe or reconnect in a replay without health targets
            return not replay or self.health_board is not None
        return True

    def __init__(self, settings: AppSettings) -> None:
        super().__init__()
        self.settings = settings
        self.store = EventStore(settings.capacity)
        self.source: Any = None
        self.health_board: Any = None
        self.health_runs: Any = None  # ui/health_runs.HealthRuns: the checker joined to the runs
        self.tier_pane: Any = None
        self.notifier = Notifier(self.notify)
        from wsdash.ui.history_link import AutoRun, HistoryLink

        self.auto_run = AutoRun(settings.auto_run_every_s)
        self.history = HistoryLink(settings, self.run_worker, self._tell_from_thread) if settings.history is not None else None
        self.history_feed = self.history.feed if self.history is not None else None
        self._gc_threshold: tuple[int, ...] | None = None
        self._signals: list[int] = []  # handled by _end_on_signal while mounted
        self._ui_loop: Any = None  # the app's event loop, once mounted
        self.title = settings.title
        self.sub_title = redact_url(settings.url) if settings.url else ""

    # ---- start-up ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        s = self.settings
        if s.mode == "replay":
            from wsdash.services.session.replay import ReplayPlayer

            self.source = ReplayPlayer(s.replay_path, self.store, s.budget_overrides, speed=s.replay_speed)
        else:
            from wsdash.services.session.handshake import SessionOptions

            opts = SessionOptions(url=s.url, auth=s.auth, tls_verify=s.tls_verify, budgets=s.budgets, timeout_s=s.timeout_s)
            if s.stream_worker:
                # The socket, the judge and the recorder in a process of their own: a burst then
                # fills the other core, not this event loop, which stays free for keys and drawing.
                from wsdash.services.session.remote import RemoteSession

                self.source = RemoteSession(opts, s.token_source, self.store, record_dir=s.record_dir,
                                            tell=self._tell_any_thread, autorun=s.autorun)
            else:
                from wsdash.services.session.live import LiveSession
                from wsdash.services.session.record_runs import recorder_factory

                factory = None
                if s.record_dir:
                    factory = recorder_factory(s.record_dir, lambda: self.source.status.runs + 1, self._tell_any_thread)
                self.source = LiveSession(opts, s.token_source, self.store, listener_factory=factory)
                if s.autorun:
                    self.source.request_run()
        if s.health_names:
            self._start_health()
        if s.tiers is not None:
            from wsdash.ui.widgets.tier_pane import TierPane

            health = s.tier_health or (self.health_board.ensure if self.health_board is not None else None)
            self.tier_pane = TierPane(s.tiers, health=health)
        self.push_screen(self._dashboard())
        if s.present:
            self.action_present()
        import asyncio

        self._ui_loop = asyncio.get_running_loop()
        self._handle_signals()
        # After the first paint: connecting and probing import websockets, httpx and build SSL
        # contexts (~0.4 s), which the first frame need not wait for.
        self.call_after_refresh(self._start_workers)

    def _start_workers(self) -> None:
        self.run_worker(self.source.run_forever(), name="event stream", exit_on_error=False)
        if self.health_board is not None:
            from wsdash.services.health.board import poll

            self.run_worker(poll(self.health_board, self.settings.health_interval_s), name="health", exit_on_error=False)
        self._gc_threshold = gc_tuning.tune_for_bursts()
        if self.settings.mode != "replay":
            if self.history is not None:
                self.run_worker(self._load_history, thread=True, name="history", exit_on_error=False)
            self.set_interval(TICK_S, self._tick)
        for note in self.settings.notes:
            self.tell(note, severity="warning", timeout=8)

    def _load_history(self) -> None:
        assert self.history is not None
        older = self.history.load()
        if older is not None:
            self.call_from_thread(self.history.feed.load, older)

    def _tick(self) -> None:
        """Runs finished since the last tick go to the history; auto-run starts one when due."""
        if self.history is not None:
            self.history.tick(self.source, self.tier_pane)
        if self.health_runs is not None and self.health_runs.run_finished() and self.health_board is not None:
            self.health_board.recheck_now()  # the card says what the run just showed, not a poll later
        self.auto_run.tick(self.source)

    def _tell_from_thread(self, message: str, **kwargs: Any) -> None:
        self.call_from_thread(self.tell, message, **kwargs)


    def _handle_signals(self) -> None:
        import asyncio

        self._signals = exit_signals.install(asyncio.get_running_loop(), self._end_on_signal)

    def on_terminal_gone(self, _message: Any) -> None:  # ui/input_driver.TerminalGone
        self._end_on_signal()

    def _end_on_signal(self) -> None:
        if self.tier_pane is not None:
            self.tier_pane.stop_now()
        # Ended from outside (a kill, a closed terminal), not by `q`: exit 130 as every command does.
        self.exit(return_code=exit_codes.INTERRUPTED)

    def _tell_any_thread(self, message: str, severity: str = "information", timeout: float = 5) -> None:
        """`tell` from any thread (the recorder's timer, the stream worker's pipe): onto the loop."""
        from functools import partial

        try:
            self._ui_loop.call_soon_threadsafe(partial(self.tell, message, severity=severity, timeout=timeout))
        except RuntimeError:  # the app has closed its loop: nobody left to tell
            pass

    def _dashboard(self) -> Screen[None]:
        from wsdash.ui.screens.dashboard import DashboardScreen

        return DashboardScreen(self.source, self.settings.health_names, self.tier_pane, lead=self.settings.target)

    def _start_health(self) -> None:
        from wsdash.services.health.board import HealthBoard

        s = self.settings
        checker = s.checker
        if checker is None:
            from wsdash.ui.health_runs import HealthRuns

            self.health_runs = HealthRuns(s, lambda: self.source, self.history_feed,
                                          lambda m: self.tell(f"run history: {m}", severity="warning", timeout=8))
            checker = self.health_runs.checker()
        self.health_board = HealthBoard(checker)
        self.health_board.subscribe(self._health_changed)
        self.health_board.subscribe_failures(self._health_check_failed)

    def _label(self, name: str) -> str:
        return next((label for n, label in self.settings.health_names if n == name), name)

    def _health_changed(self, result: Any, previous: str | None) -> None:
        if previous is None or result.status == previous:
            return  # the card shows the first result; only changes are news
        if result.status == "down":
            self.tell(f"{self._label(result.name)} is down: {result.hint or 'see its card'}", severity="warning")
        elif previous == "down" and result.status == "up":
            self.tell(f"{self._label(result.name)} is back up")

    def _health_check_failed(self, error: ClassifiedError, names: tuple[str, ...] | None) -> None:
        # The same failure every round is one toast, counted (the Notifier); the card keeps saying it.
        what = "the health check" if names is None else "the check of " + ", ".join(self._label(n) for n in names)
        self.tell(f"{what} failed: {error.message} — {error.hint}", severity="error", timeout=8)

    # ---- errors are UI ----------------------------------------------------------------------
    def tell(self, message: str, *, severity: str = "information", timeout: float = 5) -> None:
        self.notifier.tell(message, severity=severity, timeout=timeout)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            from wsdash.ui.screens.error_screen import ErrorScreen

            classified = classify_worker_error(event.worker.error)
            self.push_screen(ErrorScreen(event.worker.name or "a background task", classified))

    # ---- actions ----------------------------------------------------------------------------
    def action_present(self) -> None:
        from wsdash.ui.screens.present import PresentScreen

        if isinstance(self.screen, PresentScreen):
            self.pop_screen()
            return
        board = self.tier_pane.board if self.tier_pane is not None else None
        self.push_screen(PresentScreen(self.source, board))

    def action_help(self) -> None:
        from wsdash.ui.screens.help import HelpScreen

        # Installed: built once, kept when closed. Opening it again costs no compose and no
        # stylesheet pass, and closing it no removal of its widgets (~20-40 ms each in a burst).
        if not self.is_screen_installed("help"):
            self.install_screen(HelpScreen(), "help")
        self.push_screen("help")

    def action_debug(self) -> None:
        from wsdash.ui.screens.debug_info import DebugInfoScreen

        self.push_screen(DebugInfoScreen())

    def action_golden_path(self) -> None:
        if self.source is None:
            return
        from wsdash.services.session.live import CONNECTED, RUNNING

        if self.settings.mode != "replay" and self.source.status.state not in (CONNECTED, RUNNING):
            # Not queued: a chat message sent to a backend minutes later, unasked, would surprise.
            state = self.source.status.state
            self.source.reconnect_now()
            doing = "connecting" if state == "connecting" else "reconnecting now"
            self.tell(f"not connected yet ({state}): {doing} — press g again once connected", severity="warning")
            return
        if not self.source.request_run():
            self.tell("a golden path is already running")
        elif self.settings.mode == "replay":
            self.tell("replaying from the start")

    def action_recheck(self) -> None:
        if self.health_board is not None:
            self.health_board.recheck_now()
        if self.source is not None:
            self.source.reconnect_now()
        self.tell("rechecking health now")

    def action_run_tiers(self) -> None:
        if self.tier_pane is None:
            self.tell("no tiers configured")
            return
        self.tier_pane.run_all()

    def action_cancel_tiers(self) -> None:
        if self.tier_pane is not None:
            self.tier_pane.cancel()

    def action_auto_run(self) -> None:
        on = self.auto_run.toggle()
        if self.history_feed is not None:
            self.history_feed.set_note(self.auto_run.note)
        if on:
            self.tell(f"auto-run on: a golden path every {self.auto_run.every_s:g} s ([watch] every_s) — w stops it")
            self.auto_run.tick(self.source)
        else:
            self.tell("auto-run off")

    def action_pause(self) -> None:
        if hasattr(self.source, "toggle_pause"):
            self.tell("paused" if self.source.toggle_pause() else "resumed")

    def action_speed(self) -> None:
        if hasattr(self.source, "cycle_speed"):
            speed = self.source.cycle_speed()
            self.tell("speed: as fast as possible" if speed == float("inf") else f"speed ×{speed:g}")

    def action_screenshot(self) -> None:
        try:
            path = self.save_screenshot(filename=screenshot_name(self.settings.mode), path=str(Path.cwd()))
            make_private(path)  # the screen can show what a user would not share by accident
        except OSError as exc:
            self.tell(f"could not save the screenshot in {Path.cwd()}: {exc.strerror or exc}", severity="error")
            return
        self.tell(f"screenshot saved to {path}")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.settings.mode == "replay":
            yield SystemCommand("Replay from the start", "Play the recording again", self.action_golden_path)
            yield SystemCommand("Pause / resume replay", "Toggle the replay", self.action_pause)
            yield SystemCommand("Replay speed", "Cycle ×1, ×10, as fast as possible", self.action_speed)
        else:
            yield SystemCommand("Run a golden path", "Send a chat message and judge the five events (g)", self.action_golden_path)
            yield SystemCommand("Auto-run on/off", f"A golden path every {self.auto_run.every_s:g} s (w)", self.action_auto_run)
        if self.check_action("recheck", ()):
            yield SystemCommand("Recheck health", self._recheck_help(), self.action_recheck)
        if self.tier_pane is not None:
            if self.tier_pane.running:
                yield SystemCommand("Cancel tiers", "Stop the running tier with a partial summary (x)", self.action_cancel_tiers)
            else:
                titles = ", ".join(spec.title for spec in self.tier_pane.board.specs)
                yield SystemCommand("Run all tiers", f"{titles} (t)", self.action_run_tiers)
                if self.tier_pane.has_failures:
                    yield SystemCommand("Rerun failed tests", "Only the failed node ids of the last run", self.tier_pane.rerun_failed)
        yield SystemCommand("Filter events", "Filter the event stream by type or text (/)", self._filter)
        yield SystemCommand("Debug info", "Versions, config path, targets, terminal (d)", self.action_debug)
        yield SystemCommand("Save screenshot", "Save an SVG of the screen (f2)", self.action_screenshot)

    def _recheck_help(self) -> str:
        """What r does, from what this dashboard probes and streams (never a fixed list of names)."""
        probed = [label for _, label in self.settings.health_names]
        reconnect = self.settings.mode != "replay"
        if not probed:
            return "Reconnect now (r)"
        names = probed[0] if len(probed) == 1 else ", ".join(probed[:-1]) + " and " + probed[-1]
        return f"Probe {names} now" + (" and reconnect" if reconnect else "") + " (r)"

    async def _filter(self) -> None:
        import inspect

        action = getattr(self.screen, "action_filter", None)  # the dashboard's is async, the tier detail's not
        if action is not None:
            result = action()
            if inspect.isawaitable(result):
                await result

    async def on_unmount(self) -> None:
        if self.tier_pane is not None:  # quitting with a tier running: its whole tree goes now
            self.tier_pane.stop_now()
        if self.source is not None:
            self.source.stop()
            closed = getattr(self.source, "closed", None)
            if closed is not None:  # the stream worker: its last batch has the run it just finished
                await closed()
            if self.history is not None:  # a run that ended as we quit (or just before) is kept too
                self.history.write(self.history.collect(self.source, self.tier_pane))
        gc_tuning.restore(self._gc_threshold)
        if self._signals:
            import asyncio

            exit_signals.remove(asyncio.get_running_loop(), self._signals)


def make_app(settings: AppSettings) -> WsDashApp:
    gc_tuning.freeze_imports()
    return WsDashApp(settings)
