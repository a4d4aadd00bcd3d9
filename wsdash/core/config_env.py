"""WSDASH_* variables that configure nothing but look meant to: a typo (STAGNG for STAGING), a
target that is not configured, a key a section does not have. An override that silently did
nothing has the run judged against the wrong place, so each is named with its likely fix
(`Config.ignored_env`; commands/common.load_config_noted says them). core/config.py applies the
variables that do configure."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from wsdash.core.config import Config

# wsdash's own hand-offs to the processes it starts (a tier's pytest, the demo suite, a probe), not
# configuration: never reported as ignored.
OWN_VARIABLES = {"WSDASH_CONFIG", "WSDASH_TARGET", "WSDASH_WS_URL", "WSDASH_WATCH_TOKEN"}
OWN_PREFIXES = ("WSDASH_TIER_", "WSDASH_DEMO_")


def not_config(var: str, cfg: Config) -> bool:
    """Read by wsdash but not as configuration: its own hand-offs, and the variables a target names
    as holding a token, secret or key (token_env = "WSDASH_PROD_TOKEN")."""
    named = {v for t in cfg.targets.values() for v in (t.token_env, t.secret_env, t.e2e_key_env) if v}
    return var in OWN_VARIABLES or var.startswith(OWN_PREFIXES) or var in named


def unread_because(var: str, rest: str, section: str | None, target: str | None, cfg: Config,
                   names: list[str], section_keys: Mapping[str, set[str]]) -> str | None:
    """Why a WSDASH_* variable that configures nothing looks like it meant to, or None for the rest,
    which may be anyone's (a variable holding a token). `names`: every variable that configures
    something; `section_keys`: HISTORY, WATCH and DOCKER's keys."""
    if not_config(var, cfg):
        return None
    close = difflib.get_close_matches(var, names, n=1, cutoff=0.9)
    holds = " (it holds the name of the variable with the secret, not the secret)" if close and close[0].endswith("_ENV") else ""
    typo = f"; did you mean {close[0]}{holds}?" if close else ""
    if section is not None or rest.startswith("DOCKER_"):
        part = section or "DOCKER"
        keys = section_keys[part]
        return f"[{part.lower()}] has no key {rest[len(part) + 1:].lower()!r} (known: {', '.join(sorted(keys))}){typo}"
    if target is not None:
        known = ", ".join(sorted(cfg.targets))
        return f"there is no target {target!r} (known targets: {known})" + (typo or f"; add [targets.{target}] to a config file to use it")
    return typo[2:] or None
