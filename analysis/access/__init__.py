"""Who may see what: roles and scopes, accounts, the login throttle and the audit trail.

- :mod:`analysis.access.roles` — :class:`Role` and :class:`Scope`, the part of the study a
  user may see (pages, programmes, regions, facilities, the minimum cell size). Every view
  of :mod:`analysis.views` receives one in its :class:`~analysis.views.ViewFilters` and
  enforces it; a page never has to.
- :mod:`analysis.access.config` — the access configuration beside the study database
  (``STUDY.duckdb.access.toml``): how users are identified (built-in accounts, a trusted
  reverse-proxy header or OIDC), the minimum cell sizes per role, session lifetimes.
- :mod:`analysis.access.accounts` — built-in accounts (``STUDY.duckdb.users.json``,
  owner-only, argon2-hashed passwords), outside the study database so imports never touch them.
- :mod:`analysis.access.throttle` — repeated login failures are slowed down.
- :mod:`analysis.access.audit` — the append-only, hash-chained audit log
  (``STUDY.duckdb.audit.jsonl``).

This package imports nothing of the layers above it and never imports streamlit.
"""
