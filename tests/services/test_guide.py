"""The services guide: what it lists in each language, what it leaves out, how it is written.

The database is built by direct SQL after migrating an empty one, so these tests do not
depend on the importer: three regions people are released to (Capital, North Coast,
South), a national ministry, an NGO and an international organisation whose names are
hostile markup, a private provider with no service, a closed service and one opening
later.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import contract
from analysis.errors import AnalysisError, DesistError
from analysis.i18n import LANGUAGES, translator
from analysis.services.guide import (
    Directory,
    ListedProvider,
    ListedService,
    guide_html,
    load_directory,
    write_guide,
)
from analysis.services.guide_html import (
    PROVIDER_KIND_WORDS,
    SERVICE_TYPE_WORDS,
    SEX_SERVED_WORDS,
    render_guide,
)
from analysis.store.schema import migrate
from tests.impact.pdf_text import pdf_info, pdf_text, printed, squeezed

DATA_END = dt.date(2025, 12, 31)
HOSTILE_TAG = "<b>x</b>"
HOSTILE_IMAGE = "![t](http://example.invalid/x.png)"
PROVIDERS = [
    ("P-GOV", "Ministry of Social Affairs", "government", ["all"], "+216 71 000 111",
     "contact@social.example", "1 Avenue de la République, Tunis", "https://social.example"),
    ("P-NGO", HOSTILE_TAG, "ngo", ["Capital"], "+216 71 222 333", None, None,
     "javascript:alert(1)"),
    ("P-INT", HOSTILE_IMAGE, "international", ["North Coast"], None, "office@int.example",
     None, None),
    ("P-PRIV", "Atelier Nord", "private", ["North Coast"], "+216 73 444 555", None, None,
     None),
]
SERVICES = [
    ("S-ID", "P-GOV", "identity_documents", None, ["all"], "both", ["ar", "fr"], None,
     None, None),
    ("S-DRUG", "P-NGO", "drug_treatment", "Centre Amal", ["Capital"], "men", ["ar"], 120,
     dt.date(2024, 1, 1), dt.date(2027, 12, 31)),
    ("S-WOMEN", "P-NGO", "housing", "Maison des femmes", ["Capital", "North Coast"], "women",
     ["fr", "ar"], 15, None, None),
    ("S-CLOSED", "P-INT", "hiv", "Closed clinic", ["North Coast"], "both", None, 30,
     None, dt.date(2025, 6, 30)),
    ("S-LATER", "P-INT", "employment", "Future jobs", ["North Coast"], "both", ["en"], None,
     dt.date(2026, 3, 1), None),
]
REGIONS = ("Capital", "North Coast", "South")


def directory_db(releases_per_region: int = 3, referrals: int = 0) -> duckdb.DuckDBPyConnection:
    """An in-memory study database holding the directory above and a few releases."""
    con = duckdb.connect()
    migrate(con)
    con.executemany("INSERT INTO providers VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'b1')", PROVIDERS)
    con.executemany("INSERT INTO services VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'b1')",
                    SERVICES)
    rows = [(f"R{region[0]}{i}", f"person-{region[0]}{i}", dt.date(2025, 1, 1 + i), "Central",
             DATA_END, region, "F" if i % 2 else "M")
            for region in REGIONS for i in range(releases_per_region)]
    con.executemany("INSERT INTO releases (release_id, person_id, release_date, facility, "
                    "follow_up_end, release_region, sex, batch_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 'b0')", rows)
    for i in range(referrals):
        con.execute("INSERT INTO referrals VALUES (?, 'S-DRUG', ?, 'attended', NULL, NULL, "
                    "'b1')", [rows[i % len(rows)][1], dt.date(2025, 2, 1 + i)])
    return con


@pytest.fixture()
def con():
    connection = directory_db()
    yield connection
    connection.close()


def in_print(text: str) -> str:
    """What extraction gives back of printed ``text``: lam–alef ligatures are drawn (and
    swapped on extraction) only inside a word, so each word is brought to that form."""
    return unmarked("".join(printed(word) for word in text.split()))


def unmarked(text: str) -> str:
    """``text`` without Arabic vowel marks, which extraction moves about ("سنويًا" comes
    back "سنوًيا")."""
    return re.sub("[\u064b-\u065f\u0670]", "", text)


def section(page: str, index: int) -> str:
    """The markup of the guide's region section ``index`` (0: "Every region")."""
    found = re.search(rf'<section class="region" id="region-{index}">(.*?)</section>',
                      page, re.S)
    assert found, f"no section {index}"
    return found.group(1)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name == "href":
                self.links.append(value)
            if name in ("src", "srcset", "data", "poster", "background", "action"):
                self.sources.append(value)


