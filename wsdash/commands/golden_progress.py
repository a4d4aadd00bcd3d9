"""Live progress of one headless golden-path run, for a person watching a terminal: the connect,
then each checkpoint as it arrives. Written to stderr and only when stderr is a terminal, so
`--json` output and redirected logs stay exactly what they were."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from wsdash.core.protocol import GOLDEN_EVENTS

if TYPE_CHECKING:
    from wsdash.core.judged_run import RunListener
    from wsdash.core.protocol import Event


class Progress:
    """A RunListener (connect and send) plus an event callback (the checkpoints)."""

    def __init__(self, out: TextIO) -> None:
        from wsdash.commands.tiers_progress import Style

        self.out = out
        self.style = Style(out)
        self._sent_at: float | None = None
        self._seen: set[str] = set()

    def record(self, kind: str, at: float, **data: Any) -> None:
        from wsdash.commands.tiers_progress import clean

        if kind == "start":
            self._line(self.style("dim", f"… connecting to {clean(str(data.get('url', '')))}"))
        elif kind == "open":
            to = f" to {clean(str(data['address']))}" if data.get("address") else ""
            self._line(self.style("dim", f"… connected in {float(data.get('connect_s', 0)) * 1000:.0f} ms{to}"))
        elif kind == "send" and data.get("message"):
            self._sent_at = at
            self._line(self.style("dim", "… message sent, waiting for the agent"))

    def on_event(self, event: "Event") -> None:
        if event.type not in GOLDEN_EVENTS or event.type in self._seen:
            return
        self._seen.add(event.type)
        off = "" if self._sent_at is None else f"+{(event.received - self._sent_at) * 1000:.0f} ms"
        self._line(f"  {self.style('green', self.style.ok)} {event.type:<16} {off:>10}")

    def _line(self, text: str) -> None:
        try:
            self.out.write(text + "\n")
            self.out.flush()
        except (OSError, ValueError):  # a closed terminal must not end the run
            pass


class Tee:
    """Several RunListeners as one (the recorder and the progress)."""

    def __init__(self, *listeners: "RunListener | None") -> None:
        self.listeners = [x for x in listeners if x is not None]

    def record(self, kind: str, at: float, **data: Any) -> None:
        for listener in self.listeners:
            listener.record(kind, at, **data)


def progress_for(stream: TextIO) -> Progress | None:
    """Progress on `stream` when a person watches it (a terminal), else None."""
    isatty = getattr(stream, "isatty", None)
    try:
        return Progress(stream) if isatty is not None and isatty() else None
    except (OSError, ValueError):
        return None
