"""bench/ui.py's real-terminal mode: the dashboard and a bare Textual app, each in a pseudo-terminal
(bench/terminal.py), watched through the `pyte` screen emulator as a person would watch them.

Each run is a fresh process against the same server (`burst:N`, its own process). A round is
RATE_PAIRS pairs of rate runs — the dashboard's and the bare app's back to back, seconds apart, so
that both meet the machine at the same speed (this VM switches between two speeds ~1.4x apart every
few seconds; bench/common.machine_speed_ms is printed beside each run) — then a keys run of each:

  rate  `g` starts the run; T = from writing `g` to the read that painted PASSED. Nothing else
        is pressed. Each app's N-frame run is followed at once by its 1-frame run (T1), and its
        throughput is (N − 1) / (T − T1): what the frames cost, with the fixed cost of a run taken
        out — issue 11's own way of cancelling start-up in ingest. The fixed cost is mostly the
        dashboard's grace: it says PASSED once 0.5 s of listening for late frames is over
        (docs/protocol.md §5.7), which the bare app does not do. Judged on that throughput ratio
        since 4 December; the wall ratio N / T (grace in) and the one to the painted
        `● completed` checkpoint are printed beside it.
  keys  a burst KEYS_BURST times as long (the bare app takes 100,000 frames in about a second:
        too short for the whole script), `g`, then — once RUNNING is painted and a moment has
        passed — the script below, one key every KEY_EVERY_S, as a person types: each is timed
        from writing its bytes to the read that painted its effect. A key counts as mid-burst
        only when its effect was painted before the verdict; the script runs again at idle,
        after PASSED, for comparison.

The emulator is not run while an app is timed: the reader thread stamps every read as it comes
and the reads are replayed into the screen afterwards, in order (`Terminal.feed_until`, `wait`),
which gives the same "read that painted it" without pyte's work — a third of a core during a
burst, which a terminal's native renderer does not take — competing with the apps for the CPU.

The bare app (the baseline) has the dashboard's Header and Footer, a raw `websockets` recv loop +
`json.loads` (opened as wsdash opens its own: no compression), and the same keys doing the same
visible things at the least cost Textual allows: a modal with the help's title line, an Input with
the filter's placeholder, a "paused — end to follow" line, a modal with an inspector's title.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 40)
HELP = "wsdash — keys"  # the help screen's title line
FILTER = "filter: text, or type:"  # the filter box's placeholder
PAUSED = "end to follow"  # the stream header once the cursor leaves the tail
INSPECT = "event #"  # the inspector's title line
COMPLETED = "● completed"  # the tracker's last checkpoint, lit when agent_completed is shown
# (key, marker, True: the key makes it appear / False: disappear)
SCRIPT: list[tuple[str, str, bool]] = [
    ("?", HELP, True), ("escape", HELP, False), ("/", FILTER, True), ("escape", FILTER, False),
    ("up", PAUSED, True), ("enter", INSPECT, True), ("escape", INSPECT, False), ("end", PAUSED, False),
]
GOAL_RATIO, GOAL_KEY_MEDIAN_MS, GOAL_KEY_WORST_MS = 0.6, 100.0, 150.0  # dashboard ÷ bare frames/s; keys mid-burst
SECTION = "ui-terminal"
INTRO = ("`python bench/ui.py` (terminal mode, the default): each app in a pseudo-terminal watched through `pyte`; frames/s "
         "from writing `g` (1 s after \"connected\" is painted; before 3 December 0.2 s, inside the dashboard's "
         "handshake wait) to the read that painted PASSED (from 4 December: (N − 1) / (T − T1), T1 the same app's "
         "1-frame run right after, which takes the dashboard's 0.5 s grace out); key ms from writing a key to the read that painted its "
         "effect, mid-burst (`?`, `esc`, `/`, `esc`, `↑`, `enter`, `esc`, `end`), median / worst over all rounds.")
HEADER_COLUMNS = [
    "date", "events × rounds", "dashboard ev/s to painted PASSED, 1-frame time subtracted", "bare ev/s", "ratio (goal ≥ 0.6)",
    "wall ratio (fixed costs in)", "1-frame run ms dash / bare", "wall ratio to painted ● completed", "key ms mid-burst median / worst (goal < 100 / < 150) dash", "bare", "key ms at idle dash / bare", "machine",
]
START_AFTER_S = 0.3  # after RUNNING is painted: well into the burst
KEY_EVERY_S = 0.4  # one key this often, as a person types (longer than any key takes to paint)
KEYS_BURST = 5  # the keys run's burst, in multiples of the rate run's
SETTLE_S = 1.0  # after "connected" is painted, before `g` (see one())
RATE_PAIRS = 2  # rate runs of each app per round, paired back to back


# ---- the apps, run in the pseudo-terminal -----------------------------------------------------

def _run(app: Any) -> None:
    """`app.run()`; under cProfile when BENCH_PROFILE names a file for the stats (for looking into
    where a figure's time goes: `BENCH_PROFILE=/tmp/dash.prof python bench/ui.py ...`)."""
    import os

    out = os.environ.get("BENCH_PROFILE")
    if not out:
        app.run()
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.runcall(app.run)
    profiler.dump_stats(f"{out}.{os.getpid()}")


def run_dashboard_child(url: str) -> int:
    from wsdash.ui.app import make_app
    from wsdash.ui.settings import AppSettings

    _run(make_app(AppSettings(mode="demo", url=url, token_source=lambda: None, autorun=False, timeout_s=120)))
    return 0


def run_bare_child(url: str) -> int:
    import asyncio

    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.screen import ModalScreen
    from textual.widgets import Footer, Header, Input, Static

    from bench.common import raw_connect
    from wsdash.core.protocol import user_message

    class Titled(ModalScreen[None]):
        BINDINGS = [Binding("escape", "dismiss", "Back")]

        def __init__(self, title: str) -> None:
            super().__init__()
            self.title_text = title

        def compose(self) -> ComposeResult:
            yield Static(self.title_text)

    class Bare(App[None]):
        BINDINGS = [
            Binding("q", "quit", "Quit"), Binding("question_mark", "help", "Help", key_display="?"),
            Binding("g", "golden_path", "Golden path"), Binding("slash", "filter", "Filter"),
            Binding("escape", "back", show=False), Binding("up", "pause", show=False),
            Binding("end", "follow", "Follow"), Binding("enter", "inspect", "Inspect"),
        ]

        def __init__(self) -> None:
            super().__init__()
            self.ws: Any = None

        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("NO RUN YET  press g", id="verdict")
            yield Static("connecting", id="status")
            yield Static("", id="paused")
            yield Footer()

        def on_mount(self) -> None:
            self.run_worker(self.connect(), exit_on_error=False)

        async def connect(self) -> None:
            self.ws = await raw_connect(url).__aenter__()
            await self.ws.recv()  # connection_established
            self.query_one("#status", Static).update("connected")

        async def consume(self) -> None:
            await self.ws.send(json.dumps(user_message("burst", None, "bench")))
            self.query_one("#verdict", Static).update("RUNNING")
            recv, loads = self.ws.recv, json.loads
            while loads(await recv()).get("type") != "agent_completed":
                pass
            self.query_one("#verdict", Static).update(f"PASSED  {COMPLETED}")

        def action_golden_path(self) -> None:
            self.run_worker(self.consume(), exit_on_error=False)

        def action_help(self) -> None:
            self.push_screen(Titled(HELP + " (the bare baseline)"))

        def action_inspect(self) -> None:
            self.push_screen(Titled(INSPECT + "1 · inspector"))

        async def action_filter(self) -> None:
            box = Input(placeholder=FILTER + " (the bare baseline)", id="filter")
            await self.mount(box, before="#status")
            box.focus()

        async def action_back(self) -> None:
            for box in self.query("#filter"):
                await box.remove()

        def action_pause(self) -> None:
            self.query_one("#paused", Static).update("‖ paused — " + PAUSED)

        def action_follow(self) -> None:
            self.query_one("#paused", Static).update("")

    del asyncio
    _run(Bare())
    return 0


# ---- the parent: drive and watch --------------------------------------------------------------

def _has(marker: str) -> Callable[[str], bool]:
    return lambda screen: marker in screen


def _lacks(marker: str) -> Callable[[str], bool]:
    return lambda screen: marker not in screen


def _script(term: Any) -> list[tuple[str, str, bool, float]]:
    """Press the script's keys one every KEY_EVERY_S, as a person types, without looking: the
    emulator stays idle meanwhile (`_timed` reads the screen afterwards)."""
    sent = []
    for key, marker, appears in SCRIPT:
        sent.append((key, marker, appears, term.press(key)))
        time.sleep(KEY_EVERY_S)
    return sent


def _timed(term: Any, sent: list[tuple[str, str, bool, float]]) -> list[dict[str, Any]]:
    """Replay the reads into the screen, in order: each key's time is from writing its bytes to the
    read that painted its effect."""
    presses = []
    for key, marker, appears, t0 in sent:
        term.feed_until(t0)
        painted = term.wait(_has(marker) if appears else _lacks(marker), 30, f"{key!r} to {'show' if appears else 'clear'} {marker!r}")
        presses.append({"key": key, "ms": (painted - t0) * 1000, "painted": painted})
    return presses


def one(app: str, url: str, events: int, with_keys: bool) -> dict[str, Any]:
    from bench.common import burst_url
    from bench.terminal import Terminal

    argv = [sys.executable, str(ROOT / "bench" / "ui.py"), "--pty-child", app, "--url", burst_url(url, events)]
    with Terminal(argv, *SIZE) as term:
        term.wait(lambda s: "NO RUN YET" in s and "connected" in s, 60, "the app to start and connect")
        # Settled: past the start-up work and past the dashboard's handshake, which waits up to
        # SessionOptions.established_wait_s (0.5 s) for a handshake_response that the embedded
        # server (no --handshake) never sends (docs/protocol.md §3), while "connected" is already
        # on screen: a `g` pressed inside that wait starts the run when it ends, and the burst's
        # figure would carry up to 0.5 s that is not ingest.
        time.sleep(SETTLE_S)
        term.drain()
        term.watch("verdict", _has("PASSED"))
        term.watch("completed", _has(COMPLETED))
        passed = term.expect_bytes(b"PASSED")
        t0 = term.press("g")
        out: dict[str, Any] = {"app": app}
        if with_keys:
            term.wait(_has("RUNNING"), 30, "the run to start")
            time.sleep(START_AFTER_S)
            sent = _script(term)
            passed.wait(120)
            time.sleep(0.05)
            out["burst"] = _timed(term, sent)
            term.drain()
            if "verdict" not in term.seen:
                term.wait(_has("PASSED"), 120, "the verdict")
            verdict_at = term.seen["verdict"]
            for p in out["burst"]:
                p["mid_burst"] = p.pop("painted") < verdict_at
            time.sleep(0.3)
            term.drain()
            sent = _script(term)
            time.sleep(0.3)
            out["idle"] = _timed(term, sent)
            for p in out["idle"]:
                p["mid_burst"] = False
                del p["painted"]
        else:
            # The emulator stays out of the burst (pyte takes a third of a core painting it, which a
            # terminal's native renderer does not): the reader thread only stamps the reads and
            # looks for the verdict's bytes; the screen is replayed afterwards, read by read, and the
            # read that painted PASSED is the one timed.
            passed.wait(120)
            time.sleep(0.05)
            term.drain()
            if "verdict" not in term.seen:  # the bytes, but not yet the screen: wait as before
                term.wait(_has("PASSED"), 120, "the verdict PASSED")
            out["s"] = term.seen["verdict"] - t0
            out["s_completed"] = term.seen["completed"] - t0
            out["rate"] = events / out["s"]
            out["rate_completed"] = events / out["s_completed"]
        out["output_mb"] = term.output_bytes / 1e6
    return out


def measure(url: str, events: int, rounds: int, log: Callable[[str], None]) -> dict[str, list[dict[str, Any]]]:
    """Per round: RATE_PAIRS rate runs of each app, back to back (dashboard, bare / bare, dashboard,
    alternating), then one keys run of each. The two rate runs of a pair are seconds apart, so they
    share the machine's speed of the moment (bench/common.machine_speed_ms, printed beside each);
    the keys runs (a minute each) come after, not between them."""
    from bench.common import machine_speed_ms

    runs: dict[str, list[dict[str, Any]]] = {"dashboard": [], "bare": [], "pairs": [], "keys dashboard": [], "keys bare": []}
    pair = 0
    for i in range(rounds):
        parts = []
        for _ in range(RATE_PAIRS):
            order = ("dashboard", "bare") if pair % 2 == 0 else ("bare", "dashboard")
            pair += 1
            got: dict[str, dict[str, Any]] = {}
            for app in order:
                speed = machine_speed_ms()
                got[app] = one(app, url, events, with_keys=False) | {"speed_ms": speed}
                # The same app on a 1-frame burst, right after: its fixed cost (the dashboard's 0.5 s
                # grace, a tick) is subtracted from the long run's time, so the throughput is what
                # the N − 1 frames more cost (issue 11's own method for start-up, in ingest).
                got[app]["s_fixed"] = one(app, url, 1, with_keys=False)["s"]
                got[app]["rate_marginal"] = (events - 1) / (got[app]["s"] - got[app]["s_fixed"])
                runs[app].append(got[app])
            d, b = got["dashboard"], got["bare"]
            runs["pairs"].append({"ratio": d["rate"] / b["rate"], "ratio_completed": d["rate_completed"] / b["rate_completed"],
                                  "ratio_marginal": d["rate_marginal"] / b["rate_marginal"],
                                  "speeds": (d["speed_ms"], b["speed_ms"])})
            parts.append(f"{d['rate_marginal']:,.0f} / {b['rate_marginal']:,.0f}/s = {d['rate_marginal'] / b['rate_marginal']:.2f} "
                         f"(wall {d['rate'] / b['rate']:.2f}; fixed {d['s_fixed'] * 1000:.0f} / {b['s_fixed'] * 1000:.0f} ms; "
                         f"machine {d['speed_ms']:.1f} / {b['speed_ms']:.1f} ms)")
        log(f"round {i + 1}: dashboard / bare " + ";  ".join(parts))
        keys_parts = []
        for app in ("dashboard", "bare") if i % 2 == 0 else ("bare", "dashboard"):
            k = one(app, url, events * KEYS_BURST, with_keys=True)
            runs["keys " + app].append(k)
            keys = ", ".join(f"{p['key']} {p['ms']:.0f}" + ("" if p["mid_burst"] else "*") for p in k["burst"])
            keys_parts.append(f"{app} [{keys}] ms")
        log("         keys " + "   ".join(keys_parts) + "   (* painted after the verdict: not mid-burst)")
    return runs


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    from bench.common import median

    s: dict[str, Any] = {}
    for app in ("dashboard", "bare"):
        rs, ks = runs[app], runs["keys " + app]
        burst = [p["ms"] for r in ks for p in r["burst"] if p["mid_burst"]]
        late = sum(1 for r in ks for p in r["burst"] if not p["mid_burst"])
        idle = [p["ms"] for r in ks for p in r["idle"]]
        by_key: dict[str, list[float]] = {}
        idle_by_key: dict[str, list[float]] = {}
        for r in ks:
            for p in r["burst"]:
                if p["mid_burst"]:
                    by_key.setdefault(p["key"], []).append(p["ms"])
            for p in r["idle"]:
                idle_by_key.setdefault(p["key"], []).append(p["ms"])
        s[app] = {
            "rate": median(r["rate"] for r in rs),
            "rate_marginal": median(r["rate_marginal"] for r in rs),
            "fixed_ms": median(r["s_fixed"] * 1000 for r in rs),
            "rate_completed": median(r["rate_completed"] for r in rs),
            "runs": rs,
            "key_median": median(burst) if burst else float("nan"),
            "key_worst": max(burst) if burst else float("nan"),
            "keys": len(burst),
            "late": late,
            "idle_median": median(idle) if idle else float("nan"),
            "idle_worst": max(idle) if idle else float("nan"),
            "by_key": {k: (median(v), max(v)) for k, v in by_key.items()},
            "idle_by_key": {k: (median(v), max(v)) for k, v in idle_by_key.items()},
        }
    # Paired: each pair's dashboard ÷ the bare app run just before or after it, then the median.
    pairs = runs["pairs"]
    s["ratio"] = median(p["ratio"] for p in pairs)
    s["ratios"] = [p["ratio"] for p in pairs]
    s["ratio_completed"] = median(p["ratio_completed"] for p in pairs)
    s["ratio_marginal"] = median(p["ratio_marginal"] for p in pairs)
    s["ratios_marginal"] = [p["ratio_marginal"] for p in pairs]
    # Pairs whose two runs found the machine at the same speed (within 15 %): the cleaner comparison.
    steady = [p["ratio_marginal"] for p in pairs if max(p["speeds"]) <= 1.15 * min(p["speeds"])]
    s["ratio_steady"] = median(steady) if steady else float("nan")
    s["steady_pairs"] = len(steady)
    return s


def report(s: dict[str, Any], events: int, rounds: int) -> None:
    from bench.common import verdict

    d, b = s["dashboard"], s["bare"]
    print(f"\nin a terminal (pyte), burst of {events:,} frames, {rounds} rounds ({rounds * RATE_PAIRS} rate pairs); keys over all rounds")
    print(f"{'':11}{'ev/s (fixed cost out)':>22}  {'to PASSED':>10}  {'fixed ms':>9}  {'keys mid-burst median / worst (n)':>34}  "
          f"{'at idle median / worst':>23}  runs (fixed cost out)")
    for name, x in (("dashboard", d), ("bare", b)):
        each = ", ".join(f"{r['rate_marginal']:,.0f}" for r in x["runs"])
        late = f", {x['late']} late" if x["late"] else ""
        print(f"{name:11}{x['rate_marginal']:>22,.0f}  {x['rate']:>10,.0f}  {x['fixed_ms']:>9.0f}  {x['key_median']:>14.0f} / "
              f"{x['key_worst']:>5.0f} ({x['keys']}{late})  {x['idle_median']:>14.0f} / {x['idle_worst']:>5.0f}  {each}")
    for name, x in (("dashboard", d), ("bare", b)):
        print(f"  {name} per key, mid-burst median / worst ms: "
              + ", ".join(f"{k} {m:.0f}/{w:.0f}" for k, (m, w) in x["by_key"].items()))
        print(f"  {name} per key, at idle median / worst ms: "
              + ", ".join(f"{k} {m:.0f}/{w:.0f}" for k, (m, w) in x["idle_by_key"].items()))
    print(f"dashboard / bare throughput to the painted verdict, each app's 1-frame time subtracted: {s['ratio_marginal']:.2f} "
          f"(median of {len(s['ratios'])} back-to-back pairs: {', '.join(f'{r:.2f}' for r in s['ratios_marginal'])}; "
          f"of the {s['steady_pairs']} found at one machine speed: {s['ratio_steady']:.2f})")
    wall = "≥ 0.6 too" if s["ratio"] >= GOAL_RATIO else (
        f"UNDER {GOAL_RATIO}: the dashboard's fixed {d['fixed_ms']:.0f} ms is "
        f"{d['fixed_ms'] / 1000 * d['rate'] / events:.0%} of its run to PASSED")
    print(f"  the wall ratio, fixed costs in (the dashboard's PASSED waits out its 0.5 s grace for late frames): "
          f"{s['ratio']:.2f} ({', '.join(f'{r:.2f}' for r in s['ratios'])}; {wall}); "
          f"to the painted '● completed': {s['ratio_completed']:.2f}")
    print(f"goals: throughput ratio ≥ {GOAL_RATIO}: {verdict(s['ratio_marginal'] >= GOAL_RATIO)};  keys mid-burst worst < "
          f"{GOAL_KEY_WORST_MS:.0f} ms: {verdict(d['key_worst'] < GOAL_KEY_WORST_MS)};  median < {GOAL_KEY_MEDIAN_MS:.0f} ms: "
          f"{verdict(d['key_median'] < GOAL_KEY_MEDIAN_MS)}"
          + ("" if d["keys"] >= 5 else f"  (only {d['keys']} keys were painted mid-burst: use more --events)"))


def run_mode(events: int, rounds: int, no_write: bool) -> None:
    """`python bench/ui.py --mode terminal`: measure, print, and append a row (unless no_write)."""
    from bench.common import ServerProcess, append_row, machine, table_header, table_row, today
    from bench.terminal import available

    why = available()
    if why is not None:
        print(f"terminal mode skipped: it {why}")
        return
    with ServerProcess() as srv:
        s = summarise(measure(srv.url, events, rounds, lambda line: print(line, flush=True)))
    report(s, events, rounds)
    if not no_write:
        d, b = s["dashboard"], s["bare"]
        row = table_row([
            today(), f"{events:,} × {rounds}", f"{d['rate_marginal']:,.0f}", f"{b['rate_marginal']:,.0f}",
            f"{s['ratio_marginal']:.2f} (pairs at one machine speed: {s['ratio_steady']:.2f}, {s['steady_pairs']} of {len(s['ratios'])})",
            f"{s['ratio']:.2f}", f"{d['fixed_ms']:.0f} / {b['fixed_ms']:.0f}", f"{s['ratio_completed']:.2f}",
            f"{d['key_median']:.0f} / {d['key_worst']:.0f}" + ("" if d["keys"] >= 5 else f" (n={d['keys']})"),
            f"{b['key_median']:.0f} / {b['key_worst']:.0f}",
            f"{d['idle_median']:.0f} / {b['idle_median']:.0f}", machine(),
        ])
        append_row(SECTION, table_header(HEADER_COLUMNS), row, INTRO)
