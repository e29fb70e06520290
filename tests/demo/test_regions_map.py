"""The demo's regions.geojson: eight simple, non-overlapping outlines, imported as boundaries."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import numpy as np
import pytest

from analysis.contract import BOUNDARIES_FILE
from analysis.demo import DemoModel
from analysis.demo.build import build_demo
from analysis.demo.regions_map import regions_geojson

MODEL = DemoModel()


def _inside(ring: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd rule: which points (x, y) lie inside the closed ring."""
    inside = np.zeros(len(x), dtype=bool)
    for (x0, y0), (x1, y1) in zip(ring[:-1], ring[1:], strict=True):
        crosses = (y0 > y) != (y1 > y)
        at = x0 + (y - y0) * (x1 - x0) / np.where(y1 == y0, 1.0, y1 - y0)
        inside ^= crosses & (x < at)
    return inside


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


@pytest.fixture(scope="module")
def rings() -> dict[str, np.ndarray]:
    doc = regions_geojson(MODEL)
    assert doc["type"] == "FeatureCollection"
    out = {}
    for feature in doc["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
        (ring,) = feature["geometry"]["coordinates"]
        out[feature["properties"]["region"]] = np.asarray(ring, dtype=float)
    return out


def test_one_closed_counter_clockwise_ring_per_region(rings):
    assert list(rings) == list(MODEL.population.regions)
    for region, ring in rings.items():
        assert (ring[0] == ring[-1]).all(), region
        assert len(ring) >= 5 and _area(ring) > 0, region  # RFC 7946: exterior ring CCW
        assert (-180 <= ring[:, 0]).all() and (ring[:, 0] <= 180).all()
        assert (-90 <= ring[:, 1]).all() and (ring[:, 1] <= 90).all()


def test_regions_do_not_overlap_and_share_their_borders(rings):
    everything = np.vstack(list(rings.values()))
    (lo_x, lo_y), (hi_x, hi_y) = everything.min(axis=0), everything.max(axis=0)
    # A grid offset from the corner points, so that no sample lies on a border.
    x, y = np.meshgrid(np.linspace(lo_x, hi_x, 211) + 1e-4, np.linspace(lo_y, hi_y, 197) + 1e-4)
    x, y = x.ravel(), y.ravel()
    hits = sum(_inside(ring, x, y).astype(int) for ring in rings.values())
    assert hits.max() == 1
    assert 0.5 < (hits == 1).mean() < 0.95  # a country, not its bounding box
    # Borders are shared exactly: every edge belongs to one region (coast) or two.
    edges = Counter(
        frozenset((tuple(a), tuple(b)))
        for ring in rings.values() for a, b in zip(ring[:-1], ring[1:], strict=True)
    )
    assert set(edges.values()) == {1, 2}
    area = {region: _area(ring) for region, ring in rings.items()}
    assert area["Desert South"] > area["Capital"]


def test_the_demo_writes_and_imports_it(tmp_path):
    built = build_demo(tmp_path / "demo.duckdb", releases=1500, seed=3, out=tmp_path / "csv")
    written = json.loads((tmp_path / "csv" / BOUNDARIES_FILE).read_text(encoding="utf-8"))
    assert written == regions_geojson(MODEL)
    con = duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True)
    try:
        stored = dict(con.execute("SELECT region, geometry FROM region_boundaries").fetchall())
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("providers", "services", "referrals")}
    finally:
        con.close()
    assert set(stored) == set(MODEL.population.regions)
    assert json.loads(stored["Capital"])["type"] == "Polygon"
    assert counts == {"providers": built.summary.rows["providers"],
                      "services": built.summary.rows["services"],
                      "referrals": built.summary.rows["referrals"]}
    for name in ("providers", "services", "referrals"):
        assert built.report.tables[name].rejected == 0
