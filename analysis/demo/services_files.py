"""The demo's ``providers.csv`` and ``services.csv``: the directory of who can help, and where.

The catalogue is :class:`analysis.demo.services_model.ServicesModel`. Only capacities
depend on the generated releases: each is ``capacity_ratio`` times the releases of the
service's regions in the 12 months up to the cutoff (with the type's need, see
:data:`~analysis.demo.services_model.CAPACITY_NEED`), counted chunk by chunk in a
:class:`Demand`. A provider serves the regions of its services (``all`` when one of them
is national).

Examples
--------
>>> import tempfile, pathlib
>>> from analysis.demo.model import DemoModel
>>> model = DemoModel()
>>> demand = Demand(model)
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_providers(folder / "providers.csv", model), write_services(folder / "services.csv", model, demand)
(22, 46)
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from analysis.contract import ALL_REGIONS, LIST_SEPARATOR, PROVIDERS, SERVICES
from analysis.demo.model import OFFENSES, DemoModel
from analysis.demo.services_model import CAPACITY_NEED, ServiceSpec
from analysis.demo.simulate import Chunk, day_number

#: The 12 months whose releases set the capacities: the coverage analysis' default
#: window (releases after the cutoff minus 365 days, up to the cutoff).
DEMAND_DAYS = 365
_MEASURES = ("all", "drug_offence", "under_25")


class Demand:
    """Releases per region in the last 12 months before the cutoff, all and by need."""

    def __init__(self, model: DemoModel):
        self.model = model
        self.counts = np.zeros((len(_MEASURES), len(model.population.regions)), dtype=np.int64)

    def add(self, chunk: Chunk, rows: np.ndarray) -> None:
        """Count the releases ``rows`` of ``chunk`` (those written to the file)."""
        rel = chunk.releases
        cutoff = day_number(self.model.calendar.cutoff)
        recent = rows[rel["day"][rows] > cutoff - DEMAND_DAYS]
        region = rel["region"][recent]
        size = self.counts.shape[1]
        for i, mask in enumerate((np.ones(len(recent), dtype=bool),
                                  rel["offense"][recent] == OFFENSES.index("drug"),
                                  rel["age"][recent] < 25)):
            self.counts[i] += np.bincount(region[mask], minlength=size)

    def capacity(self, service: ServiceSpec) -> int | None:
        """Yearly places of ``service``: its ratio times the demand of its regions."""
        if service.capacity_ratio is None:
            return None
        regions = self.model.population.regions
        served = (list(range(len(regions))) if service.national
                  else [regions.index(r) for r in service.regions])
        measure = _MEASURES.index(CAPACITY_NEED.get(service.service_type, "all"))
        demand = int(self.counts[measure, served].sum())
        # At least a couple of places: a service with no place is not a service.
        return max(2, round(service.capacity_ratio * demand))


def _joined(values) -> str:
    return LIST_SEPARATOR.join(values)


def provider_regions(model: DemoModel) -> dict[str, tuple[str, ...]]:
    """Regions of each provider: its services' regions in the population's order."""
    served: dict[str, set[str]] = {p.provider_id: set() for p in model.services.providers}
    for s in model.services.services:
        served[s.provider_id] |= set(s.regions)
    order = model.population.regions
    return {
        pid: (ALL_REGIONS,) if ALL_REGIONS in regions
        else tuple(r for r in order if r in regions)
        for pid, regions in served.items()
    }


def write_providers(path: Path, model: DemoModel) -> int:
    regions = provider_regions(model)
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PROVIDERS.column_names)
        for p in model.services.providers:
            writer.writerow([p.provider_id, p.name, p.kind, _joined(regions[p.provider_id]),
                             p.phone, p.email, p.address, p.website])
    return len(model.services.providers)


def write_services(path: Path, model: DemoModel, demand: Demand) -> int:
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SERVICES.column_names)
        for s in model.services.services:
            capacity = demand.capacity(s)
            writer.writerow([
                s.service_id, s.provider_id, s.service_type, s.name, _joined(s.regions),
                s.sex_served, _joined(s.languages), "" if capacity is None else capacity,
                s.valid_from.isoformat() if s.valid_from else "",
                s.valid_to.isoformat() if s.valid_to else "",
            ])
    return len(model.services.services)
