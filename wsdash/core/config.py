"""Configuration: targets, Docker and tiers from `wsdash.toml`, `WSDASH_*` variables and flags.

Every value remembers where it came from (built-in, a file, an environment variable, a flag) so
`wsdash config show` can answer "why is it this?". Secrets never live here: only the *names*
of the variables or files that hold them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from wsdash.core.ws_url import ws_url_problem
from wsdash.core.config_file import ConfigError, read_toml  # ConfigError: this module's, raised by both

CONFIG_NAME = "wsdash.toml"
AUTH_MODES = ("subprotocol+header", "subprotocol", "header", "query")
BUILTIN = "built-in"


@dataclass(frozen=True)
class TargetConfig:
    name: str
    ws_url: str
    health_url: str | None = None
    auth_health_url: str | None = None
    token_env: str | None = None
    secret_env: str | None = None
    secret_file: str | None = None
    e2e_auth_url: str | None = None  # auth service base URL for POST /auth/e2e/test-auth
    e2e_key_env: str | None = None  # the variable holding the X-E2E-Bypass-Key (never the key)
    auth: str = "subprotocol+header"
    tls_verify: bool = True
    required: bool = False


@dataclass(frozen=True)
class DockerConfig:
    required: bool = False
    host: str | None = None


@dataclass(frozen=True)
class HistoryConfig:
    """The run history (core/history.py): on by default, bounded by age and by count."""

    enabled: bool = True
    keep_days: float = 30.0
    max_runs: int = 100_000  # per kind (golden paths, tier runs); 0 = no count limit
    path: str | None = None  # None: history.sqlite3 in the user data dir


@dataclass(frozen=True)
class WatchConfig:
    """How often a golden path runs on a schedule: `wsdash watch`'s default --every and the
    dashboard's auto-run (w)."""

    every_s: float = 60.0


@dataclass
class Config:
    targets: dict[str, TargetConfig]
    docker: DockerConfig = field(default_factory=DockerConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    watch: WatchConfig = field(default_factory=WatchConfig)
    default_target: str = "local"
    tiers: list[dict[str, Any]] | None = None  # raw [[tiers]] tables; None → built-in tiers
    files: list[Path] = field(default_factory=list)  # the files actually read
    provenance: dict[str, str] = field(default_factory=dict)  # "targets.local.ws_url" → source
    ignored_env: list[str] = field(default_factory=list)  # each WSDASH_* variable that looks meant to configure, but did not: why

    def target(self, name: str | None = None) -> TargetConfig:
        name = self.default_target if name is None else name  # `--target ""` is no target, not the default
        try:
            return self.targets[name]
        except KeyError:
            known = ", ".join(sorted(self.targets))
            raise ConfigError(f"unknown target {name!r}: known targets are {known}") from None

    def source(self, key: str) -> str:
        return self.provenance.get(key, BUILTIN)

    @property
    def tiers_base_dir(self) -> str | None:
        """The folder of the file that defined [[tiers]]: relative `cwd` and `python` start there."""
        source = self.source("tiers")
        return os.path.dirname(os.path.abspath(source)) if os.path.isfile(source) else None


_TARGET_KEYS = {f.name for f in fields(TargetConfig)} - {"name"}
_DOCKER_KEYS = {f.name for f in fields(DockerConfig)}
_BOOL_KEYS = {"tls_verify", "required"}
_HISTORY_KEYS = {f.name for f in fields(HistoryConfig)}
_WATCH_KEYS = {f.name for f in fields(WatchConfig)}

BUILTIN_TARGETS: dict[str, TargetConfig] = {
    "local": TargetConfig(
        name="local",
        ws_url="ws://127.0.0.1:8002/ws",
        health_url="http://127.0.0.1:8002/health",
        secret_env="JWT_SECRET_KEY",
        required=True,
    ),
    "staging": TargetConfig(
        name="staging",
        ws_url="wss://api.staging.netrasystems.ai/ws",
        health_url="https://api.staging.netrasystems.ai/health",
        auth_health_url="https://auth.staging.netrasystems.ai/health",
        token_env="WSDASH_STAGING_TOKEN",
        e2e_auth_url="https://auth.staging.netrasystems.ai",
        e2e_key_env="WSDASH_E2E_BYPASS_KEY",
        required=False,
    ),
}


def config_paths(cwd: Path | None = None) -> list[Path]:
    """Where a configuration file is looked for, in order (the first that exists wins)."""
    from platformdirs import user_config_dir

    return [
        (cwd or Path.cwd()) / CONFIG_NAME,
        Path(user_config_dir("wsdash", appauthor=False)) / CONFIG_NAME,
    ]


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value.lower() in ("1", "true", "yes", "on")
    raise ConfigError(f"{where}: expected true or false, got {value!r}")


def _check_value(key: str, value: Any, where: str) -> Any:
    if key in _BOOL_KEYS:
        return _bool(value, where)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if key == "auth" and value not in AUTH_MODES:
        raise ConfigError(f"{where}: auth must be one of {', '.join(AUTH_MODES)}, got {value!r}")
    if key == "ws_url" and not value.startswith(("ws://", "wss://")):
        raise ConfigError(f"{where}: ws_url must start with ws:// or wss://, got {value!r}")
    if key == "ws_url" and (problem := ws_url_problem(value)) is not None:
        raise ConfigError(f"{where}: {problem}")
    if key in ("health_url", "auth_health_url", "e2e_auth_url") and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: {key} must start with http:// or https://, got {value!r}")
    return value


def _merge_target(
    cfg: Config, name: str, values: Mapping[str, Any], source: str, where: str
) -> None:
    unknown = set(values) - _TARGET_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} in [targets.{name}]; "
            f"known keys: {', '.join(sorted(_TARGET_KEYS))}"
        )
    checked = {k: _check_value(k, v, f"{where}: targets.{name}.{k}") for k, v in values.items()}
    if name in cfg.targets:
        old = cfg.targets[name]
        said = cfg.provenance.get(f"targets.{name}.health_url", "")
        # a health URL someone set (file or env) stays; the built-in one, or one that followed, moves
        moved = _health_follows(old, checked) if "health_url" not in checked and (said in ("", BUILTIN) or said.endswith("(follows ws_url)")) else None
        cfg.targets[name] = replace(old, **checked)
        if moved is not None:
            cfg.targets[name] = replace(cfg.targets[name], health_url=moved)
            cfg.provenance[f"targets.{name}.health_url"] = f"{source} (follows ws_url)"
    else:
        if "ws_url" not in checked:
            raise ConfigError(f"{where}: new target [targets.{name}] needs a ws_url")
        cfg.targets[name] = TargetConfig(name=name, **checked)
    for key in checked:
        cfg.provenance[f"targets.{name}.{key}"] = source


