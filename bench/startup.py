"""Benchmark: how long until the dashboard is on screen, and how fast does `wsdash --version` answer?

1. First rendered dashboard. A fresh process per measurement (so imports count, as they do for a
   user): it builds `make_app(AppSettings(mode="demo", url=<embedded server>))`, runs it under
   `App.run_test()` and says on stdout when the first frame of the dashboard screen with its
   footer keys goes to the driver (`App._display`: what a terminal would be sent). Timed by the parent from spawning the
   process to that line. Baseline, same run, alternating: a bare Textual app with the same Header
   and Footer, measured the same way. Goal: dashboard ≤ 1.5 × bare. Also printed: "settled", until
   the app is idle after its workers (connect, health probes) have started.
2. `wsdash --version` (the installed console script) wall time, against `python -c pass`: the
   interpreter's own start-up, the floor of any command. Goal < 150 ms.

    python bench/startup.py [--rounds 7] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    ServerProcess, append_row, common_args, compile_bytecode, machine, median, rotations, spread, table_header,
    table_row, today, verdict,
)

SECTION = "startup"
GOAL_RATIO, GOAL_VERSION_MS = 1.5, 150.0
SIZE = (120, 40)
INTRO = ("`python bench/startup.py`: time from spawning a process to the first frame of the whole screen (footer "
         "keys included) sent to the driver (under `run_test`), the dashboard against a bare Textual app with the same Header/Footer, alternating rounds, "
         "medians; \"settled\" is until the app is idle with its workers started; and `wsdash --version` against "
         "`python -c pass`.")
HEADER = table_header([
    "date", "rounds", "dashboard ms", "bare ms", "ratio (goal ≤ 1.5)", "in-process ms dash / bare",
    "settled ms dash / bare",
    "`wsdash --version` ms (goal < 150)", "`python -c pass` ms", "machine",
])
FRAME, READY = "FRAME", "READY"


# ---- the child: one app, up to its first rendered screen --------------------------------------

def child(which: str, url: str) -> int:
    import asyncio

    t0 = time.perf_counter()

    async def main() -> None:
        if which == "dashboard":
            from wsdash.ui.app import make_app
            from wsdash.ui.settings import AppSettings
            from wsdash.ui.screens.dashboard import DashboardScreen

            app: Any = make_app(AppSettings(mode="demo", url=url, token_source=lambda: None))
            screen_type: Any = DashboardScreen
        else:
            from textual.app import App, ComposeResult
            from textual.screen import Screen
            from textual.widgets import Footer, Header

            class Bare(App[None]):
                BINDINGS = [("q", "quit", "Quit"), ("question_mark", "help", "Help")]

                def compose(self) -> ComposeResult:
                    yield Header()
                    yield Footer()

            app, screen_type = Bare(), Screen
        from textual.widgets._footer import FooterKey

        display = app._display

        def first_frame(screen: Any, renderable: Any) -> None:
            # The first frame of the whole screen, footer keys included (the footer composes its
            # keys after the screen mounts), as the driver would write it.
            display(screen, renderable)
            if (isinstance(screen, screen_type) and renderable is not None and app._display is first_frame
                    and any(key.region.width for key in screen.query(FooterKey))):
                app._display = display
                print(f"{FRAME} {(time.perf_counter() - t0) * 1000:.1f}", flush=True)

        app._display = first_frame
        async with app.run_test(size=SIZE) as pilot:
            while not (isinstance(app.screen, screen_type) and app.screen.is_mounted):
                await asyncio.sleep(0.001)
            await pilot.pause()  # idle: workers started, nothing left queued
            print(f"{READY} {(time.perf_counter() - t0) * 1000:.1f}", flush=True)

    asyncio.run(main())
    return 0


def first_screen(which: str, url: str) -> tuple[float, float, float]:
    """(ms from spawn to the first frame, the same in-process from the child's first line, ms from
    spawn until the app is idle)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", which, "--url", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", cwd=ROOT, env=env)
    assert proc.stdout is not None
    seen: dict[str, tuple[float, float]] = {}
    for line in proc.stdout:
        word, _, inside = line.partition(" ")
        if word in (FRAME, READY):
            seen[word] = ((time.perf_counter() - t0) * 1000, float(inside))
        if READY in seen:
            break
    proc.wait(30)
    if FRAME not in seen or READY not in seen:
        raise RuntimeError(f"{which} never rendered: {proc.stderr.read()[-3000:] if proc.stderr else ''}")
    return seen[FRAME][0], seen[FRAME][1], seen[READY][0]


