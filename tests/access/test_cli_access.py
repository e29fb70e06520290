"""``desist users ...`` and ``desist audit`` through click's CliRunner."""

from __future__ import annotations

import csv
import io
import json
import stat

import pytest
from click.testing import CliRunner

import analysis.cli.access_commands as access_commands
from analysis.access.accounts import AccountStore
from analysis.access.audit import AuditLog, os_user
from analysis.access.config import access_paths, load_access_config
from analysis.cli import main
from tests.access.conftest import PASSWORD, cheap_hasher


@pytest.fixture(autouse=True)
def _cheap_hashing_and_clean_environment(monkeypatch):
    monkeypatch.setattr(access_commands, "_store",
                        lambda db: AccountStore.for_database(db, hasher=cheap_hasher()))
    monkeypatch.delenv("DESIST_PASSWORD", raising=False)
    monkeypatch.delenv("DESIST_DB", raising=False)


def desist(*args, env=None, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, input=input,
                                catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def add(db, name, *options, password=PASSWORD):
    return desist("users", "add", name, *options, "--db", db,
                  env={"DESIST_PASSWORD": password})


def test_the_first_account_creates_the_configuration(db):
    result = add(db, "root", "--role", "admin")
    assert result.exit_code == 0, result.output
    paths = access_paths(db)
    assert f"created {paths.config}" in result.output and "added admin 'root'" in result.output
    assert load_access_config(db).method == "accounts"
    for path in (paths.config, paths.accounts, paths.audit):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "created" not in add(db, "ana", "--role", "analyst").output


def test_the_password_is_asked_twice_at_a_hidden_prompt(db):
    result = desist("users", "add", "ana", "--role", "analyst", "--db", db,
                    input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden
    assert AccountStore.for_database(db, hasher=cheap_hasher()).authenticate("ana", PASSWORD)
    mismatch = desist("users", "add", "bob", "--role", "analyst", "--db", db,
                      input=f"{PASSWORD}\nother password\n{PASSWORD}\n{PASSWORD}\n")
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output


def test_there_is_no_password_option(db):
    result = CliRunner().invoke(main, ["users", "add", "ana", "--role", "analyst",
                                       "--password", PASSWORD, "--db", str(db)])
    assert result.exit_code == 2 and "No such option" in result.output


@pytest.mark.parametrize(("options", "message"), [
    (["--role", "pope"], "Invalid value for '--role'"),
    (["--role", "donor"], "at least one --project or --funder"),
    (["--role", "analyst", "--region", "North"], "--region is for planners only"),
    (["--role", "planner", "--project", "P"], "--project is for donors only"),
])
def test_bad_accounts_exit_2_and_write_nothing(db, options, message):
    result = add(db, "someone", *options)
    assert result.exit_code == 2 and message in result.output
    assert not access_paths(db).accounts.exists() and not access_paths(db).config.exists()


def test_a_short_password_exits_2(db):
    result = add(db, "ana", "--role", "analyst", password="short")
    assert result.exit_code == 2 and "at least 12 characters" in result.output
    assert AccountStore.for_database(db).accounts() == ()


def test_a_missing_folder_exits_2_before_asking_anything(tmp_path):
    result = desist("users", "add", "ana", "--role", "analyst", "--db",
                    tmp_path / "nowhere" / "s.duckdb")
    assert result.exit_code == 2 and "is not a folder" in result.output
    assert "Password" not in result.output
    listed = desist("users", "disable", "ana", "--db", tmp_path / "nowhere" / "s.duckdb")
    assert listed.exit_code == 2


def test_a_duplicate_name_exits_2(db):
    add(db, "ana", "--role", "analyst")
    result = add(db, "ANA", "--role", "admin")
    assert result.exit_code == 2 and "already exists" in result.output


def test_a_bad_configuration_file_is_named_with_line_and_field(db):
    path = access_paths(db).config
    path.write_text('method = "accounts"\n[login]\nmax_failures = 0\n')
    result = add(db, "ana", "--role", "analyst")
    assert result.exit_code == 2
    assert f"{path} line 3: field login.max_failures: expected an integer from 1" in result.output


def test_header_mode_asks_no_password_and_stores_none(db):
    access_paths(db).config.write_text(f'method = "header"\n[header]\nsecret_sha256 = "{"0" * 64}"\n')
    result = add(db, "ana", "--role", "analyst")
    assert result.exit_code == 0, result.output
    assert "ignored" in result.output
    assert AccountStore.for_database(db).get("ana").password_hash is None
    passwd = desist("users", "passwd", "ana", "--db", db, env={"DESIST_PASSWORD": PASSWORD})
    assert passwd.exit_code == 2 and "uses no password" in passwd.output


def test_list_shows_roles_and_scopes_never_a_secret(db):
    add(db, "eu-desk", "--role", "donor", "--funder", "European Union", "--project", "Skills")
    add(db, "north", "--role", "planner", "--region", "North")
    table = desist("users", "list", "--db", db)
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["name", "role", "status", "scope", "changed"]
    assert "projects: Skills; funders: European Union" in lines[1]
    assert "regions: North" in lines[2]
    shown = desist("users", "list", "--json", "--db", db).output
    accounts = json.loads(shown)
    assert [a["name"] for a in accounts] == ["eu-desk", "north"]
    assert accounts[0]["funders"] == ["European Union"] and accounts[0]["password_set"] is True
    assert "argon2" not in shown and PASSWORD not in shown and "password_hash" not in shown


def test_disable_enable_passwd_remove(db):
    add(db, "ana", "--role", "analyst")
    assert desist("users", "disable", "ana", "--db", db).exit_code == 0
    assert "already disabled" in desist("users", "disable", "ana", "--db", db).output
    assert json.loads(desist("users", "list", "--json", "--db", db).output)[0]["disabled"]
    assert desist("users", "enable", "ana", "--db", db).exit_code == 0
    new = "another long passphrase"
    assert desist("users", "passwd", "ana", "--db", db, input=f"{new}\n{new}\n").exit_code == 0
    store = AccountStore.for_database(db, hasher=cheap_hasher())
    assert store.authenticate("ana", new)
    refused = desist("users", "remove", "ana", "--db", db, input="n\n")
    assert refused.exit_code == 1 and store.get("ana") is not None  # Aborted
    assert desist("users", "remove", "ana", "--db", db, input="y\n").exit_code == 0
    assert store.get("ana") is None
    events = [e["event"] for e in AuditLog.for_database(db).entries()]
    assert events == ["user_added", "user_disabled", "user_enabled", "password_changed",
                      "user_removed"]
    assert {e["user"] for e in AuditLog.for_database(db).entries()} == {os_user()}


@pytest.mark.parametrize("command", [["disable"], ["enable"], ["passwd"], ["remove", "--yes"]],
                         ids=lambda c: c[0])
def test_unknown_names_exit_2(db, command):
    add(db, "ana", "--role", "analyst")
    result = desist("users", *command, "ghost", "--db", db, env={"DESIST_PASSWORD": PASSWORD})
    assert result.exit_code == 2 and "no account named 'ghost'" in result.output


def test_no_password_or_hash_reaches_the_audit_log(db):
    add(db, "ana", "--role", "analyst")
    desist("users", "passwd", "ana", "--db", db, env={"DESIST_PASSWORD": PASSWORD + "x"})
    text = access_paths(db).audit.read_text()
    assert PASSWORD not in text and "argon2" not in text
    hashes = {a.password_hash for a in AccountStore.for_database(db).accounts()}
    assert not any(h in text for h in hashes)


# --- names the study does not contain ---------------------------------------------------

@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from analysis.ingest import import_dataset
    from tests.ingest.conftest import PROGRAMS_HEADER, TODAY, VALID, write_dataset

    header = (*PROGRAMS_HEADER, "project", "funder")
    rows = [(*row, "Skills for Work", "European Union") for row in VALID["programs"][1]]
    root = tmp_path_factory.mktemp("study")
    db = root / "study.duckdb"
    import_dataset(write_dataset(root / "dataset", programs=(header, rows)), db, today=TODAY)
    return db


def test_names_the_study_lacks_are_warned_about_not_refused(study, tmp_path):
    db = tmp_path / "study.duckdb"
    db.symlink_to(study)  # the access files land in tmp_path, beside the link
    result = add(db, "eu", "--role", "donor", "--funder", "European Union",
                 "--project", "Skils for Work")
    assert result.exit_code == 0, result.output
    assert "warning: the study has no project 'Skils for Work'" in result.output
    assert "European Union'" not in result.output
    planner = add(db, "p", "--role", "planner", "--facility", "North", "--facility", "Atlantis")
    assert "no facility 'Atlantis'" in planner.output and "'North'" not in planner.output


def test_names_are_not_checked_when_the_study_does_not_exist_yet(db):
    result = add(db, "eu", "--role", "donor", "--funder", "EU")
    assert result.exit_code == 0 and "were not checked" in result.output


# --- desist audit -----------------------------------------------------------------------

@pytest.fixture
def logged(db):
    add(db, "ana", "--role", "analyst")
    log = AuditLog.for_database(db, durable=False)
    log.append("login", "ana", method="accounts", client="10.0.0.7")
    log.append("download", "=cmd|' /C calc'!A0", what="km", format="csv")
    return log


def test_audit_prints_every_entry(db, logged):
    result = desist("audit", "--db", db)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert lines[1].endswith("  #2  login  ana  client=10.0.0.7 method=accounts")


def test_audit_filters_and_formats(db, logged):
    entries = json.loads(desist("audit", "--json", "--user", "ana", "--db", db).output)
    assert [e["event"] for e in entries] == ["login"]
    assert json.loads(desist("audit", "--json", "--since", "2999-01-01", "--db", db).output) == []
    rows = list(csv.DictReader(io.StringIO(desist("audit", "--csv", "--db", db).output)))
    assert [r["seq"] for r in rows] == ["1", "2", "3"]
    assert rows[2]["user"].startswith("'=")  # cannot run as a spreadsheet formula
    assert json.loads(rows[1]["details"]) == {"client": "10.0.0.7", "method": "accounts"}
    both = desist("audit", "--json", "--csv", "--db", db)
    assert both.exit_code == 2
    bad_day = desist("audit", "--since", "yesterday", "--db", db)
    assert bad_day.exit_code == 2 and "'yesterday' does not match the format" in bad_day.output


def test_audit_verify(db, logged):
    intact = desist("audit", "--verify", "--db", db)
    assert intact.exit_code == 0 and "3 entries, chain intact" in intact.output
    lines = logged.path.read_text().splitlines(keepends=True)
    logged.path.write_text(lines[0] + lines[2])
    broken = desist("audit", "--verify", "--db", db)
    assert broken.exit_code == 2 and "line 2: 1 entry removed before it" in broken.output
    as_json = json.loads(desist("audit", "--verify", "--json", "--db", db).output)
    assert as_json == {"ok": False, "entries": 1, "line": 2,
                       "reason": "line 2: 1 entry removed before it (expected entry 2, found 3)"}


def test_audit_without_a_log_exits_2(db):
    assert desist("audit", "--db", db).exit_code == 2
    assert desist("audit", "--verify", "--db", db).exit_code == 2


# --- desist import records itself when access control is configured ---------------------

def test_an_import_is_audited_only_with_access_control(tmp_path):
    from tests.ingest.conftest import write_dataset

    dataset = write_dataset(tmp_path / "dataset")
    db = tmp_path / "study.duckdb"
    first = desist("import", dataset, "--db", db, "--no-stored-views")
    assert first.exit_code == 0, first.output
    assert not access_paths(db).audit.exists()  # no access control: no trail
    add(db, "root", "--role", "admin")
    second = desist("import", dataset, "--db", db, "--no-stored-views", "--json")
    assert second.exit_code == 0, second.output
    batch = json.loads(second.output)["batch_id"]
    entry = AuditLog.for_database(db).entries()[-1]
    assert (entry["event"], entry["user"]) == ("import", os_user())
    assert entry["details"] == {"mode": "all_or_nothing", "batch": batch,
                                "files": ["events.csv", "participation.csv", "programs.csv",
                                          "releases.csv"]}
    assert AuditLog.for_database(db).verify().ok


def test_an_import_that_cannot_be_audited_still_succeeds_with_a_warning(tmp_path):
    from tests.ingest.conftest import write_dataset

    db = tmp_path / "study.duckdb"
    add(db, "root", "--role", "admin")
    audit_path = access_paths(db).audit
    audit_path.unlink()
    audit_path.mkdir()  # cannot be appended to
    result = desist("import", write_dataset(tmp_path / "dataset"), "--db", db,
                    "--no-stored-views")
    assert result.exit_code == 0, result.output
    assert "warning: imported, but the audit entry could not be written" in result.output
