"""Who is this request: the three ways of identifying a user, and sessions.

- :func:`sign_in` — built-in accounts: a name and a password from the login form,
  throttled per user name and per client address;
- :func:`header_user` — a trusted reverse proxy names the user in a header, and proves it
  is the proxy with a shared secret in another header;
- :func:`oidc_user` — the claims of an OIDC identity token (Streamlit's ``st.user``).

Each returns the :class:`~analysis.access.accounts.Account` or raises
:class:`~analysis.errors.LoginRefused`, and records ``login`` or ``login_failed`` in the
audit log. The caller (the dashboard) calls it once per browser session and keeps a
:class:`Session`. Nothing here imports streamlit.

Examples
--------
>>> from analysis.access.roles import Role
>>> scope = Scope(Role.ANALYST, user="ana")
>>> session = Session("ana", scope, started=0.0, last_seen=0.0)
>>> config = AccessConfig(method="accounts", session_idle_minutes=30)
>>> session_status(session, config, now=60.0), session_status(session, config, now=3600.0)
('active', 'idle')
"""

from __future__ import annotations

import hashlib
import hmac
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace

from analysis.access.accounts import Account, AccountStore
from analysis.access.audit import AuditLog
from analysis.access.config import AccessConfig, scope_for
from analysis.access.roles import Scope
from analysis.access.throttle import LoginThrottle
from analysis.errors import LoginRefused


def throttle_for(config: AccessConfig) -> LoginThrottle:
    """The :class:`LoginThrottle` that ``config``'s ``[login]`` settings describe."""
    return LoginThrottle(config.max_failures, config.failure_window_minutes * 60)


def _refuse(audit: AuditLog, refused: LoginRefused, user: str | None, **details) -> LoginRefused:
    audit.append("login_failed", user, reason=refused.reason, **details)
    return refused


def sign_in(store: AccountStore, throttle: LoginThrottle, audit: AuditLog, name: str,
            password: str, *, client: str | None) -> Account:
    """The account ``name`` if ``password`` is right, it is enabled, and not throttled.

    A name that is no account is recorded as ``user`` null (people sometimes type their
    password in the name field: it must not reach the log); the throttle counts it all
    the same.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from argon2 import PasswordHasher
    >>> folder = Path(tempfile.mkdtemp())
    >>> store = AccountStore(folder / "s.users.json",
    ...                      hasher=PasswordHasher(time_cost=1, memory_cost=8192))
    >>> _ = store.add("ana", "analyst", password="correct horse battery")
    >>> audit = AuditLog(folder / "s.audit.jsonl")
    >>> sign_in(store, LoginThrottle(), audit, "ana", "wrong password!", client="10.0.0.7")
    Traceback (most recent call last):
    ...
    analysis.errors.LoginRefused: unknown user or wrong password
    >>> sign_in(store, LoginThrottle(), audit, "ana", "correct horse battery", client=None).name
    'ana'
    >>> [e["event"] for e in audit.entries()]
    ['login_failed', 'login']
    """
    name = unicodedata.normalize("NFC", name.strip())
    keys = ["user:" + name] + (["ip:" + client] if client else [])
    known = store.get(name)
    logged_name = known.name if known else None
    wait = throttle.retry_after(*keys)
    if wait > 0:
        # Refused without looking at the password: a right password must not help either.
        raise _refuse(audit, LoginRefused(
            "throttled", f"too many failed sign-ins; try again in {max(1, round(wait))} "
                         "seconds", retry_after=wait),
            logged_name, method="accounts", client=client, retry_after=round(wait))
    try:
        account = store.authenticate(name, password)
    except LoginRefused as refused:
        if refused.reason == "unknown_or_wrong":
            throttle.failed(*keys)
        raise _refuse(audit, refused, logged_name, method="accounts", client=client) from None
    # Only the account's own count is forgiven: one good password must not reset an
    # address that is guessing other accounts' passwords.
    throttle.succeeded(keys[0])
    audit.append("login", account.name, method="accounts", client=client)
    return account


