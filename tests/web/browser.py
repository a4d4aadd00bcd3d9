"""A real browser for tests: Debian's Chromium driven by Playwright's own driver (no browser
download). Tests that need it skip, with the reason, where no browser can be had."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("WSDASH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium calls home at start, which a closed network refuses.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps"]

# xterm.js draws on a canvas: this catches the Terminal textual-serve's page creates (it assigns
# `this.terminal = new Terminal(...)`) so a test can read the screen from its buffer.
READ_SCREEN = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  set(v) {
    (window.__wsdashTerms = window.__wsdashTerms || []).push(v);
    Object.defineProperty(this, 'terminal', {value: v, writable: true, configurable: true, enumerable: true});
  },
});
window.__wsdashScreen = () => {
  const t = (window.__wsdashTerms || [])[0];
  if (!t) return '';
  const b = t.buffer.active, out = [];
  for (let i = 0; i < t.rows; i++) { const l = b.getLine(i); out.push(l ? l.translateToString(true) : ''); }
  return out.join('\\n');
};
"""


@contextmanager
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class Watched:
    """A page with every request and console error it made, for 'nothing leaves this machine'."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def off_machine(self) -> list[str]:
        local = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "file://", "about:")
        return [u for u in self.requests if not u.startswith(local)]
