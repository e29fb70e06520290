"""``desist serve``: the dashboard for this machine, or for the network behind sign-in.

On a loopback address without access configuration it is ``desist dashboard``: the
single analyst's dashboard. With an access configuration beside the study database
(``STUDY.duckdb.access.toml``) every reader signs in and sees only their scope, and the
dashboard may listen on another address. On another address without one it refuses to
start, before Streamlit is even imported, and says how to configure access control.

Before starting, the configuration is checked as the dashboard will read it: a method
``accounts`` needs at least one enabled administrator (nobody could ever sign in to add
one), ``oidc`` needs Authlib and a Streamlit secrets file with an ``[auth]`` table.
Every Streamlit setting is passed on the command line as for ``desist dashboard``
(:data:`analysis.cli.dashboard_commands.STREAMLIT_SETTINGS`).

Method ``header`` reads the proxy's headers itself (``st.context.headers`` in
:mod:`dashboard.auth`) rather than through Streamlit's ``server.trustedUserHeaders``:
the dashboard must also see the proxy's secret header, and ``trustedUserHeaders`` would
copy whatever it maps into ``st.user`` for any code to read, secret included; it is
not passed.
"""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import click

from analysis.cli import main
from analysis.cli.common import db_option, handle_errors
from analysis.cli.dashboard_commands import (
    DEFAULT_PORT,
    LOOPBACK,
    is_loopback_address,
    launch,
    study_path,
)
from analysis.errors import DesistError

#: The keys Streamlit's ``st.login`` needs in the secrets file's ``[auth]`` table.
OIDC_KEYS = ("redirect_uri", "cookie_secret", "client_id", "client_secret",
             "server_metadata_url")
_WILDCARDS = ("0.0.0.0", "::", "[::]")


def how_to_configure(db: Path) -> str:
    """The commands and documents that set access control up for ``db``."""
    return (f"configure access control first: `desist users add NAME --role admin --db {db}` "
            "writes the access configuration beside the database (method \"accounts\") and "
            "the first administrator; see docs/access.md (methods, roles) and "
            "docs/deployment.md (a systemd unit, a reverse proxy with TLS)")


def _enabled_admin(db: Path) -> bool:
    from analysis.access.accounts import AccountStore
    from analysis.access.roles import Role

    return any(account.role is Role.ADMIN and not account.disabled
               for account in AccountStore.for_database(db).accounts())


def _any_enabled_account(db: Path) -> bool:
    from analysis.access.accounts import AccountStore

    return any(not account.disabled for account in AccountStore.for_database(db).accounts())


def oidc_secrets(config, db: Path) -> Path:
    """The checked Streamlit secrets file of method ``oidc`` (with its ``[auth]`` table)."""
    where = config.path or db
    if not config.oidc_secrets_file:
        raise DesistError(f"{where}: [oidc] secrets_file is not set; method \"oidc\" needs "
                          "a Streamlit secrets file with an [auth] table (docs/access.md)")
    secrets = Path(config.oidc_secrets_file).expanduser()
    if not secrets.is_absolute():
        secrets = (Path(where).parent / secrets).resolve()
    try:
        table = tomllib.loads(secrets.read_text(encoding="utf-8")).get("auth")
    except OSError as exc:
        raise DesistError(f"{where}: [oidc] secrets_file {secrets} cannot be read: "
                          f"{exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DesistError(f"{secrets}: not valid TOML: {exc}") from exc
    missing = [key for key in OIDC_KEYS if not isinstance(table, dict) or not table.get(key)]
    if missing:
        raise DesistError(f"{secrets}: the [auth] table needs {', '.join(missing)} "
                          "(docs/access.md, section OIDC)")
    if importlib.util.find_spec("authlib") is None:
        raise DesistError("method \"oidc\" needs Authlib: "
                          "`.venv/bin/pip install 'desistance[oidc]'`")
    return secrets


def check_access(db: Path, host: str):
    """The access configuration that lets ``db`` be served on ``host`` (None: none).

    Raises :class:`~analysis.errors.DesistError` (exit 2) saying how to configure access
    control when ``host`` is not loopback and none is configured, or when the
    configuration could not let anybody in.
    """
    from analysis.access.config import load_access_config

    config = load_access_config(db)
    if config is None:
        if not is_loopback_address(host):
            raise DesistError(f"refusing to serve {db} on {host}: with no access control "
                              f"anybody on the network could read the study; "
                              f"{how_to_configure(db)}. On this machine alone: "
                              f"`desist serve --db {db}` (or `desist dashboard`)")
        return None
    if config.method == "accounts" and not _enabled_admin(db):
        raise DesistError(f"refusing to serve {db}: {config.path} asks for built-in "
                          "accounts, but no enabled administrator exists, so nobody could "
                          f"sign in; add one: `desist users add NAME --role admin --db {db}` "
                          "(docs/access.md)")
    if config.method in ("header", "oidc") and not _any_enabled_account(db):
        click.echo(f"warning: no enabled account in {db}.users.json: the {config.method} "
                   "identity of every reader will be refused; add accounts with "
                   f"`desist users add NAME --role ROLE --db {db}`", err=True)
    return config


def served_url(host: str, port: int) -> str:
    """The address readers open (a wildcard host: this machine's name or address)."""
    if host in _WILDCARDS:
        return f"http://<this machine's address>:{port}"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


@main.command("serve")
@db_option
@click.option("--host", default=LOOPBACK, show_default=True,
              help="Address to listen on: 127.0.0.1 (this machine), 0.0.0.0 (every "
                   "interface; needs access control), or one address of this machine.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT,
              show_default=True, help="Port to listen on.")
@handle_errors
def serve(db: str | None, host: str, port: int) -> None:
    """Serve the dashboard to this machine or, with access control, to the network.

    Without an access configuration beside the database (DB.access.toml) it serves
    this machine only, as `desist dashboard`, and refuses any other --host. With one,
    readers sign in (built-in accounts, a reverse proxy's header or OIDC) and see only
    their role's pages and scope. Start with `desist users add NAME --role admin --db DB`;
    see docs/access.md and docs/deployment.md. Stop it with Ctrl+C.
    """
    path, host = study_path(db), host.strip()
    config = check_access(path, host)
    settings: dict[str, str | list[str]] = {}
    if host not in _WILDCARDS:
        # The URL Streamlit prints and checks origins against; set, so that it never
        # looks this machine's public address up on the internet.
        settings["browser.serverAddress"] = host.removeprefix("[").removesuffix("]")
    method = "none (this machine only)" if config is None else config.method
    if config is not None and config.method == "oidc":
        settings["secrets.files"] = [str(oidc_secrets(config, path))]
    if config is not None and config.method == "header" and not is_loopback_address(host):
        click.echo(f"warning: method \"header\" on {host}: serve on 127.0.0.1 behind the "
                   "reverse proxy, so that the proxy is the only way in (a direct "
                   "connection is refused without the proxy's secret header, but should "
                   "not reach the dashboard at all); see docs/deployment.md", err=True)
    click.echo(f"Dashboard on {served_url(host, port)} for {path}, access control: "
               f"{method} (Ctrl+C to stop)")
    launch(path, port, host=host, settings=settings)
