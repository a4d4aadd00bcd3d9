"""Change a widget only when its content or state changed: the screen flushes at 10 Hz, and an
update forces a layout (a class change a restyle), wasted CPU when nothing moved (most ticks)."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from textual.widget import Widget
from textual.widgets import Static


def _height(content: Any, width: int) -> int | None:
    """Lines the content takes at `width`, when none of them wraps; None when unsure."""
    text = getattr(content, "plain", content)
    if not isinstance(text, str) or width <= 0:
        return None
    lines = text.split("\n")
    return len(lines) if all(len(line) < width for line in lines) else None


def only_class(widget: Widget, names: Iterable[str], wanted: str | None) -> None:
    """Of the state classes `names`, leave just `wanted` on `widget`, in one batch: a class
    change restyles the widget, and removing then adding one by one did it twice a tick."""
    widget.update_classes({name: name == wanted for name in names})


def update_if_changed(widget: Static, content: Any) -> None:
    """Skip an unchanged content; when only the words changed and the height cannot have (same
    number of lines, none wrapping), skip the layout too — a full re-layout on every tick was a
    third of the loop during a burst."""
    last = getattr(widget, "_wsdash_last", None)
    # Rich's Text equality ignores the base style: a theme change that only recolours a line
    # would keep the old colour.
    if last == content and getattr(last, "style", None) == getattr(content, "style", None):
        return
    widget._wsdash_last = content  # type: ignore[attr-defined]
    width = widget.content_size.width
    before = _height(last, width) if last is not None else None
    widget.update(content, layout=before is None or before != _height(content, width))


def flush_on_news(source: Any, flush: Callable[[], None]) -> Callable[[], None]:
    """Call `flush` as soon as the source has news (the stream worker's batch brought a state, a
    checkpoint or a verdict), not only on the screen's tick. Returns what stops it (a screen's
    unmount). A source without news (an in-process session) keeps to the tick."""
    listeners: list[Callable[[], None]] | None = getattr(source, "news_listeners", None)
    if listeners is None:
        return lambda: None
    listeners.append(flush)
    return lambda: listeners.remove(flush) if flush in listeners else None
