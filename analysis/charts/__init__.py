"""Chart builders: tidy DataFrame in, plotly Figure out (no data access, no fitting).

``curves.py`` (curves over time with an optional risk table, rates by group),
``groups.py`` (curves of many groups: small multiples, one group highlighted),
``models.py`` (forest plot),
``impact.py`` (balance and overlap), ``style.py`` (palette, layout, escaping).

Shared by the dashboard, the HTML reports and the notebooks. Colours are the
Okabe–Ito palette (safe for colour-blind readers); fonts are large enough for a
projector; axes always carry their unit.

Every text in a figure is shown as text: plotly.js reads a subset of HTML (``<b>``,
``<br>``, ``<a href>``, ``<span style>``, entities) in titles, legends, axis and tick
labels, hover labels and annotations, and group names come from the data (facility,
programme and covariate names). Each builder ends in
:func:`~analysis.charts.style.finish_layout`, which escapes
``<``, ``>`` and ``&`` in all of them once (:func:`plotly_text`), so a facility called
``<b>North</b>`` is drawn as those characters.

Every builder takes ``language`` (keyword, default English): its own fixed labels (axis
and legend titles, hover labels, the names of the series it knows) are rendered through
the catalogs of :mod:`analysis.i18n` (``views.json``). A ``title`` the caller passes is
already words, in the caller's language.
"""

from analysis.charts.curves import rate_plot, step_curves
from analysis.charts.groups import MANY_GROUPS, curve_facets, highlighted_curves
from analysis.charts.impact import balance_plot, overlap_plot
from analysis.charts.models import forest_plot
from analysis.charts.style import FONT_SIZE, PALETTE, SERIES_WORDS, plotly_text

__all__ = ["FONT_SIZE", "MANY_GROUPS", "PALETTE", "SERIES_WORDS", "balance_plot",
           "curve_facets", "forest_plot", "highlighted_curves", "overlap_plot", "plotly_text",
           "rate_plot", "step_curves"]
