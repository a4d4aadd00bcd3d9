"""Benchmark: the dashboard under a firehose, as a person sees it. Does it keep up, answer keys?

The embedded agent server runs in its own process and plays `burst:N` (N agent_thinking frames as
fast as the socket takes them). Two apps take the same burst, alternating, several rounds:

  dashboard  `make_app(AppSettings(mode="demo", url=...?scenario=burst:N))`: the stream worker process (the session),
             the EventStore, the 10 Hz flush, the event stream and tracker;
  bare       a bare Textual app with the same Header and Footer whose worker is a raw websockets
             recv loop + `json.loads` (the baseline: what Textual itself costs at this rate).

Mode `terminal` (the default; the goals are judged on it): each app in a real pseudo-terminal,
watched from outside through the `pyte` screen emulator (bench/terminal.py, bench/ui_terminal.py):

* frames/s to the painted verdict: `g` written to the terminal → the read that painted PASSED.
  `g` comes 1 s after "connected" is painted: past the dashboard's handshake wait (docs/protocol.md §3).
  Each app's 1-frame run right after takes its fixed cost out: (N − 1) / (T − T1) — for the
  dashboard mostly its 0.5 s grace before PASSED, which the bare app does not wait.
  Goal: dashboard ≥ 0.6 × bare, same run (the wall ratio, grace in, is printed too).
* key to painted, mid-burst: `?`, `esc`, `/`, `esc`, `↑`, `enter`, `esc`, `end`, one every
  0.4 s, each from writing its bytes to the read that painted its effect (the help's title, the
  filter box, …), counted only when painted before the verdict. Median and worst. Goals: worst
  < 150 ms, median < 100 ms. Also the same keys at idle, and the bare app's. A lone ESC waits out
  the escape delay before it is a key: Textual's 100 ms in the bare app, 50 ms in the dashboard
  (wsdash/ui/input_driver.py): part of what a person gets.

The screen emulator replays the stamped reads after the timed part, so it takes no CPU from the
apps while they are timed (bench/ui_terminal.py).

Mode `run-test` (in-process, `App.run_test()`, nothing painted): frames/s until the last frame is
counted, the worst event-loop stall (a task sleeping 5 ms records its lateness), and `?` → the
help screen on top (before it is painted).

    python bench/ui.py [--mode terminal|run-test|both] [--events 100000] [--rounds 3] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    ServerProcess, append_row, burst_url, common_args, machine, median, percentile, raw_connect,
    table_header, table_row, today, verdict,
)

SECTION = "ui"
GOAL_RATE, GOAL_STALL_MS, GOAL_KEY_MS = 20_000, 100.0, 150.0  # run-test mode (terminal mode: bench/ui_terminal.py)
SIZE = (120, 40)
TICK_S = 0.005
INTRO = ("`python bench/ui.py`: the dashboard under `App.run_test()` taking the `burst:N` scenario (server in its own "
         "process), against a bare Textual app with the same Header/Footer and a raw websockets loop. Frames/s from the "
         "message to the last frame counted; worst event-loop stall (a 5 ms ticker's lateness) during the burst; key "
         "latency (`?` → help screen on top) during the burst. Medians over rounds.")
HEADER = table_header([
    "date", "events × rounds", "dashboard ev/s (goal ≥ 20k)", "bare ev/s", "worst stall ms (goal < 100) dash / bare",
    "key ms median / worst (goal < 150) dash", "key ms bare", "machine",
])


@dataclass
class Probe:
    """What one app run measured."""

    total: int  # frames the app must count (after the message)
    sent_at: float | None = None  # loop time the message went out
    done_at: float | None = None  # loop time the last frame was counted
    ticks: list[tuple[float, float, float]] = field(default_factory=list)  # (loop time, lateness s, CPU s used meanwhile)
    keys: list[float] = field(default_factory=list)  # seconds from key to screen change
    keys_mounted: list[float] = field(default_factory=list)  # seconds from key to the help screen mounted
    cpu: list[float] = field(default_factory=list)  # process CPU time when the burst was seen to start, and at its end

    def cpu_us(self) -> float:
        """Process CPU µs per frame over the burst (steadier than wall time on a shared machine)."""
        return (self.cpu[1] - self.cpu[0]) / self.total * 1e6 if len(self.cpu) == 2 else float("nan")

    def rate(self) -> float:
        assert self.sent_at is not None and self.done_at is not None
        return self.total / (self.done_at - self.sent_at)

    def worst_stall(self) -> float:
        assert self.sent_at is not None and self.done_at is not None
        return max((late for t, late, _ in self.ticks if self.sent_at <= t <= self.done_at + TICK_S), default=0.0)

    def worst_busy(self) -> float:
        """The worst stall counted in this thread's CPU time: how long the loop was really busy
        (wall-clock stalls on a shared machine also include time the OS ran something else)."""
        assert self.sent_at is not None and self.done_at is not None
        return max((min(late, busy) for t, late, busy in self.ticks if self.sent_at <= t <= self.done_at + TICK_S), default=0.0)


async def ticker(probe: Probe) -> None:
    loop = asyncio.get_running_loop()
    cpu = time.thread_time  # this (the event loop's) thread's CPU time
    while True:
        t, c = loop.time(), cpu()
        await asyncio.sleep(TICK_S)
        now = loop.time()
        probe.ticks.append((now, now - t - TICK_S, cpu() - c))


async def press_during_burst(app: Any, probe: Probe, counted: Any, presses: int, help_type: type) -> None:
    """Send `?` (as the driver would), time until the help screen is on top, `escape`, repeat."""
    from textual import events

    loop = asyncio.get_running_loop()
    while counted() < probe.total // 10:  # well into the burst
        await asyncio.sleep(0.002)
    base = app.screen
    for _ in range(presses):
        if counted() >= probe.total:
            return
        t0 = loop.time()
        app._driver.send_message(events.Key("question_mark", "?"))
        while not isinstance(app.screen, help_type):
            await asyncio.sleep(0.001)
            if loop.time() - t0 > 10:
                raise RuntimeError("the help screen never opened")
        probe.keys.append(loop.time() - t0)
        screen = app.screen
        while not screen.is_mounted:
            await asyncio.sleep(0.001)
        probe.keys_mounted.append(loop.time() - t0)
        app._driver.send_message(events.Key("escape", None))
        while app.screen is not base:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.15)


async def wait_until(pred: Any, timeout: float, what: str) -> float:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        if loop.time() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)
    return loop.time()


# ---- the dashboard ----------------------------------------------------------------------------

async def run_dashboard(url: str, events: int, presses: int, freeze: bool = False) -> Probe:
    from wsdash.ui.app import make_app
    from wsdash.ui.settings import AppSettings
    from wsdash.ui.screens.help import HelpScreen

    app = make_app(AppSettings(mode="demo", url=burst_url(url, events), token_source=lambda: None, autorun=True, timeout_s=120))
    probe = Probe(total=events + 4)  # agent_started, N thinking, the tool pair, agent_completed
    async with app.run_test(size=SIZE) as pilot:
        if freeze:
            gc.collect()
            gc.freeze()
        tick = asyncio.create_task(ticker(probe))
        await wait_until(lambda: app.source is not None and app.source.run is not None and app.source.run.contract.sent_at is not None, 30, "the run to start")
        probe.cpu.append(time.process_time())
        run = app.source.run
        probe.sent_at = run.contract.sent_at
        before = 1  # connection_established arrived before the message (and is the store's first row)
        if app.store.row(0).event.type != "connection_established":
            raise RuntimeError(f"unexpected first frame {app.store.row(0).event.type!r}")

        def counted() -> int:
            return app.store.received - before

        keys = asyncio.create_task(press_during_burst(app, probe, counted, presses, HelpScreen))
        probe.done_at = await wait_until(lambda: counted() >= probe.total, 120, "every frame to be counted")
        probe.cpu.append(time.process_time())
        await keys
        await wait_until(lambda: bool(app.source.results), 10, "the run's result")
        tick.cancel()
        result = app.source.results[-1]
        if not result.verdict.completed:
            raise RuntimeError(f"the dashboard's run did not complete: {json.dumps(result.to_json())[:400]}")
        await pilot.pause()
    return probe


# ---- the baseline: a bare Textual app ---------------------------------------------------------

def bare_app(url: str, probe: Probe) -> Any:
    from textual.app import App, ComposeResult
    from textual.screen import ModalScreen
    from textual.widgets import Footer, Header, Static

    class BareHelp(ModalScreen[None]):
        BINDINGS = [("escape", "dismiss", "Back")]

        def compose(self) -> ComposeResult:
            yield Static("help")

    class BareApp(App[None]):
        BINDINGS = [("q", "quit", "Quit"), ("question_mark", "help", "Help")]
        help_type = BareHelp

        def __init__(self) -> None:
            super().__init__()
            self.received = 0

        def compose(self) -> ComposeResult:
            yield Header()
            yield Footer()

        def on_mount(self) -> None:
            self.run_worker(self.consume(), exit_on_error=False)

        def action_help(self) -> None:
            self.push_screen(BareHelp())

        async def consume(self) -> None:
            from wsdash.core.protocol import user_message

            loop = asyncio.get_running_loop()
            async with raw_connect(url) as ws:
                await ws.recv()  # connection_established
                await ws.send(json.dumps(user_message("burst", None, "bench")))
                probe.sent_at = loop.time()
                while True:
                    frame = json.loads(await ws.recv())
                    self.received += 1
                    if frame.get("type") == "agent_completed":
                        break

    return BareApp()


async def run_bare(url: str, events: int, presses: int, freeze: bool = False) -> Probe:
    probe = Probe(total=events + 4)
    app = bare_app(burst_url(url, events), probe)
    async with app.run_test(size=SIZE) as pilot:
        if freeze:
            gc.collect()
            gc.freeze()
        tick = asyncio.create_task(ticker(probe))
        await wait_until(lambda: probe.sent_at is not None, 30, "the message to be sent")
        probe.cpu.append(time.process_time())
        keys = asyncio.create_task(press_during_burst(app, probe, lambda: app.received, presses, app.help_type))
        probe.done_at = await wait_until(lambda: app.received >= probe.total, 120, "every frame to be counted")
        probe.cpu.append(time.process_time())
        await keys
        tick.cancel()
        await pilot.pause()
    return probe


WHAT_IF = ("gc-freeze",)  # run-test mode: gc.freeze() once the first screen is up, in both apps


def child(name: str, url: str, events: int, presses: int, what_if: list[str]) -> int:
    """One app, one burst, in this (fresh) process; prints one JSON line."""
    fn = run_dashboard if name == "dashboard" else run_bare
    probe = asyncio.run(fn(url, events, presses, "gc-freeze" in what_if))
    print(json.dumps({
        "rate": probe.rate(), "stall": probe.worst_stall(), "busy": probe.worst_busy(), "cpu_us": probe.cpu_us(),
        "keys": probe.keys, "keys_mounted": probe.keys_mounted,
    }))
    return 0


def spawn(name: str, url: str, events: int, presses: int, what_if: list[str]) -> dict[str, Any]:
    """Each app runs in a process of its own, as it would for real: no heap, caches or garbage
    left over from the previous round to slow the garbage collector down."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--url", url, "--events", str(events),
           "--presses", str(presses)] + [f"--what-if={w}" for w in what_if]
    proc = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=300, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(events: int, rounds: int, presses: int, what_if: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"dashboard": [], "bare": []}
    with ServerProcess() as srv:
        for i in range(rounds):
            order = ("dashboard", "bare") if i % 2 == 0 else ("bare", "dashboard")
            line = []
            for name in order:
                r = spawn(name, srv.url, events, presses, what_if)
                out[name].append(r)
                keys = ", ".join(f"{k * 1000:.0f}" for k in r["keys"])
                line.append(f"{name} {r['rate']:>8,.0f}/s stall {r['stall'] * 1000:5.1f} ms keys [{keys}] ms")
            print(f"round {i + 1}: " + "   ".join(line), flush=True)
    return out


