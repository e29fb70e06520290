"""The services guide: a printable, offline directory of who helps after release, and where.

Ministries, NGOs and international organisations agree to circulate "a guide to all the
actors" so that each can orient people to the others. This module reads that guide
from the study database's ``providers`` and ``services`` tables and writes it as one
self-contained HTML page (:func:`guide_html`) or an A4 PDF (:func:`write_guide`), in
any of the five languages. The markup is :mod:`analysis.services.guide_html`.

What it lists, and what it leaves out:

- the services open on the as-of date (default: the data's last day, as the coverage
  tables; today when the database holds no release), and those opening later, marked
  with their opening date; a service closed before the as-of date is left out;
- one section per region, services grouped by type, each with its provider (name,
  kind, public contacts), who it serves, languages, places a year and dates; a
  national service (regions ``['all']``) once, under "Every region"; a provider with no
  open service in a region under "Other organisations";
- no count of people: the guide reads neither releases' rows nor referrals, only the
  names of the regions, so it can go to anyone (no disclosure question arises).

Examples
--------
>>> import duckdb
>>> from analysis.store.schema import migrate
>>> con = duckdb.connect()
>>> _ = migrate(con)
>>> _ = con.execute("INSERT INTO providers VALUES ('P1', 'Maison <Espoir>', 'ngo', "
...                 "['North'], '+216 71 000 000', NULL, NULL, NULL, 'b1')")
>>> _ = con.execute("INSERT INTO services VALUES ('S1', 'P1', 'housing', NULL, ['North'], "
...                 "'both', ['ar', 'fr'], 40, NULL, NULL, 'b1')")
>>> page = guide_html(con, "fr", as_of=dt.date(2026, 1, 31))
>>> "Maison &lt;Espoir&gt;" in page and "logement" in page and "arabe" in page
True
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analysis.contract import ALL_REGIONS
from analysis.errors import AnalysisError, DesistError
from analysis.i18n import check_language
from analysis.services.guide_html import guide_header, render_guide
from analysis.store.atomic import flush_directory, flush_to_disk, replace_atomically
from analysis.store.schema import one_row

#: The region word of the contract meaning every region.
EVERY_REGION = ALL_REGIONS
#: The files :func:`write_guide` writes, by suffix.
GUIDE_SUFFIXES = (".html", ".pdf")


@dataclass(frozen=True)
class ListedProvider:
    """An organisation as the guide shows it: its name, kind and public contacts."""

    provider_id: str
    name: str
    kind: str
    regions: tuple[str, ...]
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class ListedService:
    """A service open on the as-of date, or opening later (``valid_from`` after it)."""

    service_id: str
    provider: ListedProvider
    service_type: str
    name: str | None
    regions: tuple[str, ...]
    sex_served: str
    languages: tuple[str, ...]
    capacity_per_year: int | None
    valid_from: dt.date | None
    valid_to: dt.date | None

    @property
    def national(self) -> bool:
        """Offered in every region (``all`` among its regions)."""
        return EVERY_REGION in self.regions


@dataclass(frozen=True)
class Directory:
    """Everything the guide lists, read once from the database."""

    as_of: dt.date
    updated: dt.date | None  # the last import of providers or services, if recorded
    regions: tuple[str, ...]  # the named regions, sorted; "all" is not among them
    services: tuple[ListedService, ...]
    providers: tuple[ListedProvider, ...]
    every_region: str = EVERY_REGION

    def services_in(self, region: str) -> list[ListedService]:
        """The services listed under ``region`` (``"all"``: the national ones), in order.

        A national service is listed once, under "Every region", not under each region.
        """
        if region == self.every_region:
            chosen = [s for s in self.services if s.national]
        else:
            chosen = [s for s in self.services if not s.national and region in s.regions]
        return sorted(chosen, key=lambda s: (s.provider.name.casefold(),
                                             (s.name or "").casefold(), s.service_id))

    def other_providers_in(self, region: str) -> list[ListedProvider]:
        """Providers serving ``region`` with no service listed under it."""
        listed = {s.provider.provider_id for s in self.services_in(region)}
        if region == self.every_region:
            serving = [p for p in self.providers if EVERY_REGION in p.regions]
        else:
            serving = [p for p in self.providers
                       if region in p.regions and EVERY_REGION not in p.regions]
        return sorted((p for p in serving if p.provider_id not in listed),
                      key=lambda p: (p.name.casefold(), p.provider_id))


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(one_row(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
        [table])[0])


def _default_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    # The data's last day, as the coverage tables use (analysis.services.coverage), so
    # the guide and the coverage page list the same services; today without releases.
    last = one_row(con, "SELECT max(follow_up_end) FROM releases")[0]
    return last if last is not None else dt.date.today()


def _updated(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    finished = one_row(con, """
        SELECT max(finished_at) FROM import_log WHERE batch_id IN (
            SELECT batch_id FROM providers UNION SELECT batch_id FROM services)""")[0]
    return finished.date() if finished is not None else None


def _named_regions(con: duckdb.DuckDBPyConnection, services: list[ListedService],
                   providers: list[ListedProvider]) -> tuple[str, ...]:
    # Regions people are released to come in too (names only): an actor there reads
    # that nothing is listed for it alone, rather than not finding it.
    names = {r for s in services for r in s.regions}
    names |= {r for p in providers for r in p.regions}
    for table, column in (("releases", "release_region"),
                          ("expected_releases", "release_region")):
        if _table_exists(con, table):
            names |= {row[0] for row in con.execute(
                f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL"
            ).fetchall()}
    names.discard(EVERY_REGION)
    return tuple(sorted(names, key=lambda r: (r.casefold(), r)))


def load_directory(con: duckdb.DuckDBPyConnection, *,
                   as_of: dt.date | None = None) -> Directory:
    """Read the providers and the services open on ``as_of`` (or opening later).

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect()
    >>> _ = migrate(con)
    >>> _ = con.execute("INSERT INTO providers VALUES ('P1', 'Clinic', 'ngo', ['North'], "
    ...                 "NULL, NULL, NULL, NULL, 'b1')")
    >>> _ = con.execute("INSERT INTO services VALUES ('S1', 'P1', 'hiv', NULL, ['North'], "
    ...                 "'both', NULL, NULL, NULL, '2025-06-30', 'b1')")
    >>> load_directory(con, as_of=dt.date(2025, 1, 1)).services[0].service_id
    'S1'
    >>> load_directory(con, as_of=dt.date(2025, 7, 1)).services  # closed by then
    ()

    Raises
    ------
    AnalysisError
        When the database has no services tables (schema before version 6) or holds
        neither providers nor services, or a service names a provider that is not in
        ``providers``.
    """
    if not (_table_exists(con, "providers") and _table_exists(con, "services")):
        raise AnalysisError("the database has no providers or services tables: run "
                            "'desist migrate' (schema version 6), then import them")
    when = as_of if as_of is not None else _default_as_of(con)
    providers = {row[0]: ListedProvider(row[0], row[1], row[2], tuple(row[3] or ()),
                                        *row[4:])
                 for row in con.execute("""
                     SELECT provider_id, name, kind, regions, phone, email, address,
                            website FROM providers""").fetchall()}
    services = []
    for row in con.execute("""
            SELECT service_id, provider_id, service_type, name, regions, sex_served,
                   languages, capacity_per_year, valid_from, valid_to
            FROM services WHERE valid_to IS NULL OR valid_to >= ?
            ORDER BY service_id""", [when]).fetchall():
        service_id, provider_id = row[0], row[1]
        if provider_id not in providers:
            raise AnalysisError(f"services row service_id={service_id!r}: provider_id "
                                f"{provider_id!r} is not in providers; import it first")
        services.append(ListedService(
            service_id, providers[provider_id], row[2], row[3], tuple(row[4] or ()),
            row[5], tuple(row[6] or ()), row[7], row[8], row[9]))
    if not providers:
        raise AnalysisError("the database holds no providers or services: import "
                            "providers and services first (docs/import.md)")
    provider_list = sorted(providers.values(), key=lambda p: p.provider_id)
    return Directory(as_of=when, updated=_updated(con),
                     regions=_named_regions(con, services, provider_list),
                     services=tuple(services), providers=tuple(provider_list))


def guide_html(con: duckdb.DuckDBPyConnection, language: str, *,
               as_of: dt.date | None = None) -> str:
    """The guide as one self-contained HTML page in ``language``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The study database (read only).
    language : str
        ``en``, ``fr``, ``ar``, ``ru`` or ``sr``.
    as_of : datetime.date, optional
        The day the guide describes: services closed before it are left out, those
        opening after it are marked. Default: the data's last day, else today.

    Returns
    -------
    str
        A complete HTML document asking for no resource at all.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect()
    >>> _ = migrate(con)
    >>> _ = con.execute("INSERT INTO providers VALUES ('P1', 'Ministry', 'government', "
    ...                 "['all'], NULL, NULL, NULL, NULL, 'b1')")
    >>> _ = con.execute("INSERT INTO services VALUES ('S1', 'P1', 'identity_documents', "
    ...                 "NULL, ['all'], 'both', NULL, NULL, NULL, NULL, 'b1')")
    >>> page = guide_html(con, "ar", as_of=dt.date(2026, 1, 31))
    >>> '<html lang="ar" dir="rtl">' in page, "جميع المناطق" in page
    (True, True)
    """
    return render_guide(load_directory(con, as_of=as_of), check_language(language))


def _suffix(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix not in GUIDE_SUFFIXES:
        raise DesistError(f"{out}: the guide is written as an .html or a .pdf file, not "
                          f"{out.suffix or 'a file without suffix'!r}: name it e.g. "
                          "guide.html or guide.pdf")
    return suffix


def write_guide(con: duckdb.DuckDBPyConnection, language: str,
                out: str | os.PathLike[str], *, as_of: dt.date | None = None) -> Path:
    """Write the guide to ``out``: HTML for ``.html``, an A4 PDF for ``.pdf``.

    The file is written beside ``out`` under a temporary name, flushed, then renamed
    over ``out`` in one step, so a reader never finds half a guide.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The study database (read only).
    language : str
        ``en``, ``fr``, ``ar``, ``ru`` or ``sr``.
    out : path
        The file to write; its folder must exist. Any suffix but ``.html`` or ``.pdf``
        is refused before anything is read.
    as_of : datetime.date, optional
        As for :func:`guide_html`.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    DesistError
        Another suffix, or a folder that does not exist.
    analysis.pdf_report.PdfUnavailable
        For a PDF, when Playwright or Chromium is missing.

    Examples
    --------
    >>> import duckdb, tempfile
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect()
    >>> _ = migrate(con)
    >>> write_guide(con, "fr", Path(tempfile.mkdtemp()) / "guide.docx")
    Traceback (most recent call last):
    ...
    analysis.errors.DesistError: ...guide.docx: the guide is written as an .html or a .pdf file, not '.docx': name it e.g. guide.html or guide.pdf
    """
    path = Path(out)
    suffix = _suffix(path)
    language = check_language(language)
    if not path.parent.is_dir():
        raise DesistError(f"{path}: the folder {path.parent} does not exist")
    directory = load_directory(con, as_of=as_of)
    page = render_guide(directory, language)
    if suffix == ".pdf":
        # imported here: the PDF printer is an optional dependency
        from analysis.pdf_report import PageMargins, print_pdf

        content = print_pdf(page, PageMargins(guide_header(directory, language), language))
    else:
        content = page.encode("utf-8")
    _write_atomically(path, content)
    return path


def _write_atomically(path: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                             dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        # A guide is meant to be shared (it holds nothing about any person): readable
        # by all, not mkstemp's owner-only 0600.
        os.chmod(temporary, 0o644)
        flush_to_disk(Path(temporary))
        replace_atomically(Path(temporary), path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    flush_directory(path.parent)
