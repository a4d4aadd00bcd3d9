"""A failing worker becomes this modal: the classified error and its hint, never a traceback."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from wsdash.core.errors import ClassifiedError
from wsdash.core.redact import scrub
from wsdash.ui.widgets.key_footer import KeyFooter
from wsdash.ui.widgets.prose import prose


class ErrorScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]

    def __init__(self, what: str, error: ClassifiedError) -> None:
        super().__init__()
        self.what = what
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Static(f"{self.what} failed", id="error-title")
            yield Static(scrub(f"{self.error.kind}: {self.error.message}"), markup=False)
            yield Static(Text("\nwhat to do: ").append_text(prose(scrub(self.error.hint))))
            yield Static("\nThe dashboard is still running; esc to close.", classes="pane-title")
        yield KeyFooter()
