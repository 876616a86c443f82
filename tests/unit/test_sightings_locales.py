"""Every string of the sightings plugin exists in English and Spanish, with the same
placeholders, and every value a report can hold has a name in both."""

from __future__ import annotations

from pathlib import Path
from string import Formatter

import pytest

from bot.core.config import Settings
from bot.core.i18n import LANGUAGES, Catalog, Language
from bot.core.plugin import schema_of
from bot.runtime.app import Application
from bot.storage.keys import DataKey
from plugins.sightings import Sightings
from plugins.sightings.decisions import UNTOLD
from plugins.sightings.lifecycle import Action, Status
from plugins.sightings.model import ATTACHMENT_KINDS, Activity, Direction, Marking, Report, Source


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def test_both_languages_have_every_key(catalog: Catalog) -> None:
    assert catalog.missing() == []


def test_both_languages_use_the_same_placeholders(catalog: Catalog) -> None:
    def used(lang: Language, key: str) -> set[str]:
        # Every plural form of a string uses the same placeholders.
        return set().union(*(placeholders(form) for form in catalog.templates(lang, key)))

    differing = [key for key in catalog.keys("en") if used("en", key) != used("es", key)]
    assert differing == []


def test_spanish_is_a_translation(catalog: Catalog) -> None:
    same = [
        key
        for key in catalog.keys("en")
        if key.startswith(("sightings.", "help."))
        and catalog.templates("en", key) == catalog.templates("es", key)
    ]
    # Agency names, emoji-only and format strings are the same in both languages.
    assert all(
        key.startswith(("sightings.marking.", "sightings.attachment.audio"))
        or key in ("sightings.card.history_line", "sightings.attachment.video")
        for key in same
    ), same


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("sightings.status", [s.value for s in Status]),
        ("sightings.activity", [a.value for a in Activity]),
        ("sightings.source", [s.value for s in Source]),
        ("sightings.marking", [m.value for m in Marking]),
        ("sightings.direction", [d.value for d in Direction]),
        ("sightings.action", [a.value for a in Action]),
        ("sightings.attachment", sorted(ATTACHMENT_KINDS)),
        (
            "sightings.field",
            [
                "when",
                "what",
                *(
                    f
                    for f in Report.model_fields
                    if f not in ("observed_at", "activity", "description")
                ),
            ],
        ),
        ("sightings.notice", [a.value for a in Action if a not in UNTOLD]),
    ],
)
def test_every_value_has_a_name(catalog: Catalog, prefix: str, values: list[str]) -> None:
    for value in values:
        for lang in LANGUAGES:
            assert f"{prefix}.{value}" in catalog.keys(lang), (lang, value)


async def test_every_command_has_help_and_named_arguments(tmp_path: Path) -> None:
    settings = Settings.with_schema(schema_of([Sightings]))(bot={"data_dir": str(tmp_path)})
    app = Application(settings, DataKey.generate(), [Sightings])
    await app.open()
    try:
        catalog = app.runtime.catalog
        specs = [s for s in app.runtime.registry.commands_for(level=100) if s.name != "ping"]
        for spec in specs:
            assert catalog.has(f"help.{spec.name}"), spec.name
            assert "es" in spec.aliases, spec.name
            for param in spec.params:
                assert catalog.has(f"arg.{param.name}"), (spec.name, param.name)
    finally:
        await app.bot.db.close()
