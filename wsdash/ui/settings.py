"""What the dashboard is told at start: the mode, the target, its config and its budgets.

Built by the commands (`wsdash`, `demo`, `replay`), the tests and the screenshot script; read by
`ui/app.py` and the helpers it wires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from wsdash.core.config import Config
from wsdash.core.contract import Budgets
from wsdash.core.event_store import DEFAULT_CAPACITY


@dataclass
class AppSettings:
    mode: str = "live"  # live | demo | replay
    url: str = ""
    token_source: Callable[[], str | None] = lambda: None
    auth: str = "subprotocol+header"
    tls_verify: bool = True
    config: Config | None = None
    health_names: list[tuple[str, str]] = field(default_factory=list)  # (name, label)
    target: str | None = None  # the health name of the target streamed here: its card leads the pane
    health_interval_s: float = 10.0
    health_timeout_s: float = 5.0
    replay_path: Path | None = None
    replay_speed: float = 1.0
    budget_overrides: dict[str, float] = field(default_factory=dict)  # replay: budgets from flags, the rest as recorded
    autorun: bool = False  # run a golden path as soon as connected (demo)
    present: bool = False  # open in the presentation view (`--present`)
    capacity: int = DEFAULT_CAPACITY
    budgets: Budgets = field(default_factory=Budgets)
    timeout_s: float = 30.0
    tiers: list[Any] | None = None  # TierSpecs; None hides the tier pane
    tier_health: Callable[[str], Any] | None = None  # default: the health board's ensure()
    notes: list[str] = field(default_factory=list)  # told once at start (e.g. demo port taken)
    checker: Any = None  # health checker override (tests)
    record_dir: Path | None = None  # record every run there, one JSON-lines file each
    title: str = "wsdash"
    history: Any = None  # core.config.HistoryConfig: write runs there and show the strip; None: neither
    history_target: str = ""  # the name runs are kept under (the target's, "demo")
    auto_run_every_s: float = 60.0  # `w`: [watch] every_s
    stream_worker: bool = True  # live and demo: the session in a worker process (services/session/worker.py)
