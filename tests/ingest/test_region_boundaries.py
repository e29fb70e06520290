"""The region boundaries file ``regions.geojson``: checks, all-or-nothing, whole replacement."""

from __future__ import annotations

import json
import math
import unicodedata
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.contract import BOUNDARIES_FILE
from analysis.errors import InvalidDatasetError
from analysis.ingest import import_dataset, validate_dataset
from analysis.ingest.boundaries import read_boundaries
from analysis.ingest.problems import PROBLEM_KINDS, ValidationReport
from tests.ingest.conftest import PERSONS, TODAY, folder_state, write_dataset

FAST = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

RELEASES = (
    ("release_id", "person_id", "release_date", "facility", "follow_up_end", "release_region"),
    (
        ("R1", PERSONS[0], "2020-01-10", "North", "2023-12-31", "Capital"),
        ("R2", PERSONS[1], "2020-02-10", "North", "2023-12-31", "North Coast"),
    ),
)
SQUARE = [[[10.0, 36.0], [10.5, 36.0], [10.5, 36.5], [10.0, 36.5], [10.0, 36.0]]]


_SQUARE = {"type": "Polygon", "coordinates": SQUARE}


def _feature(region, geometry=_SQUARE):
    return {"type": "Feature", "properties": {"region": region}, "geometry": geometry}


def _collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


GOOD = _collection(
    _feature("Capital"),
    _feature("North Coast", {"type": "MultiPolygon", "coordinates": [
        SQUARE, [[[11, 37], [11.2, 37], [11.2, 37.2], [11, 37]]]]}),
)


def _dataset(folder: Path, document=GOOD, *, text: str | None = None) -> Path:
    write_dataset(folder, {"releases": RELEASES})
    (folder / BOUNDARIES_FILE).write_text(
        text if text is not None else json.dumps(document, indent=1), encoding="utf-8")
    return folder


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_boundaries_are_stored_as_compact_geometry_and_replaced_wholly(tmp_path, db):
    report = import_dataset(_dataset(tmp_path / "a"), db, today=TODAY)
    counts = report.tables["region_boundaries"]
    assert (counts.file, counts.read, counts.inserted, counts.removed) == (
        BOUNDARIES_FILE, 2, 2, 0)
    stored = dict(_rows(db, "SELECT region, geometry FROM region_boundaries"))
    assert json.loads(stored["Capital"]) == {"type": "Polygon", "coordinates": SQUARE}
    assert " " not in stored["North Coast"]
    assert json.loads(stored["North Coast"])["type"] == "MultiPolygon"
    assert _rows(db, "SELECT table_name, file_name, rows_read FROM import_files "
                     "WHERE table_name = 'region_boundaries'") == [
        ("region_boundaries", BOUNDARIES_FILE, 2)]
    again = import_dataset(_dataset(tmp_path / "b"), db, today=TODAY)
    assert again.tables["region_boundaries"].unchanged == 2
    # A new file is the whole map: Capital redrawn, North Coast left out, Hills added.
    moved = [[[9.0, 36.0], [10.5, 36.0], [10.5, 36.5], [9.0, 36.0]]]
    releases = (RELEASES[0], (*RELEASES[1], ("R3", PERSONS[2], "2021-01-01", "East",
                                             "2023-12-31", "Hills")))
    folder = _dataset(tmp_path / "c", _collection(
        _feature("Capital", {"type": "Polygon", "coordinates": moved}), _feature("Hills")))
    write_dataset(folder, {"releases": releases})
    later = import_dataset(folder, db, today=TODAY).tables["region_boundaries"]
    assert (later.inserted, later.updated, later.unchanged, later.removed) == (1, 1, 0, 1)
    stored = dict(_rows(db, "SELECT region, geometry FROM region_boundaries"))
    assert set(stored) == {"Capital", "Hills"}
    assert json.loads(stored["Capital"])["coordinates"] == moved


def test_a_region_without_releases_is_a_warning(tmp_path):
    report = validate_dataset(_dataset(tmp_path / "d", _collection(
        _feature("Capital"), _feature("Atlantis"))), today=TODAY)
    assert report.ok
    assert [(w.kind, w.file, w.value) for w in report.warnings] == [
        ("region_without_releases", BOUNDARIES_FILE, "Atlantis")]
    assert report.rows_read["region_boundaries"] == 2


def _with(geometry) -> dict:
    return _collection(_feature("Capital"), _feature("North Coast", geometry))


