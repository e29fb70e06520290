"""The markup of the services guide: one self-contained, printable HTML page.

:mod:`analysis.services.guide` reads the directory from the database; this module only
writes it out. Three rules hold for every line of it:

- every text from the data (organisation and service names, regions, contacts) goes
  through :func:`html.escape` and inside ``<bdi>``, so ``<b>x</b>`` or a Markdown image
  is shown as its characters and an English name keeps its order in Arabic text;
- nothing is fetched: no script, no image, no web font (the system's DejaVu and Noto
  fonts), so the file reads the same on a machine with no network and makes no request;
- the page declares its language, and its direction for Arabic; the styles use logical
  sides (``start``, ``inline-start``), so one sheet lays out both directions, and print
  styles start each region on a new A4 page.

Examples
--------
>>> service_type_words("housing", "fr"), sex_served_words("both", "ar")
('logement', 'النساء والرجال')
>>> service_type_words("street_outreach")  # a code the vocabulary does not know
'street outreach'
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from babel import Locale

from analysis import __version__
from analysis.i18n import N_, Translator, translator
from analysis.i18n.vocabulary import joining_translator

if TYPE_CHECKING:  # the data classes live with the queries that fill them
    from analysis.services.guide import Directory, ListedProvider, ListedService

#: Service types of the data contract (``analysis.contract.SERVICE_TYPES``), in words,
#: in the contract's order: the order of the groups under each region.
SERVICE_TYPE_WORDS: dict[str, str] = {
    "drug_treatment": N_("drug treatment"),
    "opioid_substitution": N_("opioid substitution"),
    "hiv": N_("HIV care"),
    "tuberculosis": N_("tuberculosis care"),
    "hepatitis": N_("hepatitis care"),
    "mental_health": N_("mental health"),
    "housing": N_("housing"),
    "employment": N_("employment support"),
    "vocational_training": N_("vocational training"),
    "education": N_("education"),
    "legal_aid": N_("legal aid"),
    "family_support": N_("family support"),
    "identity_documents": N_("identity documents"),
    "financial_aid": N_("financial aid"),
    "psychosocial_support": N_("psychosocial support"),
    "disengagement": N_("disengagement from violence"),
}
#: Provider kinds of the data contract (``analysis.contract.PROVIDER_KINDS``).
PROVIDER_KIND_WORDS: dict[str, str] = {
    "government": N_("government body"),
    "ngo": N_("non-governmental organisation"),
    "international": N_("international organisation"),
    "private": N_("private organisation"),
}
#: Who a service serves (``analysis.contract.SEX_SERVED``).
SEX_SERVED_WORDS: dict[str, str] = {
    "women": N_("women"),
    "men": N_("men"),
    "both": N_("women and men"),
}
#: The "how to use" paragraph (one msgid: translators see it whole).
GUIDE_HOW_TO = N_(
    "This guide lists the organisations that help people after their release from "
    "prison, and what each one offers, region by region. Services offered in every "
    "region of the country come first, under “Every region”; within each region, "
    "services are grouped by type. Before referring someone, contact the organisation "
    "to check that a place is free and what the conditions are. The guide holds no "
    "information about any person.")
#: Babel's locale of each language (Serbian in Latin script, as the catalogs).
_BABEL_LOCALES = {"en": "en", "fr": "fr", "ar": "ar", "ru": "ru", "sr": "sr_Latn"}
#: Only these websites become links: anything else (``javascript:``...) stays text.
_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"']+\Z", re.IGNORECASE)

_STYLE = """
body { font-family: "DejaVu Sans", "Noto Sans", "Noto Sans Arabic", Arial, sans-serif;
       margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #1a1a1a;
       line-height: 1.4; }
:lang(ar) body, body:lang(ar) { font-family: "Noto Sans Arabic", "DejaVu Sans", sans-serif; }
h1 { font-size: 1.8rem; margin-bottom: .2rem; }
h2 { font-size: 1.4rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem;
     margin-top: 2.2rem; text-align: start; }
