"""The whole configuration: the core's sections plus the sections and roles plugins declare.

A plugin owns top-level keys through a `PluginConfig` model (its fields are the keys) and
may introduce room roles. `Schema` collects them; `Settings.with_schema(schema)` is the
settings class for that set of plugins, so `[rosters]` is a known key exactly when the
rosters plugin is loaded, and `VECINOS_ROSTERS__DAYS_AHEAD` overrides it like any other key.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar, cast

from pydantic import Field, PrivateAttr, create_model, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.config.sections import (
    Area,
    BotSection,
    HealthSection,
    InvitesSection,
    MatrixSection,
    RoomConfig,
    SignalSection,
)
from bot.core.config.values import (
    Problem,
    Section,
    UserId,
    did_you_mean,
    problems_error,
    unknown_area,
)
from bot.core.i18n import Language
from bot.core.permissions import Level

ENV_PREFIX = "VECINOS_"
ENV_DELIMITER = "__"


@dataclass(frozen=True)
class Role:
    """A room role: the level its members have, and traits other plugins look for."""

    name: str
    level: Level = Level.NEIGHBOR
    # A broadcast to an audience (ALERTS) reaches the rooms whose role has it as a trait;
    # a command limited to a trait (REPORTS) works in every room whose role has it.
    traits: frozenset[str] = field(default_factory=frozenset)


# Rooms that hear the confirmed alerts of their areas.
ALERTS = "alerts"
# Rooms where neighbors file reports.
REPORTS = "reports"
MODERATION = "moderation"
CORE_ROLES = (
    Role("neighborhood", Level.NEIGHBOR, frozenset({ALERTS, REPORTS})),
    Role(MODERATION, Level.NEIGHBOR),
)


class PluginConfig(Section):
    """The top-level keys a plugin owns: each field is a key (or table) of the config file."""

    def problems(self, settings: Settings) -> list[Problem]:
        """Checks against the rest of the config (areas, rooms), located from the top level."""
        return []

    def warnings(self, settings: Settings) -> list[str]:
        """What is allowed but likely not meant (`vecinos check` and the start say it)."""
        return []


C = TypeVar("C", bound=PluginConfig)


@dataclass(frozen=True)
class Schema:
    """What the loaded plugins add to the config."""

    configs: tuple[type[PluginConfig], ...] = ()
    roles: tuple[Role, ...] = ()

    def all_roles(self) -> tuple[Role, ...]:
        return (*CORE_ROLES, *self.roles)


class Settings(BaseSettings):
    """The core's configuration. Build it with ``load_settings``.

    Constructing it directly reads init arguments over ``VECINOS_*`` variables (no file) and
    keeps relative paths as given; `with_schema` gives the class that knows the plugins' keys.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )
    schema_: ClassVar[Schema] = Schema()

    bot: BotSection = Field(default_factory=BotSection)
    matrix: MatrixSection | None = None
    signal: SignalSection | None = None
    invites: InvitesSection = Field(default_factory=InvitesSection)
    health: HealthSection = Field(default_factory=HealthSection)
    areas: tuple[Area, ...] = ()
    rooms: tuple[RoomConfig, ...] = ()
    moderators: tuple[UserId, ...] = ()
    admins: tuple[UserId, ...] = ()

    # Rooms replaced by a successor (rotated), old id -> new id.
    _moved: dict[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def with_schema(cls, schema: Schema) -> type[Settings]:
        return _settings_class(schema)

    def with_network(
        self,
        areas: Sequence[Area],
        rooms: Sequence[RoomConfig],
        moved: Mapping[str, str] | None = None,
    ) -> Self:
        """These settings with another shape of the network (the config file's plus what
        admins changed from chat), checked as a file would be: raises the problems."""
        changed = self.model_copy(update={"areas": tuple(areas), "rooms": tuple(rooms)})
        changed._moved = dict(moved or {})
        return changed._resolve()

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        return self._resolve()

    def _resolve(self) -> Self:
        """Index the areas and rooms, refusing what they refer to but is not there."""
        vars(self).pop("_index", None)  # a copy's (`with_network`) is the network before
        index = self._index
        known = set(index.areas_by_slug)
        problems = [
            *self._area_problems(index.areas_by_slug, known),
            *self._room_problems(known, index.roles),
        ]
        for section in index.sections.values():
            problems += section.problems(self)
        if problems:
            raise problems_error(problems)
        index.ancestors, index.alert_areas = _area_maps(self.areas, index.areas_by_slug)
        return self

    @functools.cached_property
    def _index(self) -> _Index:
        """What the look-ups below read. Kept in the instance's own dictionary: pydantic
        reads a private attribute through `__getattr__`, microseconds each, and a command
        makes tens of these look-ups."""
        roles = {role.name: role for role in self.schema_.all_roles()}
        return _Index(
            areas_by_slug={area.slug: area for area in self.areas},
            roles=roles,
            fitting=_fitting_index(roles),
            rooms_by_key={(room.transport, room.id): room for room in self.rooms},
            rooms_by_area=_area_rooms(self.rooms),
            sections={
                kind: kind.model_construct(
                    **{name: getattr(self, name) for name in kind.model_fields}
                )
                for kind in self.schema_.configs
            },
        )

    def _area_problems(self, by_slug: Mapping[str, Area], known: set[str]) -> list[Problem]:
        first: dict[str, int] = {}
        problems: list[Problem] = []
        for index, area in enumerate(self.areas):
            if area.slug in first:
                where = f"areas[{first[area.slug]}]"
                problems.append((("areas", index, "slug"), f"duplicate of {where}"))
            else:
                first[area.slug] = index
            if area.parent is not None and area.parent not in known:
                problems.append((("areas", index, "parent"), unknown_area(area.parent, known)))
            for slug in area.near:
                if slug not in known:
                    problems.append((("areas", index, "near"), unknown_area(slug, known)))
        return problems + _cycle_problems(self.areas, by_slug, first)

    def _room_problems(self, known: set[str], roles: Mapping[str, Role]) -> list[Problem]:
        first: dict[tuple[str, str], int] = {}
        problems: list[Problem] = []
        # The transports whose rooms need a section the config lacks.
        unset = {"matrix": self.matrix is None, "signal": self.signal is None}
        for index, room in enumerate(self.rooms):
            if room.role not in roles:
                hint = did_you_mean(room.role, roles)
                message = f'must be one of {", ".join(roles)} (got "{room.role}"{hint})'
                problems.append((("rooms", index, "role"), message))
            for slug in room.areas:
                if slug not in known:
                    problems.append((("rooms", index, "areas"), unknown_area(slug, known)))
            key = (room.transport, room.id)
            if key in first:
                message = f"same {room.transport} room as rooms[{first[key]}]"
                problems.append((("rooms", index, "id"), message))
            else:
                first[key] = index
            if unset.get(room.transport, False):
                message = f"needs a [{room.transport}] section"
                problems.append((("rooms", index, "transport"), message))
        return problems

    def section(self, kind: type[C]) -> C:
        """A plugin's own config; the settings must have been built with its schema."""
        try:
            return cast(C, self._index.sections[kind])
        except KeyError:
            raise LookupError(f"{kind.__name__} is not part of these settings") from None

    def area(self, slug: str) -> Area | None:
        return self._index.areas_by_slug.get(slug)

    def ancestors(self, slug: str) -> tuple[str, ...]:
        """The areas `slug` is part of, nearest first (its parent, the parent's parent...)."""
        return self._index.ancestors.get(slug, ())

    def alert_areas(self, slug: str) -> frozenset[str]:
        """The areas an alert of `slug` reaches: itself, its ancestors, its descendants and
        the areas it lists as near."""
        return self._index.alert_areas.get(slug, frozenset({slug}))

    def serving_areas(self, role: str, area: str) -> list[str]:
        """`area` and its ancestors that have rooms fitting `role` (see `room_fits`),
        nearest first: the first serves `area`, the next ones are where to escalate."""
        index = self._index
        covered = index.covered.get(role)
        if covered is None:  # asked for every report: once per role, settings never change
            fitting = index.fitting.get(role, frozenset())
            covered = frozenset(
                slug for room in self.rooms if room.role in fitting for slug in room.areas
            )
            index.covered[role] = covered
        return [slug for slug in (area, *self.ancestors(area)) if slug in covered]

    def serving_rooms(self, role: str, area: str, level: int = 0) -> list[RoomConfig]:
        """The rooms fitting `role` that serve `area`: its own, or else those of its nearest
        ancestor that has some; `level` 1 is the next serving area up, and so on."""
        serving = self.serving_areas(role, area)
        if level >= len(serving):
            return []
        return self.rooms_hearing(role, serving[level])

    def room(self, transport: str, room_id: str) -> RoomConfig | None:
        return self._index.rooms_by_key.get((transport, room_id))

    def room_now(self, room_id: str) -> str:
        """The room that serves now in place of `room_id`: its latest successor, or
        itself when it was never replaced."""
        seen = {room_id}
        while (room_id := self._moved.get(room_id, room_id)) not in seen:
            seen.add(room_id)
        return room_id

    def role(self, name: str) -> Role:
        return self._index.roles[name]

    def rooms_with_role(self, *roles: str) -> list[RoomConfig]:
        return [room for room in self.rooms if room.role in roles]

    def rooms_hearing(self, audience: str, area: str) -> list[RoomConfig]:
        """The rooms covering `area` itself whose role has the trait `audience` (or is it)."""
        return self._rooms_at(self._index.rooms_by_area.get(area, ()), audience)

    def rooms_alerted(self, audience: str, area: str) -> list[RoomConfig]:
        """The rooms whose role has the trait `audience` (or is it) covering one of the
        areas an alert of `area` reaches (`alert_areas`)."""
        by_area = self._index.rooms_by_area
        # A room covering several of those areas is alerted once, in the config's order.
        found = {at for slug in self.alert_areas(area) for at in by_area.get(slug, ())}
        return self._rooms_at(sorted(found), audience)

    def _rooms_at(self, positions: Iterable[int], audience: str) -> list[RoomConfig]:
        """The rooms at `positions` of `rooms` whose role has the trait `audience` (or is
        it): the index by area spares a scan of every room."""
        rooms, fitting = self.rooms, self._index.fitting.get(audience, frozenset())
        return [rooms[at] for at in positions if rooms[at].role in fitting]

    def room_fits(self, room: RoomConfig, roles: frozenset[str]) -> bool:
        """Whether `room`'s role is one of `roles`, or has one of them as a trait."""
        role = self._index.roles.get(room.role)
        return role is not None and (role.name in roles or not roles.isdisjoint(role.traits))

    def role_names(self) -> list[str]:
        """Every room role the core and the loaded plugins declare, sorted."""
        return sorted(self._index.roles)

    def roles_fitting(self, roles: frozenset[str]) -> list[str]:
        """The names of the roles that fit `roles` (see `room_fits`), sorted."""
        every = self._index.roles.values()
        return sorted(role.name for role in every if role.name in roles or role.traits & roles)

    def room_language(self, transport: str, room_id: str) -> Language:
        room = self.room(transport, room_id)
        if room is not None and room.language is not None:
            return room.language
        return self.bot.default_language

    def invite_allowed(self, user_id: str) -> bool:
        return user_id in self.admins or self.invites.allows(user_id)

    def warnings(self) -> list[str]:
        """What the config allows but likely does not mean: the core's, then the plugins'."""
        found = []
        if not self.admins:
            found.append(
                "no admins: nobody can !trust a changed identity or add watch sites; "
                "add admins = [...] at the top of the config"
            )
        found += [
            f"area {area.slug} has no moderation room: its reports reach no moderator"
            for area in self.areas
            if not self.serving_areas(MODERATION, area.slug)
        ]
        for section in self._index.sections.values():
            found += section.warnings(self)
        return found


@dataclass
class _Index:
    """The settings' areas, rooms, roles and plugin sections, indexed for look-ups."""

    areas_by_slug: dict[str, Area]
    roles: dict[str, Role]
    # The names of the roles fitting each role name or trait (see `room_fits`).
    fitting: dict[str, frozenset[str]]
    rooms_by_key: dict[tuple[str, str], RoomConfig]
    # The positions in `rooms` of the rooms covering each area, in order, each room once.
    rooms_by_area: dict[str, list[int]]
    sections: dict[type[PluginConfig], PluginConfig]
    # Each area's ancestors, nearest first, and the areas its alerts reach (once the areas
    # are known to form a tree).
    ancestors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    alert_areas: dict[str, frozenset[str]] = field(default_factory=dict)
    # The areas that rooms of each role cover, by role (see `serving_areas`), as asked.
    covered: dict[str, frozenset[str]] = field(default_factory=dict)


def _fitting_index(roles: Mapping[str, Role]) -> dict[str, frozenset[str]]:
    """For each role name and trait, the names of the roles that fit it: the role itself,
    and every role having it as a trait (a set of them fits their union, see `room_fits`)."""
    fitting: dict[str, set[str]] = {}
    for role in roles.values():
        for fits in (role.name, *role.traits):
            fitting.setdefault(fits, set()).add(role.name)
    return {fits: frozenset(names) for fits, names in fitting.items()}


def _area_rooms(rooms: Sequence[RoomConfig]) -> dict[str, list[int]]:
    """The positions of the rooms covering each area, in order; a room listing an area
    twice is there once."""
    found: dict[str, list[int]] = {}
    for at, room in enumerate(rooms):
        areas = room.areas
        # Most rooms cover one area: no duplicates to drop, and no list made per room.
        for slug in areas if len(areas) == 1 else dict.fromkeys(areas):
            if slug in found:
                found[slug].append(at)
            else:
                found[slug] = [at]
    return found


def _cycle_problems(
    areas: Sequence[Area], by_slug: Mapping[str, Area], first: Mapping[str, int]
) -> list[Problem]:
    """One line per cycle of `parent`, at the first area of it in the file."""
    problems: list[Problem] = []
    reported: set[str] = set()
    for area in areas:
        path = [area.slug]
        parent = area.parent
        while parent is not None and parent in by_slug and parent not in path:
            path.append(parent)
            parent = by_slug[parent].parent
        if parent is None or parent not in path:
            continue
        cycle = path[path.index(parent) :]
        if reported.isdisjoint(cycle):
            reported.update(cycle)
            start = min(cycle, key=lambda slug: first[slug])
            at = cycle.index(start)
            loop = [*cycle[at:], *cycle[:at], start]
            message = f"cycle of parents: {' > '.join(loop)}"
            problems.append((("areas", first[start], "parent"), message))
    return problems


def _area_maps(
    areas: Sequence[Area], by_slug: Mapping[str, Area]
) -> tuple[dict[str, tuple[str, ...]], dict[str, frozenset[str]]]:
    """Each area's ancestors (nearest first) and alert reach; the parents form a tree."""
    ancestors: dict[str, tuple[str, ...]] = {}
    below: dict[str, list[str]] = {}  # each area's descendants
    for area in areas:
        found = []
        parent = area.parent
        while parent is not None:
            found.append(parent)
            if parent in below:
                below[parent].append(area.slug)
            else:
                below[parent] = [area.slug]
            parent = by_slug[parent].parent
        ancestors[area.slug] = tuple(found)
    reach: dict[str, frozenset[str]] = {}
    for area in areas:
        slug = area.slug
        reached = {slug, *ancestors[slug], *area.near}
        reached.update(below.get(slug, ()))
        reach[slug] = frozenset(reached)
    return ancestors, reach


@functools.cache
def _settings_class(schema: Schema) -> type[Settings]:
    if not schema.configs and not schema.roles:
        return Settings
    fields: dict[str, Any] = {}
    for kind in schema.configs:
        for name, info in kind.model_fields.items():
            if name in Settings.model_fields or name in fields:
                raise ValueError(f"config key {name!r} of {kind.__name__} is already taken")
            fields[name] = (info.annotation, info)
    model = create_model("Settings", __base__=Settings, **fields)
    model.schema_ = schema
    return model
