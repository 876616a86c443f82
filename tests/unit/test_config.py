from pathlib import Path

import pytest
from testkit.config import load_settings

from bot.core.config import ConfigError, Settings
from plugins.sightings.config import SightingsConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
SECRET = "correct-horse-battery-staple"

MATRIX = """
[matrix]
homeserver = "https://matrix.example.org"
user_id = "@vecinos:example.org"
"""

AREAS = """
[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as excinfo:
        load_settings(path, env or {})
    assert excinfo.value.__cause__ is None  # a chained pydantic error could print inputs
    return str(excinfo.value)


def test_example_loads() -> None:
    settings = load_settings(EXAMPLE, {})
    assert settings.matrix is not None
    assert settings.matrix.homeserver == "https://matrix.example.org"
    assert settings.area("little-village") is not None
    assert settings.area("little-village").name("es") == "La Villita"  # type: ignore[union-attr]
    roles = {room.role for room in settings.rooms}
    assert roles == {"neighborhood", "moderation", "alerts", "watch", "dispatch"}
    assert "es" in {room.language for room in settings.rooms}
    assert settings.admins and settings.moderators and settings.invites.allowed_users


def test_console_only_config_needs_no_file_and_no_matrix() -> None:
    settings = load_settings(None, {})
    assert settings.matrix is None
    assert settings.bot.command_prefix == "!"
    assert settings.bot.require_encryption is True


def test_env_overrides_nested_key_and_secret(tmp_path: Path) -> None:
    path = write(tmp_path, MATRIX + "[bot]\nrequire_encryption = true\nlog_level = 'ERROR'\n")
    env = {"VECINOS_BOT__REQUIRE_ENCRYPTION": "false", "VECINOS_MATRIX__PASSWORD": SECRET}
    settings = load_settings(path, env)
    assert settings.bot.require_encryption is False
    assert settings.bot.log_level == "ERROR"  # untouched file value survives the merge
    assert settings.matrix is not None
    assert settings.matrix.password_value() == SECRET


def test_environment_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VECINOS_BOT__LOG_LEVEL", "debug")
    assert load_settings(None).bot.log_level == "DEBUG"
    assert load_settings(None, {}).bot.log_level == "INFO"  # a given mapping replaces it


def test_init_args_beat_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VECINOS_BOT__COMMAND_PREFIX", "?")
    assert Settings().bot.command_prefix == "?"
    assert Settings(bot={"command_prefix": "#"}).bot.command_prefix == "#"  # type: ignore[arg-type]


def test_password_file_is_read_relative_to_config_dir(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "pw").write_text(f"  {SECRET}\n", encoding="utf-8")
    path = write(tmp_path, MATRIX + 'password_file = "secrets/pw"\n')
    matrix = load_settings(path, {}).matrix
    assert matrix is not None
    assert matrix.password_value() == SECRET
    assert matrix.access_token_value() is None


def test_missing_password_file_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, MATRIX + 'password_file = "nope.txt"\n')
    message = config_error(path)
    assert message.startswith(f"{path}: matrix.password_file: cannot read ")
    assert "nope.txt" in message


def test_password_and_password_file_together_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-file", encoding="utf-8")
    path = write(tmp_path, MATRIX + f'password = "{SECRET}"\npassword_file = "pw"\n')
    message = config_error(path)
    assert message == f"{path}: matrix.password: set either password or password_file, not both"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, '[bot]\ncomand_prefix = "!"\n')
    assert config_error(path) == (
        f"{path}: bot.comand_prefix: unknown key: did you mean command_prefix?"
    )


def test_wrong_enum_value_lists_allowed_values(tmp_path: Path) -> None:
    rooms = '[[rooms]]\nid = "!a:x.org"\nrole = "watch"\nareas = ["pilsen"]\n'
    rooms += '[[rooms]]\nid = "!b:x.org"\nrole = "alert"\nareas = ["pilsen"]\n'
    path = write(tmp_path, MATRIX + AREAS + rooms)
    assert config_error(path) == (
        f"{path}: rooms[1].role: must be one of neighborhood, moderation, aid, watch, legal,"
        ' dispatch, alerts (got "alert": did you mean alerts?)'
    )


def test_unknown_area_in_room_is_named(tmp_path: Path) -> None:
    room = '[[rooms]]\nid = "!a:x.org"\nrole = "alerts"\nareas = ["pilsen", "pilzen"]\n'
    path = write(tmp_path, MATRIX + AREAS + room)
    assert config_error(path) == (
        f'{path}: rooms[0].areas: unknown area "pilzen": did you mean pilsen? (known: pilsen)'
    )


def test_room_without_area_and_duplicate_room_are_named(tmp_path: Path) -> None:
    rooms = '[[rooms]]\nid = "!a:x.org"\nrole = "watch"\nareas = ["pilsen"]\n'
    rooms += '[[rooms]]\nid = "!a:x.org"\nrole = "moderation"\nareas = ["pilsen"]\n'
    rooms += '[[rooms]]\nid = "!c:x.org"\nrole = "watch"\n'
    lines = config_error(write(tmp_path, MATRIX + AREAS + rooms)).splitlines()
    assert [line.split(": ", 2)[1:] for line in lines] == [
        ["rooms[2].areas", "a watch room needs at least one area"],
    ]
    rooms = rooms.rsplit("[[rooms]]", 1)[0]
    lines = config_error(write(tmp_path, MATRIX + AREAS + rooms)).splitlines()
    assert [line.split(": ", 2)[1:] for line in lines] == [
        ["rooms[1].id", "same matrix room as rooms[0]"],
    ]


def test_bad_matrix_user_ids_are_named(tmp_path: Path) -> None:
    text = 'admins = ["+15550100", "@bad"]\n' + MATRIX.replace("@vecinos:example.org", "vecinos")
    lines = config_error(write(tmp_path, text)).splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == ["matrix.user_id", "admins[1]"]
    assert all("must be a Matrix user id like @name:example.org" in line for line in lines)


def test_toml_syntax_error_shows_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[bot]\ncommand_prefix = "!"\nlog_level = \n')
    message = config_error(path)
    assert message.startswith(f"{path}: invalid TOML: ")
    assert "line 3" in message


def test_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert config_error(path) == f"{path}: file not found"


def test_environment_errors_name_the_variable(tmp_path: Path) -> None:
    env = {"VECINOS_BOT__REQUIRE_ENCRYPTION": "maybe", "VECINOS_BOT__LOG_LEVEL": "loud"}
    lines = config_error(write(tmp_path, ""), env).splitlines()
    assert lines == [
        "VECINOS_BOT__REQUIRE_ENCRYPTION: must be true or false",
        'VECINOS_BOT__LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR (got "LOUD")',
    ]


def test_one_line_per_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "[bot]\ncommand_prefix = 'a b'\ncommand_max_age_minutes = 0\n")
    assert config_error(path).splitlines() == [
        f"{path}: bot.command_prefix: must be 1 to 3 characters without spaces",
        f"{path}: bot.command_max_age_minutes: must be at least 1",
    ]


def test_secrets_never_shown(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(SECRET, encoding="utf-8")
    path = write(tmp_path, MATRIX + 'access_token_file = "token"\n')
    env = {"VECINOS_MATRIX__PASSWORD": SECRET}
    settings = load_settings(path, env)
    assert settings.matrix is not None
    assert settings.matrix.access_token_value() == SECRET
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in settings.model_dump_json()

    broken = [
        MATRIX + f'password = "{SECRET}"\npassword_file = "token"\n',  # conflict
        MATRIX + f'passwrod = "{SECRET}"\n',  # typo key
        MATRIX + f"password = {len(SECRET)}\n[bot]\nlog_level = 'LOUD'\n",  # wrong type
    ]
    for text in broken:
        assert SECRET not in config_error(write(tmp_path, text), env)
    # Direct construction raises pydantic's own error, which must not show inputs either.
    matrix = {"homeserver": "https://x.org", "user_id": "@a:x.org", "password": [SECRET]}
    with pytest.raises(ValueError) as excinfo:
        Settings(matrix=matrix)  # type: ignore[arg-type]
    assert SECRET not in str(excinfo.value)


def test_relative_data_dir_resolves_against_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    monkeypatch.chdir(tmp_path)
    path = write(config_dir, '[bot]\ndata_key_file = "keys/data.key"\n')
    relative = Path("etc") / "config.toml"
    settings = load_settings(relative, {})
    assert settings.bot.data_dir == config_dir / "data"
    assert settings.bot.data_key_file == config_dir / "keys" / "data.key"
    env = {"VECINOS_BOT__DATA_DIR": "/srv/vecinos"}
    assert load_settings(path, env).bot.data_dir == Path("/srv/vecinos")


def test_invite_rules() -> None:
    settings = Settings.model_validate(
        {
            "admins": ["@admin:elsewhere.net"],
            "invites": {"allowed_users": ["@rosa:other.org"], "allowed_servers": ["example.org"]},
        }
    )
    assert settings.invite_allowed("@rosa:other.org")
    assert settings.invite_allowed("@anyone:example.org")
    assert settings.invite_allowed("@admin:elsewhere.net")
    assert not settings.invite_allowed("@stranger:evil.example")
    assert not settings.invite_allowed("@mallory:evil.example.org")
    assert not settings.invites.allows("@admin:elsewhere.net")


def test_room_lookup_and_language_fallback() -> None:
    settings = load_settings(EXAMPLE, {"VECINOS_BOT__DEFAULT_LANGUAGE": "es"})
    watch = settings.room("matrix", "!whittier-watch:example.org")
    assert watch is not None and watch.role == "watch" and watch.language is None
    assert settings.room_language("matrix", "!whittier-watch:example.org") == "es"
    assert settings.room_language("matrix", "!verificadores:example.org") == "en"
    assert settings.room("signal", "!whittier-watch:example.org") is None
    assert settings.room_language("console", "unknown") == "es"


def test_trust_policy_defaults_to_tofu_and_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, MATRIX)
    matrix = load_settings(path, {}).matrix
    assert matrix is not None and matrix.trust_policy == "tofu"
    strict = load_settings(path, {"VECINOS_MATRIX__TRUST_POLICY": "cross-signed-only"}).matrix
    assert strict is not None and strict.trust_policy == "cross-signed-only"
    path = write(tmp_path, MATRIX + 'trust_policy = "verified"\n')
    assert config_error(path) == (
        f'{path}: matrix.trust_policy: must be one of tofu, cross-signed-only (got "verified")'
    )
    example = load_settings(EXAMPLE, {}).matrix
    assert example is not None and example.trust_policy == "tofu"


def test_reports_section_defaults_and_checks(tmp_path: Path) -> None:
    reports = load_settings(None, {}).reports
    assert (reports.expire_hours, reports.retention_days, reports.stale_minutes) == (4, 7, 30)
    assert (reports.per_person_limit, reports.per_person_window_minutes) == (5, 10)
    assert (reports.dialog_timeout_minutes, reports.timezone) == (10, None)
    assert load_settings(EXAMPLE, {}).reports.timezone == "America/Chicago"
    path = write(tmp_path, '[reports]\ntimezone = "Mars/Olympus"\nretention_days = 0\n')
    assert config_error(path) == (
        f"{path}: reports.retention_days: must be at least 1\n"
        f"{path}: reports.timezone: must be an IANA time zone like America/Chicago"
    )
    assert config_error(None, {"VECINOS_REPORTS__EXPIRE_HOURS": "100"}) == (
        "VECINOS_REPORTS__EXPIRE_HOURS: must be at most 72"
    )
    assert (reports.alert_stale_hours, reports.alert_expire_hours) == (2, 12)
    path = write(tmp_path, "[reports]\nalert_stale_hours = 6\nalert_expire_hours = 6\n")
    assert config_error(path) == (
        f"{path}: reports.alert_expire_hours: must be more than alert_stale_hours (6)"
    )


SIGNAL_GROUP = "Pmpi+EfPWmsxiomLe9Nx2XF9HOE483p6iKiFj65iMwI="


def test_signal_section_modes_and_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, '[signal]\naccount = "+15550001111"\n')
    signal = load_settings(path, {}).signal
    assert signal is not None
    assert (signal.account, signal.mode) == ("+15550001111", "http")
    assert signal.url == "http://127.0.0.1:8080"
    tcp = load_settings(path, {"VECINOS_SIGNAL__MODE": "tcp", "VECINOS_SIGNAL__PORT": "7600"})
    assert tcp.signal is not None and (tcp.signal.host, tcp.signal.port) == ("127.0.0.1", 7600)
    assert load_settings(None, {}).signal is None


def test_signal_section_errors_are_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[signal]\naccount = "5550001111"\nurl = "localhost:8080"\nport = 7583\n',
    )
    assert config_error(path) == (
        f"{path}: signal.account: must be a phone number in international format like "
        "+15551234567\n"
        f"{path}: signal.url: must be an http(s) URL like http://127.0.0.1:8080"
    )
    path = write(tmp_path, '[signal]\naccount = "+15550001111"\nport = 7583\n')
    assert config_error(path) == f'{path}: signal.port: only used with mode = "tcp"'
    path = write(tmp_path, '[signal]\naccount = "+15550001111"\nmode = "tcp"\nurl = "http://x"\n')
    assert config_error(path) == f'{path}: signal.url: only used with mode = "http"'


def test_signal_rooms_need_a_group_id_and_the_signal_section(tmp_path: Path) -> None:
    room = '[[rooms]]\nid = "{}"\ntransport = "signal"\nrole = "alerts"\nareas = ["pilsen"]\n'
    path = write(tmp_path, AREAS + room.format(SIGNAL_GROUP))
    assert config_error(path) == f"{path}: rooms[0].transport: needs a [signal] section"
    signal = '[signal]\naccount = "+15550001111"\n'
    path = write(tmp_path, signal + AREAS + room.format(SIGNAL_GROUP) + room.format("!a:b.c"))
    assert config_error(path) == (
        f"{path}: rooms[1].id: must be a Signal group id (base64, as signal-cli listGroups "
        "shows it)"
    )
    path = write(tmp_path, signal + AREAS + room.format(SIGNAL_GROUP))
    settings = load_settings(path, {})
    assert settings.room("signal", SIGNAL_GROUP) is not None


WATCH_ROOM = """
[[rooms]]
id = "!watch:example.org"
role = "watch"
areas = ["pilsen"]