def _health_follows(old: TargetConfig, new: Mapping[str, Any]) -> str | None:
    """A health URL on the WebSocket's host and port moves with it when only ws_url is set
    (WSDASH_LOCAL_WS_URL=ws://127.0.0.1:9000/ws probed health on 8002, and said local was down)."""
    from urllib.parse import urlsplit, urlunsplit

    ws_url = new.get("ws_url")
    if not ws_url or not old.health_url:
        return None
    before, after, health = urlsplit(old.ws_url), urlsplit(ws_url), urlsplit(old.health_url)
    if health.netloc != before.netloc or after.netloc == before.netloc:
        return None
    scheme = "https" if after.scheme == "wss" else "http"
    return urlunsplit((scheme, after.netloc, health.path, health.query, ""))


def _number(value: Any, where: str, *, integer: bool = False, zero: bool = False) -> float:
    """A finite number ≥ 0 (> 0 unless `zero`); a whole one when `integer`. Strings come from
    environment variables."""
    import math

    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            pass
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= 0 if zero else value > 0) and (not integer or float(value).is_integer())
    if not ok:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{where}: expected {kind} {'≥ 0' if zero else '> 0'}, got {value!r}")
    return int(value) if integer else float(value)


def _set_history(cfg: Config, key: str, value: Any, source: str, where: str) -> None:
    if key not in _HISTORY_KEYS:
        raise ConfigError(f"{where}: unknown key {key!r} in [history]; known: {', '.join(sorted(_HISTORY_KEYS))}")
    if key == "enabled":
        value = _bool(value, where)
    elif key == "keep_days":
        value = _number(value, where)
    elif key == "max_runs":
        value = _number(value, where, integer=True, zero=True)
    elif not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: expected a file path, got {value!r}")
    else:
        value = os.path.expanduser(value)
        if not os.path.isabs(value) and os.path.isfile(source):
            # the file's neighbour, as a tier's cwd and python: run from elsewhere, a relative
            # path split the history into one file per working directory
            value = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(source)), value))
    cfg.history = replace(cfg.history, **{key: value})
    cfg.provenance[f"history.{key}"] = source


