"""`wsdash replay FILE`: re-judge a recording (headless), or play it in the dashboard."""

from __future__ import annotations

import argparse
import sys

from wsdash.commands.common import budgets_from, print_json, usage_error


def run(args: argparse.Namespace) -> int:
    from wsdash.commands.run_printer import print_human
    from wsdash.core.recording import RecordingError, replay

    try:
        result = replay(args.file, budgets_from(args))
    except RecordingError as exc:
        return usage_error(str(exc))
    if args.json:
        print_json(result.to_json())
    else:
        print_human(result, sys.stdout)
    return result.exit_code