BAD = [
    pytest.param(None, '{"type": "FeatureCollection",\n  "features": [}',
                 "not valid JSON: Expecting value at line 2, column 16", id="invalid JSON"),
    pytest.param({"type": "Feature", "properties": {}, "geometry": None}, None,
                 "holds a Feature, not a FeatureCollection", id="not a FeatureCollection"),
    pytest.param([1, 2], None, "holds JSON of type list", id="a list"),
    pytest.param(_collection(), None, "has no features", id="no features"),
    pytest.param(_with({"type": "Point", "coordinates": [10, 36]}), None,
                 "feature 2 ('North Coast'): the geometry is a Point", id="a Point"),
    pytest.param(_with(None), None, "feature 2 ('North Coast'): the geometry is missing",
                 id="no geometry"),
    pytest.param(_with({"type": "Polygon", "coordinates": [
        [[10, 36], [190, 36], [10, 37], [10, 36]]]}), None,
        "feature 2 ('North Coast'): ring 1 of polygon 1: longitude 190 is outside -180 to 180",
        id="lon out of range"),
    pytest.param(_with({"type": "Polygon", "coordinates": [
        [[10, 36], [11, -91], [10, 37], [10, 36]]]}), None,
        "latitude -91 is outside -90 to 90", id="lat out of range"),
    pytest.param(_with({"type": "Polygon", "coordinates": [
        [[10, 36], [11, 36], [10, 37], [10, 37.5]]]}), None,
        "ring 1 of polygon 1 is not closed", id="ring not closed"),
    pytest.param(_with({"type": "Polygon", "coordinates": [[[10, 36], [11, 36], [10, 36]]]}),
                 None, "has fewer than four positions", id="ring too short"),
    pytest.param(_with({"type": "Polygon", "coordinates": [
        [[10, 36], ["11", 36], [10, 37], [10, 36]]]}), None,
        'position ["11", 36] is not [longitude, latitude]', id="text coordinate"),
    pytest.param(None, '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                 '"properties": {"region": "Capital"}, "geometry": {"type": "Polygon", '
                 '"coordinates": [[[10, 36], [NaN, 36], [10, 37], [10, 36]]]}}]}',
                 "holds a value that is not a finite number", id="NaN"),
    pytest.param(_collection(_feature("Capital"), {"type": "Feature", "properties": {},
                                                   "geometry": None}), None,
                 "feature 2 has no usable properties.region", id="missing region"),
    pytest.param(_collection(_feature("Capital"), _feature("  ")), None,
                 "feature 2 has no usable properties.region", id="blank region"),
    pytest.param(_collection(_feature("Capital"), _feature("Capital")), None,
                 "feature 2: region 'Capital' already has feature 1", id="duplicate region"),
]


@pytest.mark.parametrize(("document", "text", "words"), BAD)
def test_a_bad_boundaries_file_is_refused_whole_and_writes_nothing(tmp_path, existing_db,
                                                                   document, text, words):
    folder = _dataset(tmp_path / "d", document, text=text)
    problems = validate_dataset(folder, today=TODAY).problems
    assert len(problems) == 1, [str(p) for p in problems]
    [problem] = problems
    assert problem.file == BOUNDARIES_FILE and problem.kind == "bad_boundaries"
    assert problem.line is None and problem.expected  # the whole file; says what is expected
    assert words in str(problem), str(problem)
    before = folder_state(existing_db.parent)
    # Even --skip-invalid: an outline cannot be skipped like a row.
    for options in ({}, {"skip_invalid": True, "rejects": tmp_path / "rejects.csv"}):
        with pytest.raises(InvalidDatasetError):
            import_dataset(folder, existing_db, today=TODAY, **options)
        assert folder_state(existing_db.parent) == before
        assert not (tmp_path / "rejects.csv").exists()


def test_an_oversized_or_undecodable_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("DESIST_MAX_BOUNDARIES_MB", "1")
    big = _dataset(tmp_path / "a", text=" " * 1_500_000 + json.dumps(GOOD))
    [problem] = validate_dataset(big, today=TODAY).problems
    assert problem.kind == "over_limit" and "DESIST_MAX_BOUNDARIES_MB=2" in problem.message
    folder = _dataset(tmp_path / "b")
    (folder / BOUNDARIES_FILE).write_bytes(b'{"type": "\xff"}')
    [problem] = validate_dataset(folder, today=TODAY).problems
    assert problem.kind == "wrong_encoding" and "line 1" in problem.message


def test_every_kind_of_boundaries_problem_is_documented():
    assert "bad_boundaries" in PROBLEM_KINDS


# ------------------------------------------------------------------------ properties

LON = st.floats(-180, 180, allow_nan=False)
LAT = st.floats(-90, 90, allow_nan=False)
RING = st.lists(st.tuples(LON, LAT).map(list), min_size=3, max_size=6).map(
    lambda points: [*points, points[0]])
POLYGON = st.lists(RING, min_size=1, max_size=3)
GEOMETRY = st.one_of(
    POLYGON.map(lambda p: {"type": "Polygon", "coordinates": p}),
    st.lists(POLYGON, min_size=1, max_size=3).map(
        lambda p: {"type": "MultiPolygon", "coordinates": p}),
)
REGION = st.text(st.characters(whitelist_categories=("L", "N", "Zs")), min_size=1,
                 max_size=10).filter(lambda r: r.strip())


def _clean(region: str) -> str:
    return unicodedata.normalize("NFC", region).strip()


def _check(tmp_path: Path, document) -> tuple:
    path = tmp_path / BOUNDARIES_FILE
    path.write_text(json.dumps(document), encoding="utf-8")
    report = ValidationReport(dataset=str(tmp_path))
    return read_boundaries(path, report), report


@FAST
@given(regions=st.lists(REGION, min_size=1, max_size=4, unique_by=lambda r: _clean(r)),
       geometries=st.lists(GEOMETRY, min_size=4, max_size=4))
def test_valid_outlines_are_accepted_and_kept_exactly(tmp_path_factory, regions, geometries):
    tmp_path = tmp_path_factory.mktemp("ok")
    features = [_feature(r, g) for r, g in zip(regions, geometries, strict=False)]
    parsed, report = _check(tmp_path, _collection(*features))
    assert report.ok, [str(p) for p in report.problems]
    assert parsed.features == len(features)
    for feature in features:
        stored = json.loads(parsed.geometries[_clean(feature["properties"]["region"])])
        assert stored == feature["geometry"]


@FAST
@given(geometry=GEOMETRY, where=st.integers(0, 10**6), lon=st.floats(allow_nan=True),
       lat=st.floats(allow_nan=True))
def test_a_position_off_the_globe_is_refused_naming_the_feature(tmp_path_factory, geometry,
                                                                 where, lon, lat):
    tmp_path = tmp_path_factory.mktemp("off")
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [
        geometry["coordinates"]]
    positions = [p for polygon in polygons for ring in polygon for p in ring[1:-1]]
    if not positions:
        return
    target = positions[where % len(positions)]
    target[0], target[1] = lon, lat
    on_globe = math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 \
        and -90 <= lat <= 90
    document = json.loads(json.dumps(_collection(_feature("A"), _feature("B", geometry))))
    parsed, report = _check(tmp_path, document)
    if on_globe:
        assert report.ok
    else:
        [problem] = report.problems
        assert parsed is None and problem.message.startswith("feature 2 ('B'): ring ")


JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["type", "features", "properties", "region", "geometry",
                                       "coordinates", "x"]), children, max_size=4),
    max_leaves=30,
)
TYPES = st.sampled_from(["FeatureCollection", "Feature", "Polygon", "MultiPolygon", "Point"])


@FAST
@given(document=JSON, kind=TYPES)
def test_any_json_is_accepted_or_refused_with_a_problem_never_a_crash(tmp_path_factory,
                                                                      document, kind):
    tmp_path = tmp_path_factory.mktemp("any")
    if isinstance(document, dict):
        document = {**document, "type": kind}
    parsed, report = _check(tmp_path, document)
    assert (parsed is None) == (not report.ok)
    for problem in report.problems:
        assert problem.file == BOUNDARIES_FILE and problem.kind in PROBLEM_KINDS
        assert problem.expected
    if parsed is not None:
        for geometry in parsed.geometries.values():
            assert json.loads(geometry)["type"] in ("Polygon", "MultiPolygon")


def test_the_example_of_the_data_contract_is_valid(tmp_path):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "data-contract.md").read_text(
        encoding="utf-8")
    example = doc.split("`regions.geojson`\n\n```json\n", 1)[1].split("```", 1)[0]
    path = tmp_path / BOUNDARIES_FILE
    path.write_text(example, encoding="utf-8")
    report = ValidationReport(dataset=str(tmp_path))
    parsed = read_boundaries(path, report)
    assert report.ok, [str(p) for p in report.problems]
    assert set(parsed.geometries) == {"Tunis", "Ariana"}
