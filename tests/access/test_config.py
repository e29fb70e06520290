"""STUDY.duckdb.access.toml: defaults, the template, every field's check, any text at all."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.access.accounts import Account
from analysis.access.config import (
    AccessConfig,
    access_paths,
    load_access_config,
    parse_access_config,
    scope_for,
    write_default_config,
)
from analysis.access.roles import Role
from analysis.errors import DesistError, InvalidAccessConfigError

SHA = "a" * 64


def _write(db, text: str):
    access_paths(db).config.write_text(text, encoding="utf-8")
    return access_paths(db).config


def test_no_file_means_no_access_control(db):
    assert load_access_config(db) is None


@pytest.mark.parametrize("method", ["accounts", "oidc"])
def test_the_template_loads_with_the_documented_defaults(db, method):
    path = write_default_config(db, method)
    config = load_access_config(db)
    assert config == AccessConfig(method=method, path=path)


def test_the_header_template_refuses_to_load_until_the_secret_is_set(db):
    path = write_default_config(db, "header")
    with pytest.raises(InvalidAccessConfigError, match="secret_sha256") as refused:
        load_access_config(db)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if text.startswith("secret_sha256"))
    assert f"{path} line {line}: field header.secret_sha256" in str(refused.value)
    path.write_text(path.read_text().replace("REPLACE WITH sha256sum OF THE SECRET", SHA.upper()))
    assert load_access_config(db).secret_sha256 == SHA


def test_the_template_is_owner_only_whatever_the_umask(db, permissive_umask):
    path = write_default_config(db)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_template_is_never_replaced(db):
    path = _write(db, 'method = "oidc"\n')
    with pytest.raises(DesistError, match="already exists"):
        write_default_config(db)
    assert path.read_text() == 'method = "oidc"\n'


def test_every_setting_is_read_from_its_table(db):
    _write(db, f"""method = "header"
