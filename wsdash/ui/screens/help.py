"""`?`: every key, grouped by where it works."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]Everywhere[/b]
  ?       this help                 ctrl+p  command palette
  g       run a golden path         r       recheck health, reconnect
  t       run all tiers             x       cancel running tiers
  /       filter the event stream   esc     back, clear the filter
  d       debug info                f2      save a screenshot (SVG)
  p       presentation view         tab     next pane
  w       auto-run on / off (interval: watch.every_s, default 60 s)
  q       quit

[b]Event stream[/b]
  ↑ ↓ pgup pgdn home   move (the tail pauses; "N new" counts arrivals)
  end     follow the newest events again
  enter   inspect: raw and normalised frame, c / n copy

[b]Tier cards[/b]
  enter   open: tests as they stream, failures first, tracebacks
  o       run this tier             f       rerun its failed tests

[b]Replay[/b]
  space   pause / resume            s       speed ×1 → ×10 → max
  g       play again from the start

Filter: plain text matches type, agent, tool and summary;
[b]type:tool_executing,tool_completed[/b] keeps only those types.
Tokens are never shown: only their subject and expiry countdown.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Back")]

    def compose(self) -> ComposeResult:
        # No footer here: it costs a stylesheet pass per key on mount, and this screen's only
        # key is said on its first line. `?` must open at once, even during a burst.
        with VerticalScroll(id="help"):
            yield Static("wsdash — keys    (esc, q or ? closes)", id="help-title")
            yield Static(HELP)