def parsed(page: str) -> _Tags:
    tags = _Tags()
    tags.feed(page)
    return tags


#: Every element the guide's markup uses: a name from the data can add none.
GUIDE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4",
              "p", "nav", "ol", "li", "a", "section", "article", "dl", "dt", "dd", "span",
              "bdi", "footer"}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_each_language_words_the_guide_and_declares_itself(con, language):
    page = guide_html(con, language)
    tr = translator(language)
    direction = ' dir="rtl"' if language == "ar" else ""
    assert f'<html lang="{language}"{direction}>' in page
    for words in ("Directory of services after release", "Every region", "Contents",
                  "How to use this guide", "housing", "drug treatment", "identity documents",
                  "women", "men", "women and men", "non-governmental organisation",
                  "government body", "international organisation", "private organisation",
                  "Places a year", "Phone", "Email", "Website"):
        assert html.escape(tr(words)) in page, (language, words)
    assert html.escape(tr("Services open on {date}", date="2025-12-31")) in page
    if language != "en":
        assert "Every region" not in page and "drug treatment" not in page


def test_the_french_guide_reads_in_french(con):
    page = html.unescape(guide_html(con, "fr"))
    for words in ("Répertoire des services après la libération", "Toutes les régions",
                  "Sommaire", "logement", "traitement des addictions", "papiers d’identité",
                  "femmes et hommes", "organisation non gouvernementale", "organisme public",
                  "Places par an", "Téléphone", "arabe", "français", "ouvre le 2026-03-01",
                  "du 2024-01-01 au 2027-12-31"):
        assert words in page, words


def test_only_arabic_reads_right_to_left(con):
    assert '<html lang="ar" dir="rtl">' in guide_html(con, "ar")
    assert 'dir="rtl"' not in guide_html(con, "ru")


def test_names_from_the_data_are_shown_as_text_and_fetch_nothing(con):
    page = guide_html(con, "en")
    assert html.escape(HOSTILE_TAG) in page and HOSTILE_TAG not in page
    assert HOSTILE_IMAGE in page  # the characters themselves, in a text node
    tags = parsed(page)
    assert tags.tags <= GUIDE_TAGS and "img" not in tags.tags
    assert tags.sources == []
    # the only links: the contents' anchors and the one http(s) website; never javascript:
    assert all(link.startswith("#region-") or link == "https://social.example"
               for link in tags.links), tags.links
    assert "https://social.example" in tags.links
    assert "javascript:alert(1)" in html.unescape(page)  # shown, as text
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing


@given(st.text(min_size=1, max_size=40))
def test_any_provider_name_stays_text(name):
    provider = ListedProvider("P", name, "ngo", ("North",), phone=name, website=name)
    service = ListedService("S", provider, "housing", name, ("North", name), "both",
                            (name,), 5, None, None)
    directory = Directory(as_of=DATA_END, updated=None, regions=("North", name),
                          services=(service,), providers=(provider,))
    page = render_guide(directory, "ar")
    assert html.escape(name) in page
    tags = parsed(page)
    assert tags.tags <= GUIDE_TAGS and tags.sources == []
    assert all(link.startswith(("#region-", "http://", "https://")) for link in tags.links)


def test_a_closed_service_is_left_out_and_one_opening_later_is_marked(con):
    page = guide_html(con, "en")
    assert "Closed clinic" not in page
    north = section(page, 2)
    assert "Future jobs" in north and "opens on 2026-03-01" in north


