"""What a report says about what it covers: the selection of releases and the data's date.

A board member reading page 4 of a printed report should still know which releases it
is about and how recent the records are: both are written under the report's title and,
in the PDF, at the top of every page (:mod:`analysis.pdf_report`).

The *data date* is the last day the records follow anyone (the latest
``follow_up_end``: the extract's cut-off), not the day the report was made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from analysis.i18n import N_, translator
from analysis.store.schema import one_row
from analysis.survival.episodes import Selection


def data_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The last day the database's records follow anyone (None when it holds no release).

    Examples
    --------
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE releases (follow_up_end DATE)")
    >>> _ = con.execute("INSERT INTO releases VALUES ('2024-12-31'), ('2025-06-30')")
    >>> data_date(con)
    datetime.date(2025, 6, 30)
    """
    return one_row(con, "SELECT max(follow_up_end) FROM releases")[0]


def _values(values) -> str:
    return ", ".join(str(v) for v in values)


def selection_words(selection: Selection | None, language: str = "en", *,
                    completed_only: bool = False) -> str:
    """The releases a report covers, in ``language`` ("all releases" when unrestricted).

    Values from the data (facilities, offense categories) are quoted as they are.

    Examples
    --------
    >>> selection_words(None)
    'Selection: all releases'
    >>> selection_words(Selection(sexes=("F",), release_from=dt.date(2020, 1, 1)))
    'Selection: released from 2020-01-01; sex F'
    >>> selection_words(Selection(age_bands=("18-24",)), "fr", completed_only=True)
    "Sélection : tranche d'âge 18-24; seulement ceux qui ont achevé le programme"
    """
    tr = translator(language)
    sel = selection or Selection()
    parts = []
    start = sel.release_from.isoformat() if sel.release_from else None
    end = sel.release_to.isoformat() if sel.release_to else None
    if start and end:
        parts.append(tr("released from {start} to {end}", start=start, end=end))
    elif start:
        parts.append(tr("released from {start}", start=start))
    elif end:
        parts.append(tr("released up to {end}", end=end))
    if sel.release_years:
        parts.append(tr("release years {values}", values=_values(sel.release_years)))
    for values, words in ((sel.facilities, N_("facility {values}")),
                          (sel.regions, N_("region {values}")),
                          (sel.sexes, N_("sex {values}")),
                          (sel.age_bands, N_("age band {values}")),
                          (sel.offenses, N_("offense {values}")),
                          (sel.release_types, N_("release type {values}"))):
        if values:
            parts.append(tr(words, values=_values(values)))
    if completed_only:
        parts.append(tr("completers only"))
    if not parts:
        return tr("Selection: all releases")
    return tr("Selection: {parts}", parts="; ".join(parts))


@dataclass(frozen=True)
class ReportContext:
    """What a report covers: its releases (``selection``, ``completed_only``) and the
    data's date. Language-free: :meth:`lines` and :meth:`header` word it."""

    selection: Selection | None = None
    data_date: dt.date | None = None
    completed_only: bool = False

    def lines(self, language: str = "en") -> tuple[str, ...]:
        """The lines under the title: the selection, then the data's date.

        Examples
        --------
        >>> ReportContext(None, dt.date(2025, 6, 30)).lines("fr")
        ('Sélection : toutes les libérations', "Données jusqu'au 2025-06-30")
        """
        selection = selection_words(self.selection, language,
                                    completed_only=self.completed_only)
        if self.data_date is None:
            return (selection,)
        tr = translator(language)
        return (selection, tr("Data up to {date}", date=self.data_date.isoformat()))

    def header(self, title: str, language: str = "en") -> str:
        """The line at the top of every printed page.

        Examples
        --------
        >>> ReportContext().header("Impact of EDU")
        'Impact of EDU · Selection: all releases'
        """
        return " · ".join((title, *self.lines(language)))
