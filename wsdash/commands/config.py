"""`wsdash config show|path`: the merged configuration with provenance, and where it is read."""

from __future__ import annotations

import argparse
import sys

from typing import Any

from wsdash.commands.common import Parser, add_shared_flags, print_json, reads_shared, usage_error


def register(sub: Any) -> None:
    cf = sub.add_parser("config", help="show the merged configuration or where it is read from")
    cf_sub = cf.add_subparsers(dest="config_command", metavar="ACTION", parser_class=Parser, required=True)
    show = cf_sub.add_parser("show", help="every value with where it came from (secrets masked)")
    show.add_argument("--json", action="store_true")
    add_shared_flags(show, "config")
    reads_shared(cf_sub.add_parser("path", help="the configuration file locations, in the order they are tried"), "config")
    cf.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from wsdash.commands.term import painter
    from wsdash.core.config import ConfigError, config_paths, describe, load_config
    from wsdash.core.redact import scrub

    if args.config_command == "path":
        if getattr(args, "config", None):
            print(f"{args.config}  (given with --config: the only file read)")
        for path in config_paths():
            state = "found" if path.is_file() else "absent"
            print(f"{path}  ({state})")
        print("override with --config FILE or WSDASH_CONFIG; single values with WSDASH_<TARGET>_<KEY>, e.g. WSDASH_STAGING_WS_URL")
        return 0
    try:
        cfg = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        return usage_error(str(exc))
    rows = describe(cfg)
    if args.json:
        print_json({"files": [str(f) for f in cfg.files], "values": [{"key": k, "value": v, "source": s} for k, v, s in rows],
                    "ignored_env": cfg.ignored_env})
        return 0
    p = painter(sys.stdout)
    print(p("files read: ", "bold") + (", ".join(map(str, cfg.files)) or "none (built-in defaults)"))
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        shown = json.dumps(value) if not isinstance(value, str) else value
        print(scrub(f"{key:<{width}}  {shown:<45} ") + p(scrub(source), "dim"))
    if cfg.ignored_env:
        print(p("variables not read:", "bold"))
        for message in cfg.ignored_env:
            print(p("  ! ", "yellow") + scrub(message))
    return 0