def _set_watch(cfg: Config, key: str, value: Any, source: str, where: str) -> None:
    if key not in _WATCH_KEYS:
        raise ConfigError(f"{where}: unknown key {key!r} in [watch]; known: {', '.join(sorted(_WATCH_KEYS))}")
    cfg.watch = replace(cfg.watch, every_s=_number(value, where))
    cfg.provenance[f"watch.{key}"] = source


def _target_name_problem(name: str) -> str | None:
    """Why a target cannot be called `name`: every command names targets on the command line
    (`--target`, `check --only a,b`) and in variables (WSDASH_<NAME>_WS_URL); `docker` is what
    `check` calls the Docker daemon, so a target of that name was never probed."""
    import re

    if name == "docker":
        return "'docker' is the Docker daemon's name in `wsdash check`: give the target another name"
    if not name or re.search(r"[\s,]", name):
        return "a target's name is one word without commas (it is typed after --target and in `check --only a,b`)"
    return None


def _apply_table(cfg: Config, data: Mapping[str, Any], source: str) -> None:
    known_top = {"targets", "docker", "default_target", "tiers", "history", "watch"}
    unknown = set(data) - known_top
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known_top))}")
    targets = data.get("targets", {})
    if not isinstance(targets, dict):
        raise ConfigError(f"{source}: [targets] must be a table of tables ([targets.NAME])")
    for name, values in targets.items():
        if (problem := _target_name_problem(name)) is not None:
            raise ConfigError(f"{source}: [targets.{name!r}]: {problem}")
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: targets.{name} must be a table")
        _merge_target(cfg, name, values, source, source)
    docker = data.get("docker", {})
    if not isinstance(docker, dict):
        raise ConfigError(f"{source}: [docker] must be a table")
    unknown = set(docker) - _DOCKER_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))} in [docker]; known: host, required")
    if "required" in docker:
        cfg.docker = replace(cfg.docker, required=_bool(docker["required"], f"{source}: docker.required"))
        cfg.provenance["docker.required"] = source
    if "host" in docker:
        cfg.docker = replace(cfg.docker, host=_check_value("host", docker["host"], f"{source}: docker.host"))
        cfg.provenance["docker.host"] = source
    for table, setter in (("history", _set_history), ("watch", _set_watch)):
        values = data.get(table, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{table}] must be a table")
        for key, value in values.items():
            setter(cfg, key, value, source, f"{source}: {table}.{key}")
    if "default_target" in data:
        cfg.default_target = _check_value("default_target", data["default_target"], f"{source}: default_target")
        cfg.provenance["default_target"] = source
    if "tiers" in data:
        tiers = data["tiers"]
        if not isinstance(tiers, list) or not all(isinstance(t, dict) for t in tiers):
            raise ConfigError(f"{source}: tiers must be an array of tables ([[tiers]])")
        cfg.tiers = tiers
        cfg.provenance["tiers"] = source