# ---- `wsdash --version` -----------------------------------------------------------------------

def version_command() -> list[str]:
    script = shutil.which("wsdash", path=str(Path(sys.executable).parent)) or shutil.which("wsdash")
    return [script, "--version"] if script else [sys.executable, "-m", "wsdash", "--version"]


def wall_ms(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t0) * 1000


def measure(rounds: int) -> dict[str, Any]:
    res: dict[str, list[float]] = {k: [] for k in ("dashboard", "bare", "dashboard_in", "bare_in", "dashboard_idle", "bare_idle", "version", "pass")}
    compile_bytecode()
    with ServerProcess("--pace", "0.3") as srv:
        first_screen("dashboard", srv.url)  # warm-up: bytecode and page caches
        first_screen("bare", srv.url)
        for i, order in enumerate(rotations(("dashboard", "bare"), rounds)):
            for which in order:
                total, inside, idle = first_screen(which, srv.url)
                res[which].append(total)
                res[which + "_in"].append(inside)
                res[which + "_idle"].append(idle)
            print(f"round {i + 1}: dashboard {res['dashboard'][-1]:6.0f} ms   bare {res['bare'][-1]:6.0f} ms", flush=True)
    cmd = version_command()
    wall_ms(cmd)
    wall_ms([sys.executable, "-c", "pass"])
    for order in rotations(("version", "pass"), rounds * 3):
        for which in order:
            res[which].append(wall_ms(cmd if which == "version" else [sys.executable, "-c", "pass"]))
    s: dict[str, Any] = {k: median(v) for k, v in res.items()}
    s["spread"] = {k: spread(v) for k, v in res.items()}
    s["ratio"] = s["dashboard"] / s["bare"]
    s["version_cmd"] = " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))
    return s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 7; quick 5)")
    parser.add_argument("--child", choices=("dashboard", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    common_args(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.url)
    rounds = args.rounds or (5 if args.quick else 7)
    s = measure(rounds)
    sp = s["spread"]
    print(f"\nfirst rendered screen, from spawning the process ({rounds} rounds, medians, min–max):")
    print(f"  dashboard  {s['dashboard']:7.0f} ms  ({sp['dashboard']})   in-process {s['dashboard_in']:6.0f} ms")
    print(f"  bare app   {s['bare']:7.0f} ms  ({sp['bare']})   in-process {s['bare_in']:6.0f} ms")
    print(f"  ratio      {s['ratio']:7.2f}     goal ≤ {GOAL_RATIO}: {verdict(s['ratio'] <= GOAL_RATIO)}")
    print(f"  settled (idle, workers started): dashboard {s['dashboard_idle']:.0f} ms, bare {s['bare_idle']:.0f} ms")
    print(f"{s['version_cmd']}: {s['version']:.0f} ms ({sp['version']})   goal < {GOAL_VERSION_MS:.0f}: "
          f"{verdict(s['version'] < GOAL_VERSION_MS)}   python -c pass: {s['pass']:.0f} ms ({sp['pass']})")
    if not args.no_write:
        row = table_row([
            today(), rounds, f"{s['dashboard']:.0f}", f"{s['bare']:.0f}", f"{s['ratio']:.2f}",
            f"{s['dashboard_in']:.0f} / {s['bare_in']:.0f}",
            f"{s['dashboard_idle']:.0f} / {s['bare_idle']:.0f}", f"{s['version']:.0f}", f"{s['pass']:.0f}", machine(),
        ])
        append_row(SECTION, HEADER, row, INTRO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
