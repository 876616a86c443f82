"""Loading the config: a TOML file overridden by ``VECINOS_<SECTION>__<KEY>`` variables.

``load_settings`` is the entry point. Every problem becomes one line of ``ConfigError`` that
names the file (or environment variable) and the dotted key, and never echoes a secret.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, EnvSettingsSource, InitSettingsSource
from pydantic_settings.exceptions import SettingsError

from bot.core.config.sections import DEFAULT_DATA_DIR
from bot.core.config.settings import ENV_DELIMITER, ENV_PREFIX, Schema, Settings
from bot.core.config.values import PROBLEMS, Loc, Problem, did_you_mean, dotted

# Keys holding paths; relative ones are resolved against the config file's directory.
_PATH_KEYS = {
    "bot": ("data_dir", "data_key_file"),
    "matrix": ("password_file", "access_token_file"),
}

# No plugin keys or roles: the core's config alone.
CORE_ONLY = Schema()
# Rounds of checking again without the values found bad (see `_every_error`).
_MORE_ROUNDS = 4


class ConfigError(Exception):
    """Invalid configuration; ``str()`` is one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


class _MappingEnvSource(EnvSettingsSource):
    """The stock environment source, reading a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[Settings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # Settings are case-insensitive, so variable names are matched lower-cased.
        return {name.lower(): value for name, value in self._env.items()}


@dataclass(frozen=True)
class _Origin:
    """Where values came from, to name the file or the variable in error messages."""

    file: str | None
    env_names: frozenset[str]


def load_settings(
    path: Path | None, env: Mapping[str, str] | None = None, schema: Schema = CORE_ONLY
) -> Settings:
    """Load ``path`` (TOML, optional) overridden by ``VECINOS_*`` variables from ``env``,
    with the keys and roles the plugins of ``schema`` declare.

    ``env`` defaults to ``os.environ``. Relative paths, including the default data_dir,
    resolve against the file's directory (the working directory without a file).
    Raises ``ConfigError`` on any problem.
    """
    env = os.environ if env is None else env
    settings_class = Settings.with_schema(schema)
    data = _merge(_read_toml(path) if path is not None else {}, _read_env(settings_class, env))
    base_dir = path.absolute().parent if path is not None else Path.cwd()
    # Sources are merged here (to resolve paths and to name the source in errors), so
    # pydantic-settings gets them as one pre-merged source instead of reading os.environ.
    resolved = _resolve_paths(data, base_dir)
    # Typed as the base class: mypy's synthesized Settings.__init__ lacks its parameters.
    settings_cls: type[BaseSettings] = settings_class

    def build(values: dict[str, Any]) -> Settings:
        source = InitSettingsSource(settings_class, init_kwargs=values)
        return cast(Settings, settings_cls(_build_sources=((source,), {})))

    try:
        return build(resolved)
    except ValidationError as exc:
        origin = _Origin(
            file=str(path) if path is not None else None,
            env_names=frozenset(name.upper() for name in env),
        )
        problems = _every_error(build, resolved, _problems(exc, settings_class))
        raise ConfigError(_explain(problems, origin)) from None


def _every_error(
    build: Callable[[dict[str, Any]], object], data: dict[str, Any], found: list[Problem]
) -> list[Problem]:
    """Every problem at once, not only the first ones: the references between sections (a
    room's areas, its role) are checked only once every value is valid, so the values found
    bad are left out (their defaults stand in) and the rest is checked again."""
    problems = list(found)
    for _ in range(_MORE_ROUNDS):
        try:
            build(_without(data, [loc for loc, _ in problems]))
            break
        except ValidationError as exc:
            seen = [loc for loc, _ in problems]
            new = [p for p in _problems(exc, None) if not any(_beside(p[0], s) for s in seen)]
            if not new:
                break
            problems += new
    return problems


def _beside(loc: Loc, left_out: Loc) -> bool:
    """Whether `loc` is in the table a value was left out of: a problem there may come
    from the default standing in for it (a room's id read as a Matrix one), not the file."""
    table = left_out[:-1] if len(left_out) > 1 else left_out
    return loc[: len(table)] == table


def _without(data: dict[str, Any], locs: list[Loc]) -> dict[str, Any]:
    """`data` without the keys at `locs` (a list item stays, so later indices hold)."""
    pruned = copy.deepcopy(data)
    for loc in locs:
        node: Any = pruned
        for part in loc[:-1]:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        else:
            if loc and isinstance(node, dict):
                node.pop(loc[-1], None)
    return pruned


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None


def _read_env(settings_class: type[Settings], env: Mapping[str, str]) -> dict[str, Any]:
    try:
        return _MappingEnvSource(settings_class, env)()
    except SettingsError as exc:
        # pydantic-settings names only the top-level field whose JSON value failed to parse.
        match = re.search(r'field "([^"]+)"', str(exc))
        name = f"{ENV_PREFIX}{match[1].upper()}*" if match else f"{ENV_PREFIX}*"
        reason = f'lists and tables must be JSON, e.g. ["a", "b"] ({exc.__cause__})'
        raise ConfigError([f"{name}: {reason}"]) from None


def _resolve_paths(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    resolved = _merge({"bot": {"data_dir": str(DEFAULT_DATA_DIR)}}, data)
    for section, keys in _PATH_KEYS.items():
        table = resolved.get(section)
        if isinstance(table, dict):
            resolved[section] = {
                key: _resolved(value, base_dir) if key in keys else value
                for key, value in table.items()
            }
    return resolved


def _resolved(value: object, base_dir: Path) -> object:
    # Non-strings are left for validation to reject with a proper message.
    return str(base_dir / Path(value).expanduser()) if isinstance(value, str) else value


def _merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    merged = dict(low)
    for key, value in high.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            value = _merge(below, value)
        merged[key] = value
    return merged


# --- error translation -------------------------------------------------------------------


def _explain(problems: list[Problem], origin: _Origin) -> list[str]:
    lines: list[str] = []
    for loc, message in problems:
        line = f"{_where(loc, origin)}: {message}"
        if line not in lines:
            lines.append(line)
    return lines


def _problems(exc: ValidationError, model: type[BaseModel] | None) -> list[Problem]:
    """Each problem at its key; with `model`, an unknown key names a close known one."""
    return [problem for error in exc.errors() for problem in _problems_of(error, model)]


def _problems_of(error: ErrorDetails, model: type[BaseModel] | None) -> list[Problem]:
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if error["type"] == PROBLEMS:
        return [(loc + sub, message) for sub, message in ctx["problems"]]
    message = _message(error, ctx)
    if error["type"] == "extra_forbidden" and model is not None and isinstance(loc[-1], str):
        message += did_you_mean(loc[-1], _keys_at(model, loc[:-1]))
    return [(loc, message)]


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the table at `loc` may hold."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, str):
            field = current.model_fields.get(part)
            current = _model_in(field.annotation) if field is not None else None
    return list(current.model_fields) if current is not None else []


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The table type inside an annotation (`Section`, `Section | None`, `tuple[Section, ...]`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_model_in, get_args(annotation))), None)


def _message(error: ErrorDetails, ctx: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        got = error["input"]
        hint = did_you_mean(got, allowed) if isinstance(got, str) else ""
        return f"must be one of {', '.join(allowed)} (got {_shown(got)}{hint})"
    if kind == "value_error":
        return str(ctx["error"])
    if kind in _FIXED_MESSAGES:
        return _FIXED_MESSAGES[kind]
    if kind in _BOUND_MESSAGES:
        template, bound = _BOUND_MESSAGES[kind]
        return template.format(ctx[bound])
    # pydantic's own messages do not include the input, so they are safe to show.
    text = error["msg"]
    return text[:1].lower() + text[1:]


_FIXED_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "missing (required)",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be a string",
    "string_too_short": "must not be blank",
    "path_type": "must be a path",
    "tuple_type": "must be a list",
    "model_type": "must be a table",
}

_BOUND_MESSAGES = {
    "greater_than_equal": ("must be at least {}", "ge"),
    "less_than_equal": ("must be at most {}", "le"),
}


def _shown(value: object) -> str:
    # Only enum-like inputs are shown; they are never secrets. Long values are cut.
    text = value if isinstance(value, str) else repr(value)
    return f'"{text[:40]}..."' if len(text) > 40 else f'"{text}"'


def _where(loc: Loc, origin: _Origin) -> str:
    variable = _env_variable(loc, origin.env_names)
    if variable is not None:
        depth = variable.removeprefix(ENV_PREFIX).count(ENV_DELIMITER) + 1
        return variable if depth == len(loc) else f"{variable}: {dotted(loc)}"
    return f"{origin.file}: {dotted(loc)}" if origin.file else dotted(loc)


def _env_variable(loc: Loc, env_names: frozenset[str]) -> str | None:
    """The most specific ``VECINOS_*`` variable set for ``loc``, if the value came from one."""
    keys: list[str] = []
    for part in loc:
        if not isinstance(part, str):
            break
        keys.append(part)
    for depth in range(len(keys), 0, -1):
        name = ENV_PREFIX + ENV_DELIMITER.join(keys[:depth]).upper()
        if name in env_names:
            return name
    return None
