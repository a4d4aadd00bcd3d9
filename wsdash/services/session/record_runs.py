"""A recording per run for the dashboard's live session, wherever that session runs (in the
dashboard's process or in its stream worker): a new file in the folder for every run, and a run
that cannot be recorded goes on unrecorded, with the reason told."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

Tell = Callable[[str, str, float], None]  # (message, severity, timeout s); safe to call from any thread


def recorder_factory(folder: Path, next_run: Callable[[], int], tell: Tell) -> Callable[[], Any]:
    """A `listener_factory` for `LiveSession`: each call opens the next run's recording."""

    def make() -> Any:
        from wsdash.core.recording import Recorder, recording_file

        def failed(message: str) -> None:  # the recorder's timer thread or the session's loop
            tell(message, "error", 10)

        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # user-only, as the recordings in it
            return Recorder(recording_file(folder, next_run()), on_error=failed)
        except OSError as exc:  # the run goes on unrecorded: the socket is not the problem
            tell(f"cannot record to {folder}: {exc.strerror or exc} — this run is not recorded", "error", 5)
            return None

    return make
