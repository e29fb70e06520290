"""The region boundaries file ``regions.geojson``: the country's own region outlines.

An optional file of the dataset folder (:data:`analysis.contract.BOUNDARIES_FILE`), used
only to draw a map of coverage gaps: nothing is ever downloaded. It must be a GeoJSON
FeatureCollection whose features each have ``properties.region`` (a ``release_region``
value, non-empty and unique) and a Polygon or MultiPolygon geometry in longitude and
latitude (RFC 7946: closed rings of at least four positions, lon in [-180, 180], lat in
[-90, 90]).

The file is parsed whole with the :mod:`json` module, so its size is limited first
(:data:`analysis.contract.MAX_BOUNDARIES_MB`). Every problem refuses the whole file
(``line`` is None: an outline cannot be skipped like a row), names the feature
(1-based) and says what was expected. A region no release goes to is only a warning.
Imported, the file replaces ``region_boundaries`` wholly: the table then holds exactly
the file's regions, each geometry as compact JSON text.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from analysis.contract import BOUNDARIES_FILE, MAX_BOUNDARIES_MB, ZERO_WIDTH_CHARACTERS
from analysis.ingest.problems import Problem, ValidationReport
from analysis.ingest.readers import over_limit, sha256_of
from analysis.ingest.values import CONTROL_IN_IDS

#: The name of the boundaries in reports and the import log (its database table).
BOUNDARIES_TABLE = "region_boundaries"
_MB = 1_000_000
_KIND = "bad_boundaries"
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH_CHARACTERS}]")
#: What :func:`_load` gives for a file it could not parse (JSON ``null`` is a document).
_UNREADABLE = object()


@dataclass(frozen=True)
class ParsedBoundaries:
    """A checked boundaries file: each region with its geometry as compact JSON."""

    path: Path
    sha256: str
    features: int
    #: region -> geometry (``{"type": ..., "coordinates": ...}`` as compact JSON text)
    geometries: dict[str, str]

    @property
    def name(self) -> str:
        return self.path.name


def find_boundaries_file(folder: Path) -> Path | None:
    """The dataset's boundaries file (its name in any case), or None."""
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.lower() == BOUNDARIES_FILE:
            return path
    return None


def read_boundaries(path: Path, report: ValidationReport) -> ParsedBoundaries | None:
    """Parse and check ``path``; None (problems reported) when it is unusable.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "regions.geojson"
    >>> _ = f.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
    ...     '"properties": {"region": "Capital"}, "geometry": {"type": "Point", '
    ...     '"coordinates": [10.1, 36.8]}}]}')
    >>> report = ValidationReport(dataset="d")
    >>> read_boundaries(f, report) is None
    True
    >>> print(report.problems[0])  # doctest: +ELLIPSIS
    regions.geojson: feature 1 ('Capital'): the geometry is a Point; expected a Polygon or ...
    """
    before = len(report.problems)
    document = _load(path, report)
    if document is _UNREADABLE:
        return None
    features = _features(path, document, report)
    if features is None:
        return None
    geometries: dict[str, str] = {}
    first_of: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        region, geometry = _check_feature(path.name, number, feature, report)
        if region is None:
            continue
        if region in first_of:
            report.add(_problem(path.name, f"feature {number}: region '{region}' already has "
                                f"feature {first_of[region]}", region,
                                "each region once (one MultiPolygon for a region in parts)"))
            continue
        first_of[region] = number
        if geometry is not None:
            geometries[region] = geometry
    if len(report.problems) > before:
        return None
    return ParsedBoundaries(path, sha256_of(path), len(features), geometries)


def warn_regions_without_releases(boundaries: ParsedBoundaries, known_regions: set[str],
                                  report: ValidationReport) -> None:
    """A warning for each outline of a region that no release (nor expected one) goes to."""
    for region in boundaries.geometries:
        if region not in known_regions:
            report.warn(Problem(
                "region_without_releases", boundaries.name,
                "no release or expected release goes to this region; its outline is kept, "
                "but the map shows no data for it", column="properties.region", value=region))


def _problem(file: str, message: str, value: str | None, expected: str) -> Problem:
    return Problem(_KIND, file, message, value=value, expected=expected)


