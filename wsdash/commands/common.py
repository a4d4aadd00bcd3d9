"""What the headless commands share: budgets from flags, JSON printing, usage errors."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from wsdash.golden_path import Budgets
from wsdash.redact import scrub

EXIT_USAGE = 2


def budgets_from(args: argparse.Namespace) -> Budgets:
    return Budgets(
        connect_s=args.connect_budget,
        first_event_s=args.first_event_budget,
        run_s=args.run_budget,
        gap_s=args.gap_budget,
    )


def print_json(obj: Any) -> None:
    # One object on stdout and nothing else; scrubbed like everything that leaves the process.
    sys.stdout.write(scrub(json.dumps(obj, ensure_ascii=False, indent=2)) + "\n")


def usage_error(message: str) -> int:
    sys.stderr.write(f"wsdash: error: {scrub(message)}\n")
    return EXIT_USAGE
