"""`wsdash config show|path`: the merged configuration with provenance, and where it is read."""

from __future__ import annotations

import argparse
import json
import sys

from wsdash.commands.common import print_json, usage_error
from wsdash.core.config import ConfigError, config_paths, describe, load_config
from wsdash.commands.term import painter


def run(args: argparse.Namespace) -> int:
    if args.config_command == "path":
        for path in config_paths():
            state = "found" if path.is_file() else "absent"
            print(f"{path}  ({state})")
        print("override with --config FILE or WSDASH_CONFIG; single values with WSDASH_<TARGET>_<KEY>, e.g. WSDASH_STAGING_WS_URL")
        return 0
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        return usage_error(str(exc))
    rows = describe(cfg)
    if args.json:
        print_json({"files": [str(f) for f in cfg.files], "values": [{"key": k, "value": v, "source": s} for k, v, s in rows]})
        return 0
    p = painter(sys.stdout)
    print(p("files read: ", "bold") + (", ".join(map(str, cfg.files)) or "none (built-in defaults)"))
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        shown = json.dumps(value) if not isinstance(value, str) else value
        print(f"{key:<{width}}  {shown:<45} {p(source, 'dim')}")
    return 0
