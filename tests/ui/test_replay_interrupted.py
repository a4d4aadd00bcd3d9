"""A recording of a run cut short by Ctrl+C replays in the dashboard as INTERRUPTED, as the headless
replay judges it (exit 130), not as FAILED: the player passed the end record's `interrupted` on to
no one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ui.helpers import write_recording
from wsdash.ui.app import make_app
from wsdash.ui.settings import AppSettings


async def test_an_interrupted_run_replays_as_interrupted(tmp_path: Path) -> None:
    rec = write_recording(tmp_path / "run.jsonl")
    lines = [json.loads(line) for line in rec.read_text(encoding="utf-8").splitlines()]
    kept = [r for r in lines if r.get("k") not in ("close", "end")][:5]  # header, start, open, the message, one event
    kept.append({"k": "end", "t": kept[-1]["t"] + 0.01, "timed_out": False, "interrupted": "run"})
    rec.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
    app = make_app(AppSettings(mode="replay", replay_path=rec, replay_speed=float("inf"), title="wsdash · replay"))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            if app.source.results:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        assert app.source.results[-1].interrupted == "run"
        banner = str(app.screen.query_one("#verdict").render())
        assert banner.startswith("INTERRUPTED") and "FAILED" not in banner, banner