def _apply_env(cfg: Config, env: Mapping[str, str], read_elsewhere: frozenset[str] = frozenset()) -> None:
    from wsdash.core.config_env import unread_because

    """`WSDASH_<TARGET>_<KEY>` (e.g. WSDASH_STAGING_WS_URL), WSDASH_DEFAULT_TARGET, WSDASH_DOCKER_HOST,
    WSDASH_HISTORY_<KEY> (e.g. WSDASH_HISTORY_PATH) and WSDASH_WATCH_EVERY_S."""
    keys_by_len = sorted(_TARGET_KEYS, key=len, reverse=True)
    for var, value in sorted(env.items()):
        if not var.startswith("WSDASH_"):
            continue
        rest = var[len("WSDASH_"):]
        source = f"env {var}"
        if rest == "DEFAULT_TARGET":
            cfg.default_target = value
            cfg.provenance["default_target"] = source
            continue
        if rest in ("DOCKER_HOST", "DOCKER_REQUIRED"):
            key = rest.split("_", 1)[1].lower()
            v: Any = _bool(value, var) if key == "required" else value
            cfg.docker = replace(cfg.docker, **{key: v})
            cfg.provenance[f"docker.{key}"] = source
            continue
        section = next((t for t in ("HISTORY", "WATCH") if rest.startswith(t + "_")), None)
        if section is not None and rest[len(section) + 1:].lower() in (_HISTORY_KEYS if section == "HISTORY" else _WATCH_KEYS):
            setter = _set_history if section == "HISTORY" else _set_watch
            setter(cfg, rest[len(section) + 1:].lower(), value, source, var)
            continue
        suffix = next((k for k in keys_by_len if rest.endswith("_" + k.upper()) and len(rest) > len(k) + 1), None)
        name = rest[: -len(suffix) - 1].lower().replace("__", "-") if suffix else None
        # a variable spells its target in capitals: [targets.Prod] is read from WSDASH_PROD_… too
        name = next((t for t in cfg.targets if t.lower() == name), name) if name else None
        if suffix and name in cfg.targets:
            _merge_target(cfg, name, {suffix: value}, source, var)
        elif var not in read_elsewhere and (why := unread_because(
                var, rest, section, name, cfg, _config_variables(cfg),
                {"HISTORY": _HISTORY_KEYS, "WATCH": _WATCH_KEYS, "DOCKER": _DOCKER_KEYS})) is not None:
            cfg.ignored_env.append(f"{var} is not read: {why}")


def _config_variables(cfg: Config) -> list[str]:
    """Every WSDASH_* name that configures something, for config_env's "did you mean"."""
    names = ["WSDASH_DEFAULT_TARGET"] + [f"WSDASH_DOCKER_{k.upper()}" for k in _DOCKER_KEYS]
    names += [f"WSDASH_HISTORY_{k.upper()}" for k in _HISTORY_KEYS] + [f"WSDASH_WATCH_{k.upper()}" for k in _WATCH_KEYS]
    return names + [f"WSDASH_{t.upper().replace('-', '__')}_{k.upper()}" for t in cfg.targets for k in _TARGET_KEYS]


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    *,
    read_elsewhere: Iterable[str] = (),
) -> Config:
    """Built-ins, then the first config file found (or `path`), then `WSDASH_*` variables.
    `read_elsewhere`: variables a flag names (`--token-env`), never noted as not read."""
    env = os.environ if env is None else env
    cfg = Config(targets=dict(BUILTIN_TARGETS))
    explicit = path or env.get("WSDASH_CONFIG")
    if explicit:
        candidates = [Path(explicit)]
        # /dev/null (no file) and <(…) (a pipe) are read as files are
        if candidates[0].is_dir() or not candidates[0].exists():
            source = "" if path else " (WSDASH_CONFIG)"
            what = "is a folder, not a file" if candidates[0].is_dir() else "does not exist"
            raise ConfigError(f"config file {explicit}{source} {what}")
    else:
        candidates = [p for p in config_paths(cwd) if p.is_file()][:1]
    for file in candidates:
        _apply_table(cfg, read_toml(file), str(file))
        cfg.files.append(file)
    _apply_env(cfg, env, frozenset(read_elsewhere))
    if cfg.default_target not in cfg.targets:
        raise ConfigError(
            f"default_target {cfg.default_target!r} ({cfg.source('default_target')}) is not a "
            f"target: known targets are {', '.join(sorted(cfg.targets))}"
        )
    return cfg


def describe(cfg: Config) -> list[tuple[str, Any, str]]:
    """(key, value, source) rows for `wsdash config show`; secrets are never stored here."""
    rows: list[tuple[str, Any, str]] = [("default_target", cfg.default_target, cfg.source("default_target"))]
    for name, target in cfg.targets.items():
        for f in fields(TargetConfig):
            if f.name == "name":
                continue
            key = f"targets.{name}.{f.name}"
            rows.append((key, getattr(target, f.name), cfg.source(key)))
    rows.append(("docker.required", cfg.docker.required, cfg.source("docker.required")))
    rows.append(("docker.host", cfg.docker.host, cfg.source("docker.host")))
    for f in fields(HistoryConfig):
        rows.append((f"history.{f.name}", getattr(cfg.history, f.name), cfg.source(f"history.{f.name}")))
    rows.append(("watch.every_s", cfg.watch.every_s, cfg.source("watch.every_s")))
    rows.append(("tiers", f"{len(cfg.tiers)} from file" if cfg.tiers is not None else "built-in", cfg.source("tiers")))
    return rows