[min_cell]
analyst_floor = 6
planner = 12
donor_floor = 20
[session]
idle_minutes = 10
max_hours = 2
[login]
max_failures = 3
window_minutes = 5
[header]
user = "X-User"
secret = "X-Secret"
secret_sha256 = "{SHA}"
[oidc]
claim = "preferred_username"
secrets_file = "/etc/desistance/secrets.toml"
""")
    config = load_access_config(db)
    assert (config.analyst_min_cell_floor, config.planner_min_cell,
            config.donor_min_cell_floor) == (6, 12, 20)
    assert (config.session_idle_minutes, config.session_max_hours) == (10, 2)
    assert (config.max_failures, config.failure_window_minutes) == (3, 5)
    assert (config.user_header, config.secret_header, config.secret_sha256) == (
        "X-User", "X-Secret", SHA)
    assert (config.oidc_claim, config.oidc_secrets_file) == (
        "preferred_username", "/etc/desistance/secrets.toml")


@pytest.mark.parametrize(("text", "line", "field", "expected"), [
    ('method = "ldap"\n', 1, "method", "one of 'accounts', 'header', 'oidc'"),
    ("[session]\nidle_minutes = 5\n", None, "method", "missing"),
    ('method = "accounts"\n\n[min_cell]\ndonor_floor = 9\n', 4, "min_cell.donor_floor",
     "from 10"),
    ('method = "accounts"\n[min_cell]\nanalyst_floor = 3\n', 3, "min_cell.analyst_floor",
     "from 5"),
    ('method = "accounts"\n[min_cell]\nanalyst_floor = 8\nplanner = 6\n', 4,
     "min_cell.planner", "at least analyst_floor"),
    ('method = "accounts"\n[session]\nidle_minutes = "30"\n', 3, "session.idle_minutes",
     "an integer"),
    ('method = "accounts"\n[login]\nmax_failures = true\n', 3, "login.max_failures",
     "an integer"),
    ('method = "accounts"\n[session]\nidle_minutes = 600\nmax_hours = 1\n', 3,
     "session.idle_minutes", "at most max_hours x 60"),
    ('method = "accounts"\n[sesion]\nidle_minutes = 5\n', 2, "sesion", "unknown field"),
    ('method = "accounts"\n[login]\nmax_failure = 5\n', 3, "login.max_failure",
     "unknown setting; expected one of max_failures, window_minutes"),
    ('method = "accounts"\n[header]\nuser = "X User"\n', 3, "header.user", "header name"),
    ('method = "accounts"\n[header]\nsecret = "x-remote-user"\n', 3, "header.secret",
     "other than [header] user"),
    ('method = "accounts"\n[header]\nsecret_sha256 = "abc"\n', 3, "header.secret_sha256",
     "64 lower-case hexadecimal"),
    ('method = "accounts"\nsession = 5\n', 2, "session", "a table [session]"),
])
def test_a_bad_field_is_named_with_its_line_and_what_was_expected(db, text, line, field,
                                                                   expected):
    path = _write(db, text)
    with pytest.raises(InvalidAccessConfigError) as refused:
        load_access_config(db)
    message = str(refused.value)
    where = f"{path} line {line}" if line else f"{path}"
    assert message.startswith(f"{where}: field {field}: "), message
    assert expected in message


def test_a_toml_syntax_error_names_the_line(db):
    path = _write(db, 'method = "accounts"\n[login]\nmax_failures = = 5\n')
    with pytest.raises(InvalidAccessConfigError, match=rf"^{re.escape(str(path))} line 3: "
                                                       "not valid TOML"):
        load_access_config(db)


def test_text_that_is_not_utf8_is_refused_by_name(db):
    access_paths(db).config.write_bytes(b'method = "\xff"\n')
    with pytest.raises(InvalidAccessConfigError, match="not UTF-8"):
        load_access_config(db)


def test_an_unreadable_file_is_named(db):
    access_paths(db).config.mkdir()
    with pytest.raises(InvalidAccessConfigError, match="cannot be read"):
        load_access_config(db)


KEYS = st.sampled_from(["method", "min_cell", "session", "login", "header", "oidc",
                        "analyst_floor", "planner", "donor_floor", "idle_minutes",
                        "max_hours", "max_failures", "window_minutes", "user", "secret",
                        "secret_sha256", "claim", "secrets_file", "x"])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats()
    | st.sampled_from(["accounts", "header", "oidc", SHA, "X-A", ""]) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12)


def _toml_value(value) -> str:
    """TOML text of ``value`` (None has no TOML form: it becomes an empty inline table)."""
    if value is None:
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + "}"


@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_any_document_loads_or_is_refused_by_name(document):
    text = "".join(f'"{key}" = {_toml_value(value)}\n' for key, value in document.items())
    _load_or_refuse(text.encode("utf-8"))


@given(st.text(alphabet=st.sampled_from(list('[]="\'\n =.#abmethodsion_1235x{},\\tfu')),
               max_size=120) | st.text(max_size=60))
def test_any_text_loads_or_is_refused_by_name(text):
    _load_or_refuse(text.encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=60))
def test_any_bytes_load_or_are_refused_by_name(raw):
    _load_or_refuse(raw)


def _load_or_refuse(raw: bytes) -> None:
    from pathlib import Path

    path = Path("/srv/study.duckdb.access.toml")
    try:
        config = parse_access_config(raw, path)
    except InvalidAccessConfigError as refused:
        assert str(refused).startswith(str(path))
    else:
        # Whatever loaded is a configuration the rest of the product can trust.
        assert config.method in ("accounts", "header", "oidc")
        assert config.donor_min_cell_floor >= 10 and config.analyst_min_cell_floor >= 5
        assert config.method != "header" or config.secret_sha256 is not None
        tomllib.loads(raw.decode("utf-8"))


def test_the_documented_fields_are_every_field():
    documented = (os.path.dirname(__file__) + "/../../docs/access.md")
    text = open(documented, encoding="utf-8").read()
    for key in ("method", "analyst_floor", "planner", "donor_floor", "idle_minutes",
                "max_hours", "max_failures", "window_minutes", "user", "secret",
                "secret_sha256", "claim", "secrets_file"):
        assert f"`{key}`" in text, key
    assert len([f for f in fields(AccessConfig) if f.name != "path"]) == 13


def test_each_role_gets_its_scope():
    config = AccessConfig(method="accounts", analyst_min_cell_floor=7, planner_min_cell=15,
                          donor_min_cell_floor=12)
    analyst = scope_for(Account("ana", Role.ANALYST), config)
    assert (analyst.user, analyst.min_cell(5), analyst.may_change_min_cell) == ("ana", 7, True)
    admin = scope_for(Account("root", Role.ADMIN), config)
    assert admin.may_import and admin.min_cell(9) == 9
    planner = scope_for(Account("north", Role.PLANNER, regions=("North",)), config)
    assert planner.min_cell(5) == 15 and planner.regions == ("North",)
    assert not planner.may_change_min_cell and not planner.allows_page("data")
    donor = scope_for(Account("eu", Role.DONOR, projects=("P",), funders=("EU",)), config)
    assert (donor.projects, donor.funders, donor.min_cell(5)) == (("P",), ("EU",), 12)
    assert donor.pages == {"programs", "impact"}
