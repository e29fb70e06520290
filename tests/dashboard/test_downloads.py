"""The pages' downloads as a reader gets them: typed numbers, and the facts of the view.

The files are caught where Streamlit stores a download button's data (AppTest's
in-memory media storage) and read back as a spreadsheet or an analyst would: XLSX with
openpyxl, CSV with ``pandas.read_csv(comment="#")``.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import app_test

import analysis
from tests.dashboard.pages import frames, open_page


class _Recording(MemoryMediaFileStorage):
    """The media storage of AppTest, keeping every download's bytes by file name."""

    files: dict[str, bytes] = {}

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, bytes):
            _Recording.files[filename] = path_or_data
        return super().load_and_get_id(path_or_data, mimetype, kind, filename)


@pytest.fixture()
def downloads(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", _Recording)
    _Recording.files = {}
    # Table files are made only when asked for (a deferred download): make each one as
    # a click would, when the page registers it.
    real = MediaFileManager.add_deferred

    def made_now(self, data, mimetype, coordinates, file_name=None, **kwargs):
        if file_name and file_name.endswith((".csv", ".xlsx")):
            content = data()
            _Recording.files[file_name] = (content.encode() if isinstance(content, str)
                                           else content)
        return real(self, data, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", made_now)
    return _Recording.files


def test_subgroup_downloads_hold_numbers_and_say_what_they_are(downloads):
    at = open_page("subgroups", {"facility": "Northgate Prison,Riverside Prison", "k": "20"},
                   tab="Facilities and regions")
    facilities = frames(at)[0]
    assert facilities.iloc[0, 0] == "all releases"  # the overall line, marked, first
    book = load_workbook(io.BytesIO(downloads["subgroups-facilities.xlsx"]))
    assert book.sheetnames == ["subgroups-facilities", "About this table"]
    rows = list(book["subgroups-facilities"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["Facility", "Releases", "People who reoffended within 1 year"]
    assert {"Reoffended within 1 year", "Within 1 year, lower 95% limit",
            "Within 1 year, upper 95% limit"} <= set(header)
    assert [r[0] for r in rows[1:]] == ["all releases", "Riverside Prison", "Northgate Prison"]
    for row in rows[1:]:
        assert all(isinstance(v, int) for v in row[1:3]), row  # counts, not '5411'
        assert all(isinstance(v, float) for v in row[3:]), row  # rates, not "33.9% (…)"
    assert rows[1][1] == rows[2][1] + rows[3][1]
    about = dict(book["About this table"].iter_rows(values_only=True))
    assert about["Facility"] == "Northgate Prison, Riverside Prison"
    assert about["Minimum cell size k"].startswith("20:")
    assert about["Outcome"].startswith("Reoffending means the first")
    assert about["Data cut-off"][:4].isdigit() and about["Latest import"][:4].isdigit()
    assert about["Tool version"] == f"Desistance {analysis.__version__}"

    text = downloads["subgroups-facilities.csv"].decode("utf-8-sig")
    # the facts first, one '#' line each (a name with a comma stays one quoted value)
    assert text.startswith('# Facility,"Northgate Prison, Riverside Prison"\r\n')
    back = pd.read_csv(io.StringIO(text), comment="#")
    assert pd.api.types.is_integer_dtype(back["Releases"])
    assert pd.api.types.is_float_dtype(back["Reoffended within 1 year"])
    cross = pd.read_csv(io.StringIO(downloads["subgroups-cross.csv"].decode("utf-8-sig")),
                        comment="#")
    hidden = cross["Releases"] == "<20"
    assert hidden.any()  # a hidden count keeps its label in its cell only
    assert pd.to_numeric(cross.loc[~hidden, "Releases"]).ge(20).all()


def test_overview_shows_and_downloads_the_people_beside_the_rates(downloads):
    at = open_page("overview")
    assert all(m.delta.startswith("People who reoffended: ") for m in at.metric[3:6])
    horizons = frames(at)[0]
    assert list(horizons.columns[:3]) == ["Within", "People who reoffended",
                                          "Reoffended (Kaplan–Meier)"]
    book = load_workbook(io.BytesIO(downloads["overview-horizons.xlsx"]))
    sheet = book["overview-horizons"]
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [type(v) for v in values[0][1:5]] == [int, float, float, float]


def test_downloads_speak_the_page_language(downloads):
    open_page("overview", {"lang": "fr"})
    book = load_workbook(io.BytesIO(downloads["overview-cohorts.xlsx"]))
    assert book.sheetnames[1] == "À propos du tableau"
    about = dict(book["À propos du tableau"].iter_rows(values_only=True))
    assert about["Sélection"] == "toutes les libérations"
    assert "Version de l'outil" in about


def test_arabic_tables_read_from_the_right_and_their_files_keep_the_order(downloads):
    """In Arabic the table widget (a canvas, always laid out left to right) shows its
    columns reversed, so the label column is on the right where reading starts; the
    download keeps the logical order on a sheet marked right to left."""
    from analysis.i18n import catalog

    year = catalog("ar")["Release year"]
    english = next(f for f in frames(open_page("overview")) if "Release year" in f.columns)
    arabic = next(f for f in frames(open_page("overview", {"lang": "ar"})) if year in f.columns)
    assert english.columns[0] == "Release year"
    assert list(arabic.columns) == [catalog("ar").get(c, c) for c in english.columns][::-1]
    assert list(arabic[year]) == list(english["Release year"])  # same rows, same order
    book = load_workbook(io.BytesIO(downloads["overview-cohorts.xlsx"]))
    table, about = book.worksheets
    assert table.sheet_view.rightToLeft and about.sheet_view.rightToLeft
    header = next(table.iter_rows(values_only=True))
    assert list(header) == list(arabic.columns)[::-1]  # the file keeps the logical order


def test_left_to_right_files_are_not_marked_right_to_left(downloads):
    open_page("overview", {"lang": "fr"})
    table, about = load_workbook(io.BytesIO(downloads["overview-cohorts.xlsx"])).worksheets
    assert not table.sheet_view.rightToLeft and not about.sheet_view.rightToLeft
