"""A background worker that raised becomes an error the user can act on, never a traceback."""

from __future__ import annotations

from wsdash.core.errors import UNKNOWN, ClassifiedError, classify
from wsdash.core.redact import scrub


def classify_worker_error(error: BaseException) -> ClassifiedError:
    classified = error if isinstance(error, ClassifiedError) else classify(error)
    if isinstance(error, ValueError) and classified.kind == UNKNOWN:  # bad input: its message says what
        return ClassifiedError("input", scrub(str(error)), "check the file or setting it names, then try again")
    if classified.kind == UNKNOWN:
        return ClassifiedError(UNKNOWN, scrub(f"{type(error).__name__}: {error}"),
                               "this is a bug in wsdash: please report it with `wsdash` debug info (d)")
    return classified