def _header(headers: Mapping[str, str], wanted: str) -> str | None:
    """The value of header ``wanted``, whatever the case of its name."""
    wanted = wanted.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def header_user(config: AccessConfig, store: AccountStore, audit: AuditLog,
                headers: Mapping[str, str]) -> Account:
    """The account a trusted reverse proxy names in ``config.user_header``.

    The secret header must be present and its SHA-256 equal ``config.secret_sha256``;
    otherwise the request did not come through the proxy (a direct connection cannot
    know the secret): ``LoginRefused("forged_header")``.

    Examples
    --------
    >>> import hashlib, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> store, audit = AccountStore(folder / "u.json"), AuditLog(folder / "a.jsonl")
    >>> _ = store.add("ana", "analyst")
    >>> config = AccessConfig(method="header",
    ...                       secret_sha256=hashlib.sha256(b"s3cret").hexdigest())
    >>> header_user(config, store, audit, {"x-remote-user": "ana",
    ...                                    "X-Desist-Proxy-Secret": "s3cret"}).name
    'ana'
    >>> header_user(config, store, audit, {"X-Remote-User": "ana"})
    Traceback (most recent call last):
    ...
    analysis.errors.LoginRefused: the request did not come through the trusted proxy
    """
    secret = _header(headers, config.secret_header)
    expected = config.secret_sha256
    if secret is None or expected is None or not hmac.compare_digest(
            hashlib.sha256(secret.encode("utf-8")).hexdigest(), expected):
        # The claimed name is not logged: whoever forged the request chose it.
        raise _refuse(audit, LoginRefused(
            "forged_header", "the request did not come through the trusted proxy"),
            None, method="header")
    claimed = (_header(headers, config.user_header) or "").strip()
    if not claimed:
        raise _refuse(audit, LoginRefused(
            "no_header", f"the proxy sent no user name ({config.user_header})"),
            None, method="header")
    return _known_account(store, audit, claimed, method="header")


def oidc_user(config: AccessConfig, store: AccountStore, audit: AuditLog,
              claims: Mapping[str, object]) -> Account:
    """The account named by the ``config.oidc_claim`` claim of an OIDC identity token.

    When the claim is ``email`` and the provider says the address is not verified
    (``email_verified`` false), the sign-in is refused: anyone may type any address
    into a self-service profile.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> store, audit = AccountStore(folder / "u.json"), AuditLog(folder / "a.jsonl")
    >>> _ = store.add("ana@ministry.example", "analyst")
    >>> oidc_user(AccessConfig(method="oidc"), store, audit,
    ...           {"email": "ana@ministry.example", "email_verified": True}).role
    <Role.ANALYST: 'analyst'>
    """
    value = claims.get(config.oidc_claim)
    if not isinstance(value, str) or not value.strip():
        raise _refuse(audit, LoginRefused(
            "no_header", f"the identity provider sent no {config.oidc_claim!r} claim"),
            None, method="oidc")
    if config.oidc_claim == "email" and claims.get("email_verified") is False:
        raise _refuse(audit, LoginRefused(
            "not_an_account", "the identity provider has not verified this e-mail address"),
            None, method="oidc")
    return _known_account(store, audit, value.strip(), method="oidc")


def _known_account(store: AccountStore, audit: AuditLog, name: str, *, method: str) -> Account:
    account = store.get(name)
    if account is None:
        raise _refuse(audit, LoginRefused(
            "not_an_account", "you are signed in, but have no account on this dashboard; "
                              "ask the administrator"), None, method=method)
    if account.disabled:
        raise _refuse(audit, LoginRefused(
            "disabled", f"the account {account.name!r} is disabled; ask the administrator"),
            account.name, method=method)
    audit.append("login", account.name, method=method)
    return account


@dataclass(frozen=True)
class Session:
    """A signed-in user: who, what they may see, and since when (epoch seconds)."""

    user: str
    scope: Scope
    started: float
    last_seen: float


def start_session(account: Account, config: AccessConfig | None,
                  now: float | None = None) -> Session:
    """A new :class:`Session` for ``account`` (its scope under ``config``).

    Examples
    --------
    >>> from analysis.access.roles import Role
    >>> start_session(Account("ana", Role.ANALYST), None, now=5.0).scope.role
    <Role.ANALYST: 'analyst'>
    """
    now = time.time() if now is None else now
    return Session(account.name, scope_for(account, config), started=now, last_seen=now)


def touched(session: Session, now: float | None = None) -> Session:
    """``session`` seen again at ``now`` (a page was opened)."""
    return replace(session, last_seen=time.time() if now is None else now)


def session_status(session: Session, config: AccessConfig, now: float) -> str:
    """``"over"`` past ``[session] max_hours``, ``"idle"`` past ``idle_minutes`` without
    a page, else ``"active"``.

    Examples
    --------
    >>> from analysis.access.roles import Role
    >>> config = AccessConfig(method="accounts", session_max_hours=8)
    >>> session_status(Session("a", Scope(Role.ANALYST), 0.0, 8 * 3600.0), config,
    ...                now=8 * 3600.0 + 1)
    'over'
    """
    if now - session.started > config.session_max_hours * 3600:
        return "over"
    if now - session.last_seen > config.session_idle_minutes * 60:
        return "idle"
    return "active"
