"""Textual's Footer, rebuilt only when the keys it shows change.

The stock Footer removes and re-mounts every key each time the screen's bindings signal fires
(focus moves, `refresh_bindings`), and each mounted key re-applies the stylesheet three times. On
the dashboard the signal fires three times as it starts, with the same nine keys each time: two
thirds of the footer's cost, and a fifth of start-up, for nothing."""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer


class KeyFooter(Footer):
    """A Footer that skips a recompose when the shown keys, their state and words are unchanged."""

    _shown: tuple[Any, ...] | None = None

    def _keys(self) -> tuple[Any, ...]:
        return tuple(
            (binding.key, binding.key_display, binding.description, binding.action, enabled, tooltip)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        ) + (self._bindings_ready, self.show_command_palette, self.combine_groups)

    async def recompose(self) -> None:
        keys = self._keys()
        if keys == self._shown:
            return
        self._shown = keys
        await super().recompose()