def _load(path: Path, report: ValidationReport):
    """The parsed JSON document, or :data:`_UNREADABLE` (problem reported)."""
    size = path.stat().st_size
    if size == 0:
        report.add(Problem("empty_file", path.name, "the file is empty (0 bytes)"))
        return _UNREADABLE
    if size > MAX_BOUNDARIES_MB.current() * _MB:
        report.add(over_limit(path, MAX_BOUNDARIES_MB, -(-size // _MB), "the file is too large"))
        return _UNREADABLE
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        report.add(Problem("wrong_encoding", path.name,
                           f"byte 0x{raw[exc.start]:02x} on line {line} is not valid UTF-8",
                           expected="UTF-8 text"))
        return _UNREADABLE
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        report.add(_problem(path.name, f"not valid JSON: {exc.msg} at line {exc.lineno}, "
                            f"column {exc.colno}", None, "a GeoJSON FeatureCollection"))
    except RecursionError:
        report.add(_problem(path.name, "not usable JSON: nested too deeply", None,
                            "a GeoJSON FeatureCollection"))
    return _UNREADABLE


def _features(path: Path, document, report: ValidationReport) -> list | None:
    kind = document.get("type") if isinstance(document, dict) else None
    if kind != "FeatureCollection" or not isinstance(document.get("features"), list):
        found = f"a {kind}" if isinstance(kind, str) else f"JSON of type {type(document).__name__}"
        report.add(_problem(path.name, f"the file holds {found}, not a FeatureCollection",
                            None, 'a GeoJSON object with "type": "FeatureCollection" and a '
                            '"features" list'))
        return None
    if not document["features"]:
        report.add(_problem(path.name, "the FeatureCollection has no features", None,
                            "one feature per region"))
        return None
    return document["features"]


def _check_feature(file: str, number: int, feature, report) -> tuple[str | None, str | None]:
    """The feature's region and compact geometry (None for each part that is wrong)."""
    where = f"feature {number}"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        report.add(_problem(file, f"{where} is not a GeoJSON Feature", None,
                            'an object with "type": "Feature"'))
        return None, None
    properties = feature.get("properties")
    region = properties.get("region") if isinstance(properties, dict) else None
    if isinstance(region, str):
        # Cleaned as a CSV cell naming a region is: trimmed, NFC, no zero-width characters.
        region = unicodedata.normalize("NFC", _ZERO_WIDTH.sub("", region)).strip()
    if not isinstance(region, str) or not region or CONTROL_IN_IDS.search(region):
        shown = None if region is None else str(region)
        report.add(_problem(file, f"{where} has no usable properties.region", shown,
                            "properties.region: the release_region it outlines, as text "
                            "without control characters"))
        return None, None
    where += f" ('{region}')"
    geometry = feature.get("geometry")
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if not isinstance(geometry, dict) or kind not in ("Polygon", "MultiPolygon"):
        found = f"a {kind}" if isinstance(kind, str) else "missing"
        report.add(_problem(file, f"{where}: the geometry is {found}", None,
                            "a Polygon or MultiPolygon geometry"))
        return region, None
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    wrong = _polygons_problem(polygons)
    if wrong is not None:
        report.add(_problem(file, f"{where}: {wrong}", None,
                            "closed rings of at least four [longitude, latitude] positions, "
                            "longitude from -180 to 180, latitude from -90 to 90"))
        return region, None
    compact = json.dumps({"type": kind, "coordinates": coordinates}, separators=(",", ":"),
                         ensure_ascii=False, allow_nan=False)
    return region, compact


def _polygons_problem(polygons) -> str | None:
    """What is wrong with a list of polygons (each a list of rings), or None."""
    if not isinstance(polygons, list) or not polygons:
        return "the coordinates are not a list of polygons"
    for p, polygon in enumerate(polygons, start=1):
        if not isinstance(polygon, list) or not polygon:
            return f"polygon {p} is not a list of rings"
        for r, ring in enumerate(polygon, start=1):
            at = f"ring {r} of polygon {p}"
            if not isinstance(ring, list) or len(ring) < 4:
                return f"{at} has fewer than four positions"
            for position in ring:
                wrong = _position_problem(position)
                if wrong is not None:
                    return f"{at}: {wrong}"
            if ring[0][:2] != ring[-1][:2]:
                return f"{at} is not closed (its last position differs from its first)"
    return None


def _position_problem(position) -> str | None:
    if (not isinstance(position, list) or len(position) not in (2, 3)
            or not all(isinstance(v, int | float) and not isinstance(v, bool)
                       for v in position)):
        return f"position {_shown(position)} is not [longitude, latitude]"
    lon, lat = position[0], position[1]
    if not all(isinstance(v, int) or math.isfinite(v) for v in position):
        return f"position {_shown(position)} holds a value that is not a finite number"
    if not -180 <= lon <= 180:
        return f"longitude {lon} is outside -180 to 180"
    if not -90 <= lat <= 90:
        return f"latitude {lat} is outside -90 to 90"
    return None


def _shown(value) -> str:
    text = json.dumps(value, allow_nan=True)
    return text if len(text) <= 40 else text[:37] + "..."
