"""The accounts file: names, roles and scopes checked, argon2id hashes, 0600, atomic."""

from __future__ import annotations

import json
import stat
import threading
import unicodedata

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st

from analysis.access.accounts import AccountStore, checked_account, checked_name
from analysis.access.roles import Role
from analysis.errors import DesistError, InvalidAccessConfigError, LoginRefused
from tests.access.conftest import PASSWORD, cheap_hasher


def test_an_account_signs_in_with_its_password_only(store):
    store.add("ana", "analyst", password=PASSWORD)
    assert store.authenticate("ana", PASSWORD).role is Role.ANALYST
    with pytest.raises(LoginRefused) as wrong:
        store.authenticate("ana", PASSWORD + "!")
    with pytest.raises(LoginRefused) as unknown:
        store.authenticate("nobody", PASSWORD)
    # One answer for both: it must not tell which names exist.
    assert (wrong.value.reason, str(wrong.value)) == (unknown.value.reason, str(unknown.value))
    assert wrong.value.reason == "unknown_or_wrong"


def test_a_disabled_account_is_said_so_only_to_who_knows_its_password(store):
    store.add("eu", "donor", password=PASSWORD, funders=["EU"])
    store.disable("eu")
    with pytest.raises(LoginRefused) as right:
        store.authenticate("eu", PASSWORD)
    assert right.value.reason == "disabled"
    with pytest.raises(LoginRefused) as wrong:
        store.authenticate("eu", "not the password at all")
    assert wrong.value.reason == "unknown_or_wrong"
    store.enable("eu")
    assert store.authenticate("eu", PASSWORD).name == "eu"


def test_an_account_without_password_cannot_sign_in_with_one(store):
    store.add("proxy-user", "analyst")  # method header/oidc: no password stored
    with pytest.raises(LoginRefused, match="unknown user or wrong password"):
        store.authenticate("proxy-user", "")


def test_the_hash_is_argon2id_and_the_file_never_holds_the_password(store):
    store.add("ana", "analyst", password=PASSWORD)
    text = store.path.read_text(encoding="utf-8")
    assert PASSWORD not in text
    assert json.loads(text)["accounts"][0]["password_hash"].startswith("$argon2id$")


def test_the_default_hasher_is_the_library_default(db):
    assert AccountStore.for_database(db).hasher.time_cost == PasswordHasher().time_cost
    assert AccountStore.for_database(db).hasher.memory_cost == PasswordHasher().memory_cost


def test_a_hash_with_old_parameters_is_renewed_at_sign_in(db):
    AccountStore.for_database(db, hasher=cheap_hasher()).add("ana", "admin", password=PASSWORD)
    stronger = AccountStore.for_database(db, hasher=PasswordHasher(time_cost=2,
                                                                   memory_cost=8 * 1024))
    old = stronger.get("ana").password_hash
    assert "t=1" in old
    stronger.authenticate("ana", PASSWORD)
    renewed = stronger.get("ana").password_hash
    assert renewed != old and "t=2" in renewed
    assert stronger.authenticate("ana", PASSWORD).name == "ana"


def test_files_are_owner_only_whatever_the_umask(store, permissive_umask):
    store.add("ana", "analyst", password=PASSWORD)
    store.set_password("ana", PASSWORD + "2")
    for path in (store.path, store.path.with_name(store.path.name + ".lock")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not list(store.path.parent.glob(".*.tmp"))


def test_passwords_shorter_than_12_are_refused(store):
    with pytest.raises(DesistError, match="at least 12 characters, found 11"):
        store.add("ana", "analyst", password="x" * 11)
    assert store.accounts() == ()
    store.add("ana", "analyst", password="x" * 12)
    with pytest.raises(DesistError, match="too short"):
        store.set_password("ana", "short")


@pytest.mark.parametrize(("role", "scopes", "message"), [
    ("donor", {}, "at least one --project or --funder"),
    ("analyst", {"regions": ["North"]}, "--region is for planners only"),
    ("admin", {"projects": ["P"]}, "--project is for donors only"),
    ("planner", {"funders": ["EU"]}, "--funder is for donors only"),
    ("donor", {"funders": ["EU"], "facilities": ["F"]}, "--facility is for planners only"),
    ("auditor", {}, "unknown role 'auditor'; expected one of admin, analyst, planner, donor"),
    ("donor", {"projects": [" "]}, "expected a name as written in the study"),
])
def test_roles_get_only_the_scopes_they_use(store, role, scopes, message):
    with pytest.raises(DesistError, match=message.replace("(", r"\(")):
        store.add("someone", role, **scopes)
    assert store.accounts() == ()


def test_duplicate_names_are_refused_whatever_their_case_or_normal_form(store):
    store.add("José", "analyst")
    for again in ("José", "JOSÉ", unicodedata.normalize("NFD", "José")):
        with pytest.raises(DesistError, match="already exists"):
            store.add(again, "analyst")
    assert store.get(unicodedata.normalize("NFD", "José")).name == "José"


def test_unknown_names_are_refused_by_every_change(store):
    for change in (store.disable, store.enable, store.remove):
        with pytest.raises(DesistError, match="no account named 'ghost'"):
            change("ghost")
    with pytest.raises(DesistError, match="no account named 'ghost'"):
        store.set_password("ghost", PASSWORD)


def test_remove_deletes_only_that_account(store):
    store.add("a", "analyst")
    store.add("b", "planner", regions=["North"])
    store.remove("a")
    assert [a.name for a in store.accounts()] == ["b"]
    assert store.get("b").regions == ("North",)


def test_a_damaged_accounts_file_is_named(store):
    store.path.write_text('{"format": "desistance-accounts", "version": 1, "accounts": '
                          '[{"name": "a", "role": "pope"}]}')
    with pytest.raises(InvalidAccessConfigError, match=rf"{store.path}: account 1: unknown role"):
        store.accounts()
    store.path.write_text("{not json")
    with pytest.raises(InvalidAccessConfigError, match="line 1: not valid JSON"):
        store.get("a")


def test_concurrent_changes_are_all_kept(store):
    errors = []

    def add(i):
        try:
            store.add(f"user{i}", "analyst")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(a.name for a in store.accounts()) == sorted(f"user{i}" for i in range(12))


def test_the_public_view_has_no_hash(store):
    account = store.add("ana", "analyst", password=PASSWORD)
    shown = json.dumps(account.public())
    assert "argon2" not in shown and PASSWORD not in shown and '"password_set": true' in shown


NAME_CHARS = st.characters(categories=["Lu", "Ll", "Lo", "Nd"]) | st.sampled_from("._@-")


@given(st.text(NAME_CHARS, min_size=1, max_size=64).filter(lambda n: not n.startswith("-")))
def test_valid_names_are_kept_in_nfc(name):
    normal = checked_name(name)
    assert normal == unicodedata.normalize("NFC", name)
    assert checked_account(name, "analyst").name == normal


@given(st.text(max_size=80))
def test_any_name_is_accepted_or_refused_with_a_reason(name):
    try:
        normal = checked_name(name)
    except DesistError as refused:
        assert "account name" in str(refused)
    else:
        assert 1 <= len(normal) <= 64 and not normal.startswith("-")
        assert not any(c.isspace() or unicodedata.category(c).startswith("C") for c in normal)


@pytest.mark.parametrize("name", ["", "a b", "a/b", "x" * 65, "-rf", "tab\there", "é\u200b"])
def test_bad_names_are_refused(name):
    with pytest.raises(DesistError, match="account name"):
        checked_name(name)
