"""Textual's Footer, rebuilt only when the keys it shows change, and fitted to narrow terminals.

The stock Footer removes and re-mounts every key each time the screen's bindings signal fires
(focus moves, `refresh_bindings`), and each mounted key re-applies the stylesheet three times. On
the dashboard the signal fires three times as it starts, with the same nine keys each time: two
thirds of the footer's cost, and a fifth of start-up, for nothing."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

COMPACT_BELOW = 120  # columns: narrower terminals get the footer's tighter spacing
# Which keys give way, in this order, when the footer line is too narrow for all of them (they
# stay bound; `?` lists every one): at 80 columns the dashboard's keys overflowed the line and the
# last ones were cut mid-word.
GIVE_WAY = ("auto_run", "screenshot", "debug", "present", "recheck", "run_tiers", "cancel_tiers", "speed", "filter", "inspect")


class KeyFooter(Footer):
    """A Footer that skips a recompose when the shown keys, their state and words are unchanged,
    and on a narrow terminal packs its keys tighter and leaves out the least needed ones."""

    _shown: tuple[Any, ...] | None = None
    _wants_palette = True

    def on_mount(self) -> None:
        self._wants_palette = self.show_command_palette

    def _keys(self) -> tuple[Any, ...]:
        palette = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        keys = tuple(
            (binding.key, binding.key_display, binding.description, binding.action, binding.group, enabled, tooltip)
            for (key, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show or key == palette
        )
        # The width matters only while the keys do not all fit (a first compose before layout
        # sees width 0, and rebuilding every key for that cost 100 ms of start-up).
        width = self.size.width
        needed = sum(self._width(self.app.get_key_display(b), b.description) for (_, b, _, _) in
                     {b.action: (k, b, e, t) for (k, b, e, t) in reversed(self.screen.active_bindings.values()) if b.show}.values())
        if self.show_command_palette and palette is not None:
            needed += self._width("^p", "palette")
        fit = width if 0 < width < needed else None
        return keys + (self._bindings_ready, self.show_command_palette, self.combine_groups, self.compact, fit)

    def bindings_changed(self, screen: Any) -> None:
        # The stock Footer waits for the next refresh, so the screen's first frame went out with
        # an empty footer and the keys followed a frame later; recomposes that change nothing
        # are skipped here anyway, so there is nothing to batch.
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            if self._shown is None:
                self.call_next(self.recompose)
            else:
                # Keys already shown: what the key press did (the filter box gone, the cursor
                # moved) is painted first, the footer's new keys the frame after. A recompose
                # mounts every key again (~40-60 ms in a burst) and held that paint back.
                self.call_after_refresh(self.recompose)

    async def recompose(self) -> None:
        if not self.is_attached:  # the stock recompose does nothing then: nothing is shown yet
            return
        keys = self._keys()
        if keys == self._shown:
            return
        self._shown = keys
        await super().recompose()

    def compose(self) -> ComposeResult:
        if any(binding.group is not None for (_, binding, _, _) in self.screen.active_bindings.values() if binding.show):
            yield from super().compose()  # grouped keys nest in a container as they are yielded
            return
        widgets = list(super().compose())
        for key in widgets:
            if isinstance(key, FooterKey) and not key.has_class("-command-palette"):  # that one is not bound
                # A FooterKey starts compact and its binding to ours flips it as it mounts: two
                # restyles of every key, for nothing when it starts as it will stay.
                key.set_reactive(FooterKey.compact, self.compact)
        width = self.size.width
        if not width or not all(isinstance(w, FooterKey) for w in widgets):
            yield from widgets
            return
        for action in GIVE_WAY:
            if self._total(widgets) <= width:
                break
            widgets = [w for w in widgets if w.action != action]
        while self._total(widgets) > width:  # still too wide: from the right, but `?` always stays
            last = next((w for w in reversed(widgets) if w.action != "help"), None)
            if last is None:
                break
            widgets.remove(last)
        yield from widgets

    def _total(self, keys: list[FooterKey]) -> int:
        return sum(self._width(k.key_display, k.description) for k in keys)

    def _width(self, key_display: str, description: str) -> int:
        # From FooterKey's CSS: padding around the key (1 each side) and after the description (1),
        # or for the palette key its border, one space and padding; compact: one space between
        # key and description and a margin of 1 after.
        return cell_len(key_display) + cell_len(description) + (2 if self.compact else 3)

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
            self.show_command_palette = self._wants_palette and not compact  # ctrl+p still opens it
        self.call_after_refresh(self.recompose)  # which keys fit depends on the width
