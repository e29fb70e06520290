"""Which covariates an impact evaluation adjusts for, and why others were left out.

The analyst names the adjustment set (``desist impact --covariates a,b,c``, the Impact
page's choice, ``ImpactEvaluation(covariates=...)``) or takes the **default set**: the
standard fields (:data:`~analysis.impact.cohort.DEFAULT_COVARIATES`) plus every extra
covariate of the dataset (the columns of the ``covariates`` table: the further columns
of ``releases``) known for at least
:data:`~analysis.impact.cohort.MIN_KNOWN_SHARE` of the releases compared.

:func:`resolve_covariates` turns the request into the set asked for (an unknown name is
refused, naming the ones available); :func:`adjustment_of` says, once the propensity
model is fitted, which were used and which were left out: ``empty``, ``few_known``,
``constant`` (:func:`~analysis.impact.cohort.build_cohort`) or ``redundant`` (every
indicator it makes is a linear combination of the others:
:func:`~analysis.impact.propensity.independent_columns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from analysis.errors import AnalysisError
from analysis.i18n import N_, translator
from analysis.impact.cohort import (
    CATEGORICAL_COVARIATES,
    DEFAULT_COVARIATES,
    MIN_KNOWN_SHARE,
    Cohort,
    LeftOut,
)
from analysis.impact.rules import Reason
from analysis.impact.wording import COVARIATE_CONSTANT, covariate_words
from analysis.survival.cox_study import available_covariates


@dataclass(frozen=True)
class CovariateRequest:
    """The adjustment set asked for, resolved against a database.

    Attributes
    ----------
    requested : tuple of str
        The covariates asked for, in order (the default set: standard fields, then the
        dataset's extra covariates in name order).
    default : bool
        Whether this is the default set.
    optional : tuple of str
        The extras the default set adds: kept only when known often enough.
    extras : tuple of str
        Every extra covariate of the dataset (an unknown value of theirs never makes a
        release ineligible).
    categorical : tuple of str
        The requested covariates that enter as indicators.
    available : tuple of str
        Every covariate name the database offers.
    """

    requested: tuple[str, ...]
    default: bool
    optional: tuple[str, ...]
    extras: tuple[str, ...]
    categorical: tuple[str, ...]
    available: tuple[str, ...]


def extra_covariates(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The dataset's own covariates (further columns of ``releases``), in name order.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> extra_covariates(con)
    ()
    """
    return tuple(name for (name,) in con.execute(
        "SELECT name FROM covariates ORDER BY name").fetchall())


def resolve_covariates(con: duckdb.DuckDBPyConnection,
                       covariates: Sequence[str] | None = None) -> CovariateRequest:
    """The adjustment set for ``covariates`` (``None``: the default set).

    Raises
    ------
    AnalysisError
        A name the database does not offer; the message names it and lists the
        available covariates.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> resolve_covariates(con).requested == DEFAULT_COVARIATES
    True
    >>> resolve_covariates(con, ["age_at_release", "shoe_size"])
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: unknown covariate 'shoe_size'; available covariates: ...
    """
    kinds = available_covariates(con)
    extras = extra_covariates(con)
    if covariates is None:
        requested = tuple(dict.fromkeys((*DEFAULT_COVARIATES, *extras)))
        optional = tuple(name for name in extras if name not in DEFAULT_COVARIATES)
    else:
        requested = tuple(dict.fromkeys(name.strip() for name in covariates if name.strip()))
        optional = ()
        unknown = [name for name in requested if name not in kinds]
        if unknown:
            names = ", ".join(f"'{name}'" for name in unknown)
            raise AnalysisError(
                f"unknown covariate{'s' if len(unknown) > 1 else ''} {names}; available "
                f"covariates: {', '.join(sorted(kinds))}")
    categorical = tuple(name for name in requested
                        if name in CATEGORICAL_COVARIATES or kinds.get(name) == "categorical")
    return CovariateRequest(requested, covariates is None, optional, extras, categorical,
                            tuple(sorted(kinds)))


#: How each reason of :class:`~analysis.impact.cohort.LeftOut` is written.
LEFT_OUT_WORDS = {
    "empty": N_("no known value among the releases compared"),
    "few_known": N_("{share} known, below the {minimum} the default set needs"),
    "constant": N_("a single value among the releases compared"),
    "redundant": N_("redundant: it adds nothing to the other covariates"),
}


@dataclass(frozen=True)
class Adjustment:
    """What an evaluation adjusted for (propensity score, balance and Cox model alike).

    Attributes
    ----------
    requested : tuple of str
        The covariates asked for.
    default : bool
        Whether they are the default set.
    used : tuple of str
        The covariates in the models (each with at least one column of the design).
    left_out : tuple of LeftOut
        The others, with the reason and their share of known values.
    redundant_terms : tuple of str
        Design columns dropped as linear combinations of the others (``facility[W]``
        beside ``sex[F]``), including those of covariates still used.
    min_known_share : float
        :data:`~analysis.impact.cohort.MIN_KNOWN_SHARE`.
    """

    requested: tuple[str, ...]
    default: bool
    used: tuple[str, ...]
    left_out: tuple[LeftOut, ...]
    redundant_terms: tuple[str, ...]
    min_known_share: float = MIN_KNOWN_SHARE

    @property
    def default_choice(self) -> tuple[str, ...]:
        """The covariates the default rule chose (those asked for, less the extras with
        too few known values): what the Impact page's choice starts with."""
        few = {item.covariate for item in self.left_out if item.reason == "few_known"}
        return tuple(name for name in self.requested if name not in few)

    def describe(self, language: str = "en", *, worded: bool | None = None) -> list[str]:
        """What was adjusted for and what was left out, in ``language``: one line for the
        covariates used, one per covariate left out. ``worded``: the standard fields in
        words ("age at release"), not as the columns' names that ``--covariates`` takes
        (default: in words in every language but English, as the JSON's text).

        Examples
        --------
        >>> adjustment = Adjustment(("age_at_release", "drug_use"), True, ("age_at_release",),
        ...                         (LeftOut("drug_use", "few_known", 0.41),), ())
        >>> adjustment.describe()
        ['Adjusted for: age_at_release (the default set)', 'Left out: drug_use (41% known, below the 80% the default set needs)']
        """
        tr = translator(language)
        # English names the columns themselves (as the JSON does); other languages word them.
        if worded is None:
            worded = language != "en"
        name = (lambda term: covariate_words(term, language)) if worded else (
            lambda term: term)
        comma = "، " if tr.right_to_left else ", "
        used = comma.join(name(term) for term in self.used) or tr("no covariate")
        lines = [tr("Adjusted for: {covariates} (the default set)", covariates=used)
                 if self.default else tr("Adjusted for: {covariates}", covariates=used)]
        for item in self.left_out:
            why = tr(LEFT_OUT_WORDS[item.reason], share=tr.percent(item.known_share, 0),
                     minimum=tr.percent(self.min_known_share, 0))
            lines.append(tr("Left out: {covariate} ({reason})", covariate=name(item.covariate),
                            reason=why))
        return lines

    def as_dict(self) -> dict:
        """The ``adjustment`` block of ``desist impact --json``."""
        return {"default_set": self.default, "requested": list(self.requested),
                "used": list(self.used),
                "left_out": [item.as_dict() for item in self.left_out],
                "redundant_terms": list(self.redundant_terms),
                "min_known_share": self.min_known_share}


def adjustment_of(request: CovariateRequest, cohort: Cohort, full_design: pd.DataFrame,
                  dropped: Sequence[str]) -> tuple[Adjustment, list[Reason]]:
    """The adjustment of a fitted propensity model, and the notes on what it left out.

    ``full_design`` is the propensity model's design before redundant columns were
    dropped, ``dropped`` those columns. A usable covariate with no design column (a
    single value among the eligible releases) is left out as ``constant``; one whose
    every column was dropped, as ``redundant``.
    """
    shares = cohort.known_shares or {}
    terms: dict[str, list[str]] = {}
    for term in full_design.columns:
        terms.setdefault(str(term).partition("[")[0], []).append(str(term))
    gone = set(map(str, dropped))
    used, left_out, notes = [], list(cohort.left_out), []
    for name in cohort.covariates:
        own = terms.get(name, [])
        if not own:
            left_out.append(LeftOut(name, "constant", shares.get(name, 1.0)))
            notes.append(Reason(COVARIATE_CONSTANT, {"name": name}))
        elif all(term in gone for term in own):
            left_out.append(LeftOut(name, "redundant", shares.get(name, 1.0)))
        else:
            used.append(name)
    order = {name: position for position, name in enumerate(request.requested)}
    left_out.sort(key=lambda item: order.get(item.covariate, len(order)))
    adjustment = Adjustment(request.requested, request.default, tuple(used), tuple(left_out),
                            tuple(term for term in full_design.columns if term in gone))
    return adjustment, notes
