"""What the headless commands share: budgets from flags, JSON printing, usage errors."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wsdash.core.contract import Budgets

from wsdash.core.redact import scrub, scrub_obj

EXIT_USAGE = 2


def budgets_from(args: argparse.Namespace) -> "Budgets":
    from wsdash.core.contract import Budgets

    return Budgets(
        connect_s=args.connect_budget,
        first_event_s=args.first_event_budget,
        run_s=args.run_budget,
        gap_s=args.gap_budget,
    )


def print_json(obj: Any) -> None:
    """One object on stdout and nothing else, scrubbed like everything that leaves the process,
    in UTF-8 whatever the console's code page (Windows)."""
    text = scrub(json.dumps(scrub_obj(obj), ensure_ascii=False, indent=2)) + "\n"
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        sys.stdout.flush()
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    else:
        sys.stdout.write(text)


def usage_error(message: str) -> int:
    sys.stderr.write(f"wsdash: error: {scrub(message)}\n")
    return EXIT_USAGE
