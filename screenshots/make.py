"""Regenerate the README's screenshots from the app itself: `python screenshots/make.py`.

Real pieces throughout: the embedded agent server, real pytest runs, real health probes on
this machine (Docker's daemon is not running here, which is the Windows-laptop story).
SVGs come from Textual; PNGs from headless Chromium when it is installed (it lays out Textual's
SVG text exactly), else from `rsvg-convert` (Debian's librsvg2-bin), which drops the space after a
bold word ("PASSEDall").
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Awaitable, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from wsdash.services.agent_server import AgentServer  # noqa: E402
from wsdash.ui.app import make_app  # noqa: E402
from wsdash.ui.settings import AppSettings  # noqa: E402
from wsdash.core.auth import write_secret_file  # noqa: E402
from wsdash.core.config import load_config  # noqa: E402
from wsdash.services.tiers.spec import TierSpec  # noqa: E402

SIZE = (120, 40)


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 90) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition() and loop.time() < end:
        await pilot.pause(0.1)
    await pilot.pause(0.4)


async def shoot(name: str, settings: AppSettings, script: Callable[[Any], Awaitable[None]], size: tuple[int, int] = SIZE) -> Path:
    app = make_app(settings)
    async with app.run_test(size=size) as pilot:
        await script(pilot)
        app.save_screenshot(f"{name}.svg", str(HERE))
    svg = HERE / f"{name}.svg"
    to_png(svg, HERE / f"{name}.png")
    print(f"wrote {svg.relative_to(HERE.parent)}")
    return svg


def to_png(svg: Path, png: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium:
        box = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text(encoding="utf-8"))
        width, height = (round(float(v)) for v in box.groups()) if box else (1482, 1026)
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--force-device-scale-factor=1", f"--window-size={width},{height}", f"--screenshot={png}",
                        svg.as_uri()], check=True, capture_output=True, timeout=60)
    elif shutil.which("rsvg-convert"):
        subprocess.run(["rsvg-convert", str(svg), "-o", str(png)], check=True)


def free_port(preferred: int = 8002) -> int:
    """The local stack's port when nothing listens there (the real story), else any free one."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def failing_suite(project: Path) -> TierSpec:
    """A small project whose unit tier has one failure, run as `pytest tests/unit -q` from its root."""
    folder = project / "tests" / "unit"
    folder.mkdir(parents=True)
    (folder / "test_websocket_unit.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('envelope', ['nested', 'flat', 'wrapped', 'payload'])\n"
        "def test_normalises_envelope(envelope):\n    assert envelope\n\n"
        "@pytest.mark.parametrize('event', ['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed', 'agent_completed'])\n"
        "def test_event_is_golden(event):\n    assert event.startswith(('agent', 'tool'))\n\n"
        "def test_subprotocol_token_is_echoed():\n"
        "    accepted = 'jwt.<token>'\n"
        "    assert accepted.startswith('jwt-auth.'), f'server echoed {accepted!r}, client offered jwt-auth.<token>'\n\n"
        "@pytest.mark.skip(reason='needs the staging auth service')\n"
        "def test_e2e_bypass_key():\n    pass\n", encoding="utf-8")
    return TierSpec.from_table({"name": "unit", "title": "Unit & configuration", "pytest": ["tests/unit", "-q", "-p", "no:cacheprovider"],
                                "python": sys.executable, "cwd": str(project), "target": 1.0})


