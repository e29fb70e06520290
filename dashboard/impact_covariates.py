"""The Impact page's adjustment set: the covariates the comparison adjusts for.

The default set depends on the compared cohort (the standard fields and every further
covariate known for enough of the people compared), so only the evaluation can say what
it is. The page therefore asks in two steps: :func:`requested_covariates` before the
evaluation (the link's or the reader's choice, if any: no choice means the default set,
whose page the importer stored), and :func:`draw_covariate_choice` after it, in a place
kept above the results. A choice other than the default travels in the URL as
``?covariates=a,b``; a name in a link that is not a covariate of this database is named
in the page's notice and left out.
"""

from __future__ import annotations

import streamlit as st

from analysis.impact.cohort import MIN_KNOWN_SHARE
from analysis.impact.wording import covariate_words
from analysis.views.filters import Rejection
from dashboard import notices
from dashboard.i18n import current_language, t, translator

#: The multiselect's key, and where the default set of each subject is remembered.
CHOICE_KEY = "impact-covariates"
_DEFAULTS_KEY = "impact-covariates-default"


def requested_covariates(names: list[str], subject: tuple) -> dict:
    """The evaluation's ``covariates`` option: ``{}`` for the default set, else
    ``{"covariates": (...)}``. ``names``: the database's covariates; ``subject``: what
    is evaluated (kind, value, horizon), whose default set may already be known."""
    if CHOICE_KEY not in st.session_state and "covariates" in st.query_params:
        asked = [n.strip() for n in st.query_params.get("covariates", "").split(",")
                 if n.strip()]
        st.session_state[CHOICE_KEY] = [n for n in asked if n in names]
        notices.report(Rejection("covariates", n, None) for n in asked if n not in names)
    default_set = st.session_state.setdefault(_DEFAULTS_KEY, {}).get(subject)
    chosen = st.session_state.get(CHOICE_KEY)
    if chosen is None or chosen == default_set:
        return {}
    return {"covariates": tuple(chosen)}


def draw_covariate_choice(slot, names: list[str], subject: tuple, result,
                          adjusted: dict) -> None:
    """Draw the choice in ``slot`` once ``result`` (the evaluation) has said what the
    default set is, and keep the URL in step with ``adjusted``."""
    defaults = st.session_state.setdefault(_DEFAULTS_KEY, {})
    if result.adjustment is not None and result.adjustment.default:
        defaults[subject] = list(result.adjustment.default_choice)
    default_set = defaults.get(subject)
    # Not drawn before an evaluation has said what the default set is: an empty choice
    # would mean "adjust for nothing".
    if CHOICE_KEY in st.session_state or default_set is not None:
        language = current_language()
        # the standard fields in words; the dataset's own covariates by their names
        words = {name: covariate_words(name, language) for name in names}
        slot.multiselect(
            t("Adjusted for"), names, key=CHOICE_KEY, format_func=words.get,
            default=None if CHOICE_KEY in st.session_state else default_set,
            help=t("The characteristics the comparison adjusts for (propensity score, "
                   "balance and Cox model). By default: the standard fields and every "
                   "further covariate of the dataset known for at least {share} of the "
                   "people compared.", share=translator().percent(MIN_KNOWN_SHARE, digits=0)))
    if not adjusted:
        st.query_params.pop("covariates", None)
    elif st.query_params.get("covariates") != ",".join(adjusted["covariates"]):
        st.query_params["covariates"] = ",".join(adjusted["covariates"])