def test_the_as_of_date_decides_what_is_open(con):
    later = guide_html(con, "en", as_of=dt.date(2026, 6, 1))
    assert "Future jobs" in later and "opens on" not in later
    assert "Services open on 2026-06-01" in later
    after_all = guide_html(con, "en", as_of=dt.date(2028, 1, 1))
    assert "Centre Amal" not in after_all and "Maison des femmes" in after_all


def test_a_national_service_is_listed_once_under_every_region(con):
    page = guide_html(con, "en")
    every = section(page, 0)
    assert "<h2>Every region</h2>" in every
    assert "Ministry of Social Affairs" in every and "identity documents" in every
    assert page.count("Ministry of Social Affairs") == 1
    assert "Centre Amal" not in every


def test_each_region_groups_its_services_by_type_with_their_details(con):
    page = guide_html(con, "en")
    capital = section(page, 1)
    assert "<bdi>Capital</bdi></h2>" in capital
    # the contract's order of types: drug treatment before housing
    assert capital.index("<h3>drug treatment</h3>") < capital.index("<h3>housing</h3>")
    amal = capital[capital.index("Centre Amal"):capital.index("<h3>housing</h3>")]
    for detail in ("men", "Arabic", "120", "from 2024-01-01 to 2027-12-31",
                   "+216 71 222 333", html.escape(HOSTILE_TAG), "non-governmental organisation"):
        assert detail in amal, detail
    # a service of two regions is under both, saying which regions it serves
    assert "Maison des femmes" in section(page, 2)
    assert "Regions served" in capital and "women" in capital


def test_a_region_with_releases_and_no_local_service_points_to_every_region(con):
    south = section(guide_html(con, "en"), 3)
    assert "<bdi>South</bdi>" in south
    assert "No service is listed for this region alone" in south


def test_a_provider_with_no_open_service_is_still_listed_with_its_contacts(con):
    north = section(guide_html(con, "en"), 2)
    others = north[north.index("Other organisations"):]
    assert "Atelier Nord" in others and "+216 73 444 555" in others
    assert "private organisation" in others


def test_the_contents_link_every_region_in_order(con):
    page = guide_html(con, "en")
    nav = page[page.index("<nav>"):page.index("</nav>")]
    assert re.findall(r'href="#(region-\d)"', nav) == [f"region-{i}" for i in range(4)]
    assert nav.index("Every region") < nav.index("Capital") < nav.index("North Coast") \
        < nav.index("South")


def test_the_guide_holds_no_count_of_people():
    # The same directory over different numbers of releases and referrals gives the
    # same guide, word for word (the footer's time stamp aside).
    def page(releases: int, referrals: int) -> str:
        connection = directory_db(releases, referrals)
        try:
            return re.sub(r"<footer>.*</footer>", "", guide_html(connection, "fr"))
        finally:
            connection.close()

    assert page(2, 0) == page(9, 7)


def test_unknown_codes_are_shown_as_recorded(con):
    con.execute("INSERT INTO services VALUES ('S-ODD', 'P-PRIV', 'street_outreach', NULL, "
                "['South'], 'both', NULL, NULL, NULL, NULL, 'b1')")
    south = section(guide_html(con, "en"), 3)
    assert "<h3>street outreach</h3>" in south


def test_the_import_date_is_given_when_recorded(con):
    assert "Directory updated on" not in guide_html(con, "en")
    con.execute("INSERT INTO import_log VALUES ('b1', '2026-01-05 09:00', '2026-01-05 09:01', "
                "'data', 'all_or_nothing', 1, 1, 0, 0, '{}', 'test')")
    assert "Directory updated on 2026-01-05" in guide_html(con, "en")


def test_the_vocabulary_words_every_code_of_the_contract():
    assert list(SERVICE_TYPE_WORDS) == list(contract.SERVICE_TYPES)
    assert set(PROVIDER_KIND_WORDS) == set(contract.PROVIDER_KINDS)
    assert set(SEX_SERVED_WORDS) == set(contract.SEX_SERVED)