def summarise(out: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    for name, runs in out.items():
        keys = [k * 1000 for r in runs for k in r["keys"]]
        mounted = [k * 1000 for r in runs for k in r["keys_mounted"]]
        s[name] = {
            "rate": median(r["rate"] for r in runs),
            "cpu_us": median(r["cpu_us"] for r in runs),
            "stall": median(r["stall"] * 1000 for r in runs),
            "stall_max": max(r["stall"] * 1000 for r in runs),
            "busy_max": max(r["busy"] * 1000 for r in runs),
            "key_median": median(keys) if keys else float("nan"),
            "key_worst": max(keys) if keys else float("nan"),
            "key_p90": percentile(keys, 0.9) if keys else float("nan"),
            "mounted_median": median(mounted) if mounted else float("nan"),
            "presses": len(keys),
        }
    return s


def report(s: dict[str, Any], events: int, rounds: int) -> None:
    d, b = s["dashboard"], s["bare"]
    print(f"\nburst of {events:,} frames, {rounds} rounds (medians; worst over all rounds in brackets)")
    print(f"{'':11}{'frames/s':>10}  {'CPU µs/frame':>12}  {'worst stall ms':>18}  {'of it busy':>10}  "
          f"{'key ms median / worst (n)':>28}  {'help mounted ms':>16}")
    for name, x in (("dashboard", d), ("bare", b)):
        print(f"{name:11}{x['rate']:>10,.0f}  {x['cpu_us']:>12.1f}  {x['stall']:>8.1f} [{x['stall_max']:>6.1f}]  {x['busy_max']:>10.1f}  "
              f"{x['key_median']:>10.1f} / {x['key_worst']:>6.1f} ({x['presses']})  {x['mounted_median']:>16.1f}")
    print(f"dashboard / bare frames/s: {d['rate'] / b['rate']:.2f}")
    print(f"goals: ≥ {GOAL_RATE:,} frames/s: {verdict(d['rate'] >= GOAL_RATE)};  worst stall < {GOAL_STALL_MS:.0f} ms: "
          f"{verdict(d['stall_max'] < GOAL_STALL_MS)};  key latency < {GOAL_KEY_MS:.0f} ms: {verdict(d['key_worst'] < GOAL_KEY_MS)}")


def run_test_mode(args: argparse.Namespace, rounds: int) -> None:
    s = summarise(measure(args.events, rounds, args.presses, args.what_if))
    report(s, args.events, rounds)
    if args.what_if:
        print(f"what-if: {', '.join(args.what_if)} (not written to BENCHMARKS.md)")
    elif not args.no_write:
        d, b = s["dashboard"], s["bare"]
        row = table_row([
            today(), f"{args.events:,} × {rounds}", f"{d['rate']:,.0f}", f"{b['rate']:,.0f}",
            f"{d['stall']:.0f} [{d['stall_max']:.0f}] / {b['stall']:.0f}", f"{d['key_median']:.0f} / {d['key_worst']:.0f}",
            f"{b['key_median']:.0f} / {b['key_worst']:.0f}", machine(),
        ])
        append_row(SECTION, HEADER, row, INTRO)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("terminal", "run-test", "both"), default="terminal",
                        help="terminal: in a pseudo-terminal, what is painted (default; the goals); run-test: in-process")
    parser.add_argument("--events", type=int, default=100_000, help="agent_thinking frames per burst (default 100000)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of both apps (default 3; quick 2)")
    parser.add_argument("--presses", type=int, default=5, help="run-test mode: `?` presses during each burst (default 5)")
    parser.add_argument("--what-if", action="append", default=[], choices=WHAT_IF,
                        help="run-test mode experiment: measure as if this change were made (both apps; implies --no-write)")
    parser.add_argument("--child", choices=("dashboard", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--pty-child", choices=("dashboard", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    common_args(parser)
    args = parser.parse_args(argv)
    if args.pty_child:
        from bench import ui_terminal

        return (ui_terminal.run_dashboard_child if args.pty_child == "dashboard" else ui_terminal.run_bare_child)(args.url)
    if args.child:
        return child(args.child, args.url, args.events, args.presses, args.what_if)
    rounds = args.rounds or (2 if args.quick else 3)
    if args.mode in ("terminal", "both"):
        from bench import ui_terminal

        ui_terminal.run_mode(args.events, rounds, args.no_write)
    if args.mode in ("run-test", "both"):
        run_test_mode(args, rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