h3 { font-size: 1.1rem; margin: 1.2rem 0 .4rem; color: #0b4f7c; text-align: start; }
h4 { font-size: 1rem; margin: 0 0 .2rem; }
.dates { color: #444; margin: .1rem 0; }
.how { background: #eef5fb; border-inline-start: 6px solid #0072B2; padding: .6rem 1rem; }
.note { color: #444; font-style: italic; }
nav ol { columns: 2; padding-inline-start: 1.4rem; }
article { border: 1px solid #ccc; border-radius: 4px; padding: .5rem .8rem;
          margin: .5rem 0; }
.provider { margin: 0 0 .3rem; color: #333; }
.later { font-weight: normal; font-size: .85rem; background: #fff4e5;
         border-inline-start: 4px solid #E69F00; padding: 0 .4rem; margin-inline-start: .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: 0; }
dt { color: #555; }
dd { margin: 0; overflow-wrap: anywhere; }
a { color: #0b4f7c; }
footer { margin-top: 2.5rem; color: #666; font-size: .8rem; }
@page { size: A4; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  h1 { font-size: 1.5rem; }
  section.region { break-before: page; page-break-before: always; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  article { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _words(table: dict[str, str], code: str, language: str) -> str:
    # A code the vocabulary does not know (a database filled by hand) is shown as
    # recorded, underscores as spaces, rather than hidden.
    if code in table:
        return translator(language)(table[code])
    return code.replace("_", " ")


def service_type_words(code: str, language: str = "en") -> str:
    """A service type of the contract in words (``housing`` -> "housing")."""
    return _words(SERVICE_TYPE_WORDS, code, language)


def provider_kind_words(code: str, language: str = "en") -> str:
    """A provider kind in words (``ngo`` -> "non-governmental organisation")."""
    return _words(PROVIDER_KIND_WORDS, code, language)


def sex_served_words(code: str, language: str = "en") -> str:
    """Who a service serves in words (``both`` -> "women and men")."""
    return _words(SEX_SERVED_WORDS, code, language)


@functools.cache
def _language_names(language: str) -> dict[str, str]:
    return dict(Locale.parse(_BABEL_LOCALES[language]).languages)


def language_name(code: str, language: str = "en") -> str:
    """A language code of the data (``ar``) named in ``language``; unknown codes as recorded.

    Examples
    --------
    >>> language_name("ar", "fr"), language_name("xx-local")
    ('arabe', 'xx-local')
    """
    return _language_names(language).get(code.strip().lower(), code)


def _text(value: object, *, left_to_right: bool = False) -> str:
    """A value from the data, escaped and isolated in its own direction.

    ``left_to_right`` for phone numbers, e-mail and web addresses: written left to right
    in every script, and a number alone has no direction of its own (in Arabic text
    "+216 71 000 000" would otherwise read its groups from the right).
    """
    direction = ' dir="ltr"' if left_to_right else ""
    return f"<bdi{direction}>{html.escape(str(value))}</bdi>"


def _element(tag: str, words: str, css_class: str | None = None) -> str:
    """``<tag>words</tag>``, the words escaped (the guide's own words, translated).

    Kept apart from f-strings so that the catalogs' extractor sees every ``tr("...")``.
    """
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<{tag}{attribute}>{html.escape(words)}</{tag}>"


def _listed(items: list[str], language: str) -> str:
    """Markup items joined with the language's comma ("،" in Arabic)."""
    tr = joining_translator(language)
    joined = items[0] if items else ""
    for item in items[1:]:
        joined = tr("{items}, {item}", items=joined, item=item)
    return joined


def _dates(tr: Translator, start: dt.date | None, end: dt.date | None) -> str | None:
    if start is not None and end is not None:
        return tr("from {start} to {end}", start=start.isoformat(), end=end.isoformat())
    if start is not None:
        return tr("since {start}", start=start.isoformat())
    if end is not None:
        return tr("until {end}", end=end.isoformat())
    return None


def _contacts(tr: Translator, provider: ListedProvider) -> Iterator[tuple[str, str]]:
    """(label, markup) of each public contact the provider gave."""
    if provider.phone:
        yield tr("Phone"), _text(provider.phone, left_to_right=True)
    if provider.email:
        yield tr("Email"), _text(provider.email, left_to_right=True)
    if provider.address:
        yield tr("Address"), _text(provider.address)
    if provider.website:
        shown = _text(provider.website, left_to_right=True)
        if _WEB_ADDRESS.match(provider.website.strip()):
            href = html.escape(provider.website.strip(), quote=True)
            shown = f'<a href="{href}" rel="noreferrer noopener">{shown}</a>'
        yield tr("Website"), shown


def _fields(rows: Iterable[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{html.escape(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f"<dl>{items}</dl>" if items else ""


def _service(service: ListedService, language: str, as_of: dt.date) -> str:
    tr = translator(language)
    title = _text(service.name) if service.name else html.escape(
        service_type_words(service.service_type, language))
    if service.valid_from is not None and service.valid_from > as_of:
        opens = tr("opens on {date}", date=service.valid_from.isoformat())
        title += " " + _element("span", opens, "later")
    provider = service.provider
    rows: list[tuple[str, str]] = [
        (tr("For"), html.escape(sex_served_words(service.sex_served, language)))]
    if service.languages:
        rows.append((tr("Languages"), _listed(
            [_text(language_name(code, language)) for code in service.languages], language)))
    if service.capacity_per_year is not None:
        rows.append((tr("Places a year"), html.escape(tr.number(service.capacity_per_year))))
    if len(service.regions) > 1:
        rows.append((tr("Regions served"),
                     _listed([_text(r) for r in service.regions], language)))
    open_dates = _dates(tr, service.valid_from, service.valid_to)
    if open_dates:
        rows.append((tr("Open"), html.escape(open_dates)))
    rows.extend(_contacts(tr, provider))
    return (f'<article class="service"><h4>{title}</h4>'
            f'<p class="provider">{_text(provider.name)} · '
            f"{html.escape(provider_kind_words(provider.kind, language))}</p>"
            f"{_fields(rows)}</article>")


def _provider(provider: ListedProvider, language: str) -> str:
    tr = translator(language)
    return (f'<article class="provider-only"><h4>{_text(provider.name)}</h4>'
            f'<p class="provider">{html.escape(provider_kind_words(provider.kind, language))}'
            f"</p>{_fields(_contacts(tr, provider))}</article>")


def _type_order(code: str) -> tuple[int, str]:
    order = list(SERVICE_TYPE_WORDS)
    return (order.index(code), "") if code in order else (len(order), code)


def _region(index: int, heading: str, region: str, directory: Directory,
            language: str) -> str:
    tr = translator(language)
    services = directory.services_in(region)
    parts = [f'<section class="region" id="region-{index}"><h2>{heading}</h2>']
    if region == directory.every_region:
        note = tr("Services offered everywhere in the country.")
        parts.append(f'<p class="note">{html.escape(note)}</p>')
    elif not services:
        note = tr("No service is listed for this region alone: see “Every region”.")
        parts.append(f'<p class="note">{html.escape(note)}</p>')
    for service_type in sorted({s.service_type for s in services}, key=_type_order):
        parts.append(f"<h3>{html.escape(service_type_words(service_type, language))}</h3>")
        parts.extend(_service(s, language, directory.as_of)
                     for s in services if s.service_type == service_type)
    others = directory.other_providers_in(region)
    if others:
        parts.append(_element("h3", tr("Other organisations")))
        parts.extend(_provider(p, language) for p in others)
    parts.append("</section>")
    return "".join(parts)


def guide_title(language: str) -> str:
    """The guide's title in ``language`` (also the PDF's running header).

    Examples
    --------
    >>> guide_title("fr")
    'Répertoire des services après la libération'
    """
    tr = translator(language)
    return tr("Directory of services after release")


def guide_header(directory: Directory, language: str) -> str:
    """What every printed page repeats: the title and the day the guide describes."""
    tr = translator(language)
    open_on = tr("Services open on {date}", date=directory.as_of.isoformat())
    return f"{guide_title(language)} · {open_on}"


def render_guide(directory: Directory, language: str) -> str:
    """The complete HTML page of ``directory``, its words in ``language``.

    The first section is "Every region" (the national services), then one section per
    region in alphabetical order; the table of contents links to each.

    Examples
    --------
    >>> from analysis.services.guide import Directory
    >>> empty = Directory(as_of=dt.date(2026, 1, 1), updated=None, regions=("North",),
    ...                   services=(), providers=())
    >>> page = render_guide(empty, "ru")
    >>> "Все регионы" in page and "<bdi>North</bdi>" in page
    True
    """
    tr = translator(language)
    direction = ' dir="rtl"' if tr.right_to_left else ""
    title = guide_title(language)
    regions = [(tr("Every region"), directory.every_region)]
    regions += [(region, region) for region in directory.regions]
    headings = [html.escape(words) if code == directory.every_region else _text(words)
                for words, code in regions]
    open_on = tr("Services open on {date}", date=directory.as_of.isoformat())
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(language)}"{direction}><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # No request of any kind, even if a later edit forgot the rule above.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="dates">{html.escape(open_on)}</p>',
    ]
    if directory.updated is not None:
        updated = tr("Directory updated on {date}", date=directory.updated.isoformat())
        parts.append(f'<p class="dates">{html.escape(updated)}</p>')
    parts += [
        _element("h2", tr("How to use this guide")),
        _element("p", tr(GUIDE_HOW_TO), "how"),
    ]
    if not directory.services:
        none_open = tr("The database holds no service open on {date}.",
                       date=directory.as_of.isoformat())
        parts.append(f'<p class="note">{html.escape(none_open)}</p>')
    links = "".join(f'<li><a href="#region-{i}">{heading}</a></li>'
                    for i, heading in enumerate(headings))
    contents = _element("h2", tr("Contents"))
    parts.append(f"<nav>{contents}<ol>{links}</ol></nav>")
    parts.extend(_region(i, heading, code, directory, language)
                 for i, (heading, (_, code)) in enumerate(zip(headings, regions, strict=True)))
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    footer = tr("Desistance {version} · generated {stamp}", version=__version__, stamp=stamp)
    parts.append(f"<footer>{html.escape(footer)}</footer></body></html>")
    return "\n".join(parts)

