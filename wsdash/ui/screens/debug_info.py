"""`d`: versions, configuration path, targets and endpoints (redacted), terminal."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wsdash import __version__
from wsdash.core.redact import redact_url, scrub
from wsdash.ui.widgets.key_footer import KeyFooter


def _v(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def debug_lines(app: Any) -> list[str]:
    settings = app.settings
    cfg = settings.config
    # provenance values read "env WSDASH_LOCAL_WS_URL" (or "… (follows ws_url)")
    env_vars = sorted({v.split()[1] for v in cfg.provenance.values() if v.startswith("env ")}) if cfg else []
    lines = [
        f"wsdash {__version__} · Python {platform.python_version()} ({sys.executable})",
        f"textual {_v('textual')} · websockets {_v('websockets')} · httpx {_v('httpx')} · pyjwt {_v('pyjwt')}",
        f"platform {platform.platform()}",
        f"terminal {os.environ.get('TERM', '?')} · {os.environ.get('TERM_PROGRAM', '')} · size {app.size.width}×{app.size.height} · colour {app.console.color_system}",
        f"mode {settings.mode} · stream {redact_url(settings.url or '-')}",
        "config files: " + (", ".join(str(f) for f in cfg.files) if cfg and cfg.files else "none (built-in defaults)"),
        "environment overrides: " + (", ".join(env_vars) or "none"),
    ]
    if cfg is not None:
        for name, t in cfg.targets.items():
            lines.append(f"target {name}: ws {redact_url(t.ws_url)} · health {redact_url(t.health_url or '-')} · auth {t.auth}"
                         f" · tls_verify {t.tls_verify} · required {t.required}")
        lines.append(f"docker: host {cfg.docker.host or os.environ.get('DOCKER_HOST') or 'platform default'} · required {cfg.docker.required}")
    return [scrub(x) for x in lines]


class DebugInfoScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,d", "dismiss", "Back"), Binding("c", "copy", "Copy")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="debug"):
            yield Static("debug info", id="debug-title")
            yield Static("\n".join(debug_lines(self.app)), markup=False)
        yield KeyFooter()

    def action_copy(self) -> None:
        from wsdash.ui.clipboard import copy_text

        done = copy_text(self.app, "\n".join(debug_lines(self.app)))
        self.notify(f"debug info {done.how}" if done.ok else f"debug info not copied: {done.how}",
                    severity="information" if done.ok else "error")
