"""The demo's ``regions.geojson``: rough outlines of the fictional country's eight regions.

The country is drawn on a small grid of shared corner points, so that neighbouring
regions share their borders exactly and no two regions overlap; the grid is then placed
in the open Atlantic (about 36°W to 30°W, 18°N to 22.5°N), where no real country lies.
Each feature is a Polygon whose exterior ring runs counter-clockwise (RFC 7946) and
whose ``properties.region`` is a ``release_region`` of the demo.

Examples
--------
>>> from analysis.demo.model import DemoModel
>>> doc = regions_geojson(DemoModel())
>>> doc["type"], len(doc["features"]), doc["features"][0]["properties"]
('FeatureCollection', 8, {'region': 'Capital'})
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from analysis.demo.model import DemoModel
from analysis.errors import AnalysisError

#: Corner points on the drawing grid (x east, y north, in grid units).
_POINTS: dict[str, tuple[float, float]] = {
    # Outline, clockwise from the north-west coast.
    "A": (0.5, 7.0), "A1": (0.9, 8.0), "B": (1.5, 8.6), "C": (2.6, 8.3), "D": (4.0, 9.4),
    "D1": (5.0, 9.3), "E": (6.0, 9.8), "F": (8.0, 9.3), "G": (9.4, 8.9), "H": (11.0, 8.2),
    "I": (11.8, 6.0), "I1": (11.3, 4.8), "J": (11.5, 3.6), "K": (10.8, 1.5), "L": (8.5, 0.3),
    "L1": (7.4, 0.9), "M": (6.2, 0.6), "N": (3.5, 0.2), "O": (1.0, 1.2), "O1": (0.6, 2.4),
    "P": (0.2, 3.6), "P1": (0.4, 5.3),
    # Inland corners where three regions meet.
    "Q": (3.0, 7.2), "R": (5.6, 7.4), "S": (8.6, 7.3), "T": (3.2, 5.2), "U": (5.4, 5.5),
    "V": (3.0, 3.4), "W": (6.0, 3.2), "X": (8.8, 4.0),
}
#: Each region's ring of corner points (the first point is not repeated here).
_RINGS: dict[str, tuple[str, ...]] = {
    "Capital": ("Q", "R", "U", "T"),
    "North Coast": ("C", "D", "D1", "E", "F", "G", "S", "R", "Q"),
    "South Coast": ("W", "X", "J", "K", "L", "L1", "M"),
    "Highlands": ("T", "U", "W", "V"),
    "River Valley": ("R", "S", "X", "W", "U"),
    "Eastern Plains": ("G", "H", "I", "I1", "J", "X", "S"),
    "Western Hills": ("A", "A1", "B", "C", "Q", "T", "V", "P", "P1"),
    "Desert South": ("P", "V", "W", "M", "N", "O", "O1"),
}
#: Where the grid lies: longitude and latitude of the grid's origin, degrees per unit.
_ORIGIN_LON, _ORIGIN_LAT, _DEGREES_PER_UNIT = -36.0, 18.0, 0.5


def _signed_area(ring: list[tuple[float, float]]) -> float:
    return 0.5 * sum(x0 * y1 - x1 * y0
                     for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))


def region_ring(region: str) -> list[list[float]]:
    """Closed, counter-clockwise exterior ring of ``region`` in [lon, lat] pairs."""
    ring = [_POINTS[name] for name in _RINGS[region]]
    if _signed_area(ring) < 0:
        ring.reverse()
    lonlat = [[round(_ORIGIN_LON + x * _DEGREES_PER_UNIT, 4),
               round(_ORIGIN_LAT + y * _DEGREES_PER_UNIT, 4)] for x, y in ring]
    return [*lonlat, lonlat[0]]


def regions_geojson(model: DemoModel) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with one Polygon per region of ``model``."""
    missing = set(model.population.regions) - set(_RINGS)
    if missing:
        raise AnalysisError(f"the demo map has no outline for region(s) {sorted(missing)}; "
                            f"it draws {sorted(_RINGS)}")
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"region": region},
             "geometry": {"type": "Polygon", "coordinates": [region_ring(region)]}}
            for region in model.population.regions
        ],
    }


def write_regions_geojson(path: Path, model: DemoModel) -> int:
    """Write ``regions.geojson``; return the number of regions drawn."""
    doc = regions_geojson(model)
    Path(path).write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(doc["features"])