def test_an_empty_directory_is_refused_and_a_dangling_provider_named():
    connection = duckdb.connect()
    migrate(connection)
    with pytest.raises(AnalysisError, match="no providers or services"):
        guide_html(connection, "en")
    connection.execute("INSERT INTO providers VALUES ('P1', 'A', 'ngo', ['all'], NULL, NULL, "
                       "NULL, NULL, 'b')")
    connection.execute("INSERT INTO services VALUES ('S1', 'P9', 'housing', NULL, ['all'], "
                       "'both', NULL, NULL, NULL, NULL, 'b')")
    with pytest.raises(AnalysisError, match="service_id='S1': provider_id 'P9'"):
        guide_html(connection, "en")


def test_an_unknown_language_is_refused(con):
    with pytest.raises(ValueError, match="unknown language 'de'"):
        guide_html(con, "de")


@pytest.mark.parametrize("name", ["guide.docx", "guide.txt", "guide", "guide.html.bak",
                                  "guide.md"])
def test_other_suffixes_are_refused_and_nothing_written(con, tmp_path, name):
    with pytest.raises(DesistError, match=r"\.html or a \.pdf"):
        write_guide(con, "en", tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_named(con, tmp_path):
    with pytest.raises(DesistError, match="does not exist"):
        write_guide(con, "en", tmp_path / "nowhere" / "guide.html")


def test_the_html_file_is_written_whole_and_replaces_an_old_one(con, tmp_path):
    out = tmp_path / "Guide.HTML"
    out.write_text("old")
    assert write_guide(con, "sr", str(out)) == out  # a str path too; a Path comes back
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Svi regioni" in text
    assert [p.name for p in tmp_path.iterdir()] == ["Guide.HTML"]  # no temporary left
    assert out.stat().st_mode & 0o777 == 0o644  # readable by all: it is meant to circulate


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("guide")
    connection = directory_db()
    try:
        return {language: write_guide(connection, language,
                                      folder / f"guide-{language}.pdf").read_bytes()
                for language in ("ar", "fr")}
    finally:
        connection.close()


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_the_pdf_is_a4_one_region_a_page_and_its_text_is_readable(pdfs, language):
    pdf = pdfs[language]
    tr = translator(language)
    assert pdf.startswith(b"%PDF")
    info = pdf_info(pdf)
    width, height = map(float, re.findall(r"[\d.]+", info["Page size"])[:2])
    assert (round(width), round(height)) == (596, 843)  # A4 in points
    # the title page, then each of Every region, Capital, North Coast, South on its own
    assert int(info["Pages"]) == 5
    first = unmarked(squeezed(pdf_text(pdf, 1)))
    assert in_print(tr("Directory of services after release")) in first
    assert in_print(tr("How to use this guide")) in first
    for page, heading in enumerate((tr("Every region"), "Capital", "North Coast", "South"),
                                   start=2):
        text = unmarked(squeezed(pdf_text(pdf, page)))
        assert in_print(heading) in text, (page, heading)
        assert in_print(tr("page {page} of {pages}", page=page, pages=5)) in text
        assert in_print(tr("Services open on {date}", date="2025-12-31")) in text
    everything = unmarked(squeezed(pdf_text(pdf)))
    for words in ("housing", "drug treatment", "women and men", "Places a year"):
        assert in_print(tr(words)) in everything, words
    if language == "fr":  # in right-to-left text extraction mirrors the brackets
        assert squeezed(HOSTILE_TAG) in everything and squeezed(HOSTILE_IMAGE) in everything


def test_the_arabic_pdf_holds_arabic_letters(pdfs):
    text = pdf_text(pdfs["ar"])
    assert len(re.findall("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]", text)) > 200
    assert in_print("جميع المناطق") in squeezed(text)


def test_load_directory_reads_what_the_guide_shows(con):
    directory = load_directory(con)
    assert directory.as_of == DATA_END and directory.regions == REGIONS
    assert {s.service_id for s in directory.services} == {"S-ID", "S-DRUG", "S-WOMEN",
                                                          "S-LATER"}
    assert [p.name for p in directory.other_providers_in("North Coast")] == ["Atelier Nord"]


def test_without_releases_the_guide_describes_today():
    connection = duckdb.connect()
    migrate(connection)
    connection.executemany("INSERT INTO providers VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'b1')",
                           PROVIDERS)
    assert load_directory(connection).as_of == dt.date.today()