async def main() -> None:
    secret = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        secret_file = tmp / "secret"
        write_secret_file(secret_file, secret)
        async with AgentServer(port=0, secret=secret, pace=0.25) as server:
            cfg = load_config(env={}, cwd=tmp)
            local = replace(cfg.targets["local"], ws_url=server.url, health_url=f"{server.http_url}/health",
                            secret_file=str(secret_file), secret_env=None)
            cfg.targets = {"local": local}
            from wsdash.commands.dashboard import token_source as _token_source
            from wsdash.commands.demo import SECRET_ENV, demo_tiers

            os.environ[SECRET_ENV] = secret  # the demo tier's pytest reads the server's secret there, as in `wsdash demo`

            def demo(scenario: str = "golden", tiers: list[TierSpec] | None = None) -> AppSettings:
                return AppSettings(mode="demo", url=f"{server.url}?scenario={scenario}", token_source=_token_source(local),
                                   config=cfg, health_names=[("local", "demo agent server")], autorun=True,
                                   tiers=tiers if tiers is not None else demo_tiers(server.url), title="wsdash · demo")

            async def demo_done(pilot: Any) -> None:
                app = pilot.app
                await wait_for(pilot, lambda: bool(app.source.results))
                await pilot.press("t")
                await wait_for(pilot, lambda: app.tier_pane.board.states["demo-e2e"].result is not None)

            await shoot("demo-run-complete", demo(), demo_done)

            async def run_done(pilot: Any) -> None:
                await wait_for(pilot, lambda: bool(pilot.app.source.results))

            await shoot("contract-violation", demo("missing:agent_thinking"), run_done)

            async def tier_failed(pilot: Any) -> None:
                app = pilot.app
                await wait_for(pilot, lambda: bool(app.source.results))
                await pilot.press("t")
                await wait_for(pilot, lambda: app.tier_pane.board.states["unit"].result is not None)
                app.screen.query_one("#tier-unit").focus()
                await pilot.press("enter")
                await pilot.pause(0.5)

            await shoot("failing-tier", demo(tiers=[failing_suite(tmp / "project")]), tier_failed)

            # Docker down: real probes. Docker's daemon is not running here; nothing listens on the
            # "local" port; "staging" is played by the embedded server (no real staging host is contacted).
            down_port = free_port()
            cfg2 = load_config(env={}, cwd=tmp)
            cfg2.targets = {
                "local": replace(cfg2.targets["local"], ws_url=f"ws://127.0.0.1:{down_port}/ws", health_url=f"http://127.0.0.1:{down_port}/health", secret_env=None),
                "staging": replace(cfg2.targets["staging"], ws_url=server.url, health_url=f"{server.http_url}/health",
                                   auth_health_url=None, token_env=None, secret_file=str(secret_file)),
            }
            specs = [TierSpec.from_table({"name": "unit", "title": "Unit & configuration", "pytest": ["tests/unit/websocket/"], "target": 1.0}),
                     TierSpec.from_table({"name": "local-e2e", "title": "Local E2E (Docker stack)", "pytest": ["tests/e2e/local/"], "target": 0.95, "requires": ["local"]}),
                     TierSpec.from_table({"name": "staging", "title": "Staging E2E", "pytest": ["tests/e2e/staging/"], "target": 0.95, "requires": ["staging"]})]
            settings = AppSettings(mode="live", url=cfg2.targets["local"].ws_url, config=cfg2, tiers=specs,
                                   health_names=[("docker", "Docker"), ("local", f"local (127.0.0.1:{down_port})"), ("staging", "staging")],
                                   target="local", title="wsdash · local")  # as `wsdash` sets it

            async def health_done(pilot: Any) -> None:
                app = pilot.app
                await wait_for(pilot, lambda: app.health_board is not None and all(app.health_board.result(n) for n in ("docker", "local", "staging")))
                await pilot.pause(1.0)

            await shoot("docker-down", settings, health_done)

            # The presentation view, with the plan's three tiers run for real.
            plan = tmp / "plan"
            plan.mkdir()
            (plan / "test_plan.py").write_text("def test_golden_path_contract():\n    pass\n", encoding="utf-8")
            three = [TierSpec.from_table({"name": n, "title": title, "pytest": [str(plan), "-q", "-p", "no:cacheprovider"],
                                          "python": sys.executable, "target": target})
                     for n, title, target in (("unit", "Unit & configuration", 1.0), ("staging", "Staging E2E", 0.95),
                                              ("mission", "Mission-critical", 1.0))]

            async def presented(pilot: Any) -> None:
                app = pilot.app
                await pilot.press("p")
                await wait_for(pilot, lambda: bool(app.source.results))
                await pilot.press("t")
                await wait_for(pilot, lambda: all(app.tier_pane.board.states[s.name].result is not None for s in three))

            await shoot("present", demo("nested", tiers=three), presented)


def web_and_report() -> None:
    """The dashboard in a real browser (`wsdash web`) and the HTML report, as PNGs via Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped web-browser.png and report.png: playwright is not installed")
        return
    sys.path.insert(0, str(HERE.parent / "tests"))
    from web.browser import ARGS, CHROMIUM, READ_SCREEN  # the tests' own browser set-up

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        web = subprocess.Popen([sys.executable, "-m", "wsdash", "web", "--port", str(port)], cwd=tmp,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            import time

            time.sleep(3)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.add_init_script(READ_SCREEN)
                page.goto(f"http://127.0.0.1:{port}/")
                for _ in range(160):
                    if "PASSED" in page.evaluate("window.__wsdashScreen()"):
                        break
                    page.wait_for_timeout(250)
                page.wait_for_timeout(500)
                page.screenshot(path=str(HERE / "web-browser.png"))
                print("wrote screenshots/web-browser.png")
                report = _report_html(tmp)
                page.goto(report.as_uri())
                page.screenshot(path=str(HERE / "report.png"), full_page=True)
                print("wrote screenshots/report.png")
                browser.close()
        finally:
            web.terminate()
            web.wait(10)


def _report_html(tmp: Path) -> Path:
    """A report of a demo run and the plan's tiers, from saved results (as a release manager would)."""
    import json

    from wsdash.services.agent_server import ServerThread

    secret = secrets.token_urlsafe(32)
    secret_file = tmp / "report-secret"
    write_secret_file(secret_file, secret)
    with ServerThread(secret=secret) as server:
        subprocess.run([sys.executable, "-m", "wsdash", "golden-path", "--url", server.url, "--secret-file", str(secret_file),
                        "--record", str(tmp / "run.jsonl"), "--json"], cwd=tmp, capture_output=True, check=False)
    tiers = {"ok": False, "tiers": [
        {"name": "unit", "title": "Unit & configuration", "status": "passed", "target": 1.0, "pass_rate": 1.0,
         "counts": {"passed": 48, "failed": 0, "skipped": 0}, "duration_s": 41.2},
        {"name": "staging", "title": "Staging E2E", "status": "passed", "target": 0.95, "pass_rate": 0.97,
         "counts": {"passed": 33, "failed": 1, "skipped": 0}, "duration_s": 912.4},
        {"name": "mission", "title": "Mission-critical", "status": "failed", "target": 1.0, "pass_rate": 1.0,
         "counts": {"passed": 1, "failed": 0, "skipped": 39}, "duration_s": 6.1,
         "message": "39 of 40 tests skipped (Docker not available): max_skipped is 0"},
    ]}
    (tmp / "tiers.json").write_text(json.dumps(tiers), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "wsdash", "report", "--recording", "run.jsonl", "--tiers-json", "tiers.json",
                    "--no-health", "--html", "report.html"], cwd=tmp, capture_output=True, check=False)
    return tmp / "report.html"


if __name__ == "__main__":
    asyncio.run(main())
    web_and_report()  # Playwright's sync API runs outside the event loop
