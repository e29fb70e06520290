"""``desist serve``: the network only with access control that can let somebody in.

The Streamlit launcher is replaced by a recorder: nothing is served, and a refusal must
happen before Streamlit is imported at all.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from analysis.access.accounts import AccountStore
from analysis.access.config import access_paths, write_default_config
from analysis.cli import main
from analysis.cli.dashboard_commands import APP

CHEAP = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@pytest.fixture()
def study(demo_db, tmp_path):
    db = tmp_path / "study.duckdb"
    shutil.copy(demo_db, db)
    return db


@pytest.fixture()
def launched(monkeypatch):
    """The ``streamlit`` command line ``desist serve`` would run (nothing is served)."""
    import streamlit.web.cli as streamlit_cli

    seen: dict[str, object] = {}

    def fake_streamlit(**_):
        seen["argv"] = list(sys.argv)

    monkeypatch.setattr(streamlit_cli, "main", fake_streamlit)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.delenv("DESIST_DB", raising=False)
    return seen


def _serve(*args: str):
    return CliRunner().invoke(main, ["serve", *args])


def _given(argv) -> dict[str, list[str]]:
    assert argv[:3] == ["streamlit", "run", str(APP)]
    given: dict[str, list[str]] = {}
    for name, value in zip(argv[3::2], argv[4::2], strict=True):
        given.setdefault(name, []).append(value)
    return given


def test_the_network_without_access_control_is_refused(study, launched):
    result = _serve("--db", str(study), "--host", "0.0.0.0")
    assert result.exit_code == 2, result.output
    assert "refusing to serve" in result.output
    assert f"desist users add NAME --role admin --db {study}" in result.output
    assert "docs/access.md" in result.output and "docs/deployment.md" in result.output
    assert "argv" not in launched


def test_a_refusal_comes_before_streamlit_is_imported(study):
    code = ("import sys\nfrom analysis.cli import main\n"
            "try:\n    main(sys.argv[1:], prog_name='desist')\n"
            "except SystemExit as exit:\n    print(exit.code, 'streamlit' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code, "serve", "--db", str(study),
                           "--host", "0.0.0.0"], capture_output=True, text=True, timeout=120)
    assert done.stdout.split()[-2:] == ["2", "False"], done.stdout + done.stderr


def test_accounts_without_an_enabled_administrator_are_refused(study, launched):
    write_default_config(study)
    store = AccountStore.for_database(study, hasher=CHEAP)
    store.add("ali", "analyst", password="correct horse battery")
    store.add("ana", "admin", password="correct horse battery")
    store.disable("ana")
    result = _serve("--db", str(study), "--host", "0.0.0.0")
    assert result.exit_code == 2, result.output
    assert "no enabled administrator" in result.output
    assert f"desist users add NAME --role admin --db {study}" in result.output
    assert "argv" not in launched


def test_an_invalid_access_configuration_is_refused(study, launched):
    access_paths(study).config.write_text('method = "header"\n')  # no proxy secret
    result = _serve("--db", str(study), "--host", "0.0.0.0")
    assert result.exit_code == 2, result.output
    assert "secret_sha256" in result.output
    assert "argv" not in launched


def test_loopback_without_access_control_serves_like_desist_dashboard(study, launched):
    result = _serve("--db", str(study), "--port", "8612")
    assert result.exit_code == 0, result.output
    given = _given(launched["argv"])
    assert given["--server.address"] == ["127.0.0.1"]
    assert given["--server.port"] == ["8612"]
    assert given["--server.headless"] == ["true"]
    assert given["--browser.gatherUsageStats"] == ["false"]
    assert "http://127.0.0.1:8612" in result.output
    assert "access control: none" in result.output


def test_the_network_with_an_administrator_is_served(study, launched):
    write_default_config(study)
    AccountStore.for_database(study, hasher=CHEAP).add("ana", "admin",
                                                       password="correct horse battery")
    result = _serve("--db", str(study), "--host", "0.0.0.0", "--port", "8613")
    assert result.exit_code == 0, result.output
    given = _given(launched["argv"])
    assert given["--server.address"] == ["0.0.0.0"]
    assert given["--server.port"] == ["8613"]
    # Never "localhost" for remote readers, and no public-IP lookup: the wildcard keeps
    # the configured browser address.
    assert given["--browser.serverAddress"] == ["localhost"]
    assert "access control: accounts" in result.output
    assert "--server.trustedUserHeaders" not in given


def test_a_specific_address_is_the_one_shown(study, launched):
    write_default_config(study)
    AccountStore.for_database(study, hasher=CHEAP).add("ana", "admin",
                                                       password="correct horse battery")
    result = _serve("--db", str(study), "--host", "10.1.2.3")
    assert result.exit_code == 0, result.output
    given = _given(launched["argv"])
    assert given["--server.address"] == ["10.1.2.3"]
    assert given["--browser.serverAddress"] == ["10.1.2.3"]
    assert "http://10.1.2.3:8501" in result.output


def _header_config(study) -> None:
    write_default_config(study, "header")
    path = access_paths(study).config
    digest = hashlib.sha256(b"the proxy's secret").hexdigest()
    path.write_text(path.read_text().replace("REPLACE WITH sha256sum OF THE SECRET", digest))
    AccountStore.for_database(study).add("ana", "admin")


def test_header_mode_behind_a_proxy_on_loopback(study, launched):
    _header_config(study)
    result = _serve("--db", str(study))
    assert result.exit_code == 0, result.output
    assert "access control: header" in result.output
    assert "warning" not in result.output


def test_header_mode_on_the_network_warns(study, launched):
    _header_config(study)
    result = _serve("--db", str(study), "--host", "0.0.0.0")
    assert result.exit_code == 0, result.output
    assert 'warning: method "header" on 0.0.0.0' in result.output


def _oidc_config(study, secrets_text: str | None):
    write_default_config(study, "oidc")
    path = access_paths(study).config
    secrets = study.parent / "secrets.toml"
    path.write_text(path.read_text().replace(
        '# secrets_file = "/etc/desistance/secrets.toml"', f'secrets_file = "{secrets}"'))
    if secrets_text is not None:
        secrets.write_text(secrets_text)
    AccountStore.for_database(study).add("ana@ministry.example", "admin")
    return secrets


def test_oidc_passes_the_secrets_file(study, launched):
    secrets = _oidc_config(study, """[auth]
redirect_uri = "https://desist.ministry.example/oauth2callback"
cookie_secret = "a long random string"
client_id = "desistance"
client_secret = "from the identity server"
server_metadata_url = "https://id.ministry.example/realms/m/.well-known/openid-configuration"
""")
    result = _serve("--db", str(study), "--host", "0.0.0.0")
    assert result.exit_code == 0, result.output
    assert _given(launched["argv"])["--secrets.files"] == [str(secrets)]


def test_oidc_without_a_complete_auth_table_is_refused(study, launched):
    _oidc_config(study, '[auth]\nredirect_uri = "https://x.example/oauth2callback"\n')
    result = _serve("--db", str(study), "--host", "0.0.0.0")
    assert result.exit_code == 2, result.output
    assert "cookie_secret" in result.output and "client_id" in result.output
    assert "argv" not in launched


def test_serve_without_a_database_is_invalid_input(tmp_path, launched):
    result = _serve("--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 2
    assert "no study database at" in result.output