[[rooms]]
id = "!hood:example.org"
role = "neighborhood"
areas = ["pilsen"]
"""

SITE = """
[[sites]]
slug = "whittier"
name = "Whittier Elementary"
area = "pilsen"
timezone = "America/Chicago"
room = "!watch:example.org"
"""


def test_sites_and_rosters_defaults(tmp_path: Path) -> None:
    windows = (
        'windows = ["dropoff mon-fri 07:30-08:15 need 2 max 4",'
        ' "pickup lun-vie 14:45-15:30 necesita 3"]\n'
    )
    path = write(tmp_path, MATRIX + AREAS + WATCH_ROOM + SITE + windows + "skip = [2026-12-24]\n")
    settings = load_settings(path, {})
    [site] = settings.sites
    assert (site.slug, site.timezone, len(site.windows)) == ("whittier", "America/Chicago", 2)
    assert [day.isoformat() for day in site.skip] == ["2026-12-24"]
    rosters = settings.rosters
    assert (rosters.days_ahead, rosters.retention_days, rosters.reminder_minutes) == (14, 14, 30)
    assert (rosters.evening_reminder, rosters.coverage_hours, rosters.checkin_minutes) == (
        "18:00",
        (24, 2),
        10,
    )
    school, rota = load_settings(EXAMPLE, {}).sites
    assert school.room == "!whittier-watch:example.org"
    assert rota.room == "!despacho-pilsen:example.org"
    assert "corte 2026-12-09 09:00-11:00 need 2" in rota.windows


def test_site_errors_are_one_line_each(tmp_path: Path) -> None:
    bad = SITE.replace('"pilsen"', '"pilsn"').replace("!watch:", "!hood:")
    path = write(tmp_path, MATRIX + AREAS + WATCH_ROOM + bad + SITE)
    assert config_error(path) == (
        f'{path}: sites[0].area: unknown area "pilsn": did you mean pilsen? (known: pilsen)\n'
        f'{path}: sites[0].room: "!hood:example.org" is not a room with role = "dispatch" or'
        ' role = "watch" in [[rooms]]\n'
        f"{path}: sites[1].slug: duplicate of sites[0]"
    )


def test_bad_windows_and_times_name_the_key(tmp_path: Path) -> None:
    windows = (
        'windows = ["dropoff mon-fri 08:15-07:30 need 2", "x mon 07:00-08:00 need 1",'
        ' "x tue 09:00-10:00 need 1"]\n'
    )
    site = SITE.replace("America/Chicago", "Chicago") + windows
    rosters = '[rosters]\nevening_reminder = "6pm"\ncoverage_hours = [24, 0]\n'
    path = write(tmp_path, MATRIX + rosters + AREAS + WATCH_ROOM + site)
    assert config_error(path) == (
        f"{path}: rosters.evening_reminder: must be a time of day like 18:00\n"
        f"{path}: rosters.coverage_hours[1]: must be at least 1\n"
        f"{path}: sites[0].timezone: must be an IANA time zone like America/Chicago\n"
        f'{path}: sites[0].windows[0]: "08:15-07:30": the end must be after the start'
    )
    fixed = windows.replace("08:15-07:30", "07:30-08:15")
    path = write(tmp_path, MATRIX + AREAS + WATCH_ROOM + SITE + fixed)
    assert config_error(path) == f'{path}: sites[0].windows[2]: window "x" is defined twice'


def test_health_section_defaults_and_checks(tmp_path: Path) -> None:
    health = load_settings(None, {}).health
    assert (health.enabled, health.host, health.port) == (True, "127.0.0.1", 9464)
    assert (health.max_sync_age_seconds, health.max_outbox_backlog) == (120, 500)
    assert load_settings(EXAMPLE, {}).health == health
    free = load_settings(None, {"VECINOS_HEALTH__PORT": "0", "VECINOS_HEALTH__HOST": "::1"})
    assert (free.health.port, free.health.host) == (0, "::1")
    path = write(
        tmp_path,
        '[health]\nport = 70000\nhost = "local host"\nmax_sync_age_seconds = 10\nwhat = 1\n',
    )
    assert config_error(path) == (
        f"{path}: health.host: must be an IP address like 127.0.0.1 or a host name\n"
        f"{path}: health.port: must be at most 65535\n"
        f"{path}: health.max_sync_age_seconds: must be at least 60\n"
        f"{path}: health.what: unknown key"
    )
    assert config_error(None, {"VECINOS_HEALTH__ENABLED": "maybe"}) == (
        "VECINOS_HEALTH__ENABLED: must be true or false"
    )


def test_dispatch_section_is_checked_like_the_others(tmp_path: Path) -> None:
    path = write(tmp_path, MATRIX + "[dispatch]\nack_minutes = 0\n" + AREAS)
    assert config_error(path) == f"{path}: dispatch.ack_minutes: must be at least 1"
    confirms = '[dispatch]\nverifier_confirms = ["pilsen", "pilzen"]\n'
    path = write(tmp_path, MATRIX + confirms + AREAS)
    assert config_error(path) == (
        f'{path}: dispatch.verifier_confirms[1]: unknown area "pilzen": did you mean pilsen?'
        " (known: pilsen)"
    )
    env = {"VECINOS_DISPATCH__CHECKIN_GRACE_MINUTES": "20"}
    assert load_settings(None, env).dispatch.checkin_grace_minutes == 20


def test_rooms_that_keep_plates_must_be_configured(tmp_path: Path) -> None:
    path = write(tmp_path, '[reports]\nkeep_plates_in = ["!nowhere:example.org"]\n')
    assert config_error(path) == (
        f'{path}: reports.keep_plates_in[0]: "!nowhere:example.org" is not a room in [[rooms]]'
    )


def test_times_default_to_the_machines_zone_and_utc_is_never_silent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("tzlocal.get_localzone_name", lambda: "America/Bogota")
    settings = load_settings(None, {})
    assert str(settings.section(SightingsConfig).reports.zone()) == "America/Bogota"
    assert not [w for w in settings.warnings() if "timezone" in w]

    monkeypatch.setattr("tzlocal.get_localzone_name", lambda: "Etc/UTC")
    assert "reports.timezone is not set and this machine's time zone is UTC" in (
        " ".join(load_settings(None, {}).warnings())
    )
    monkeypatch.setattr("tzlocal.get_localzone_name", lambda: None)  # a bare container
    assert str(load_settings(None, {}).section(SightingsConfig).reports.zone()) == "UTC"
    path = write(tmp_path, '[reports]\ntimezone = "UTC"\n')  # chosen, or written by init
    assert [w for w in load_settings(path, {}).warnings() if "timezone" in w] == [
        "reports.timezone is UTC: people see UTC times; if they do not live by it, set"
        ' [reports] timezone = "America/Chicago" (your zone)'
    ]
