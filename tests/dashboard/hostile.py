"""A study whose names carry Markdown, HTML and plotly markup, for the text-safety tests.

The demo registry, with every facility, region, programme, project and funder name and
the ``education_level`` covariate's values replaced by text that would fetch from
:data:`OTHER_HOST`, make a link, or change the type if it were rendered rather than
shown. Imported through the normal import path.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analysis.demo.generator import DemoGenerator
from analysis.ingest.importer import import_dataset
from tests.conftest import DEMO_RELEASES, DEMO_SEED

#: The host no page may contact (``.invalid`` never resolves).
OTHER_HOST = "other-host.invalid"

#: Demo facility -> hostile name (each a different kind of markup).
FACILITIES = {
    "Northgate Prison": "<b>Northgate</b> & Co",
    "Riverside Prison": f"![riverside](http://{OTHER_HOST}/facility.png) Riverside",
    "Eastfield Prison": f'<img src="http://{OTHER_HOST}/eastfield.png">Eastfield',
    "Lakeside Open Prison": f"[Lakeside](http://{OTHER_HOST}/l) **open** $x^2$ :red[prison]",
    "Hillcrest High-Security Prison": f'<a href="http://{OTHER_HOST}/h">Hillcrest</a><br>High',
    "Marigold Women's Prison": "<span style='color:red'>Marigold</span> &amp; <i>women</i>",
    "Probation Service": "Probation `service` <sup>x</sup> # not a heading",
}
#: Demo region -> hostile name.
REGIONS = {
    "Capital": "<i>Capital</i> & ![c](http://other-host.invalid/capital.png)",
    "Highlands": "<b>High</b>lands",
}
#: Covariate value -> hostile value.
EDUCATION = {
    "primary": "<b>primary</b>",
    "secondary": f"![s](http://{OTHER_HOST}/secondary.png)",
    "higher": "[higher](http://other-host.invalid/e) & <i>more</i>",
}
#: Literal texts a reader must be able to see on the pages, characters and all.
VISIBLE = ("<b>Northgate</b> & Co", "<b>High</b>lands", "<b>primary</b>")


def program_name(program_id: str, name: str) -> str:
    """The hostile name of a demo programme (keeps its id recognisable)."""
    return f"![{program_id}](http://{OTHER_HOST}/{program_id}.png) <b>{name}</b> & co"


def _rewrite(path: Path, change) -> None:
    with open(path, newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    fields = list(rows[0])
    for row in rows:
        change(row)
    with open(path, "w", newline="", encoding="utf-8") as target:
        writer = csv.DictWriter(target, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _release(row: dict) -> None:
    row["facility"] = FACILITIES.get(row["facility"], row["facility"])
    row["release_region"] = REGIONS.get(row["release_region"], row["release_region"])
    row["education_level"] = EDUCATION.get(row["education_level"], row["education_level"])


def _program(row: dict) -> None:
    row["name"] = program_name(row["program_id"], row["name"])
    row["project"] = f"**{row['project']}** <i>project</i> [p](http://{OTHER_HOST}/p)"
    row["funder"] = f"<b>{row['funder']}</b> & ![f](http://{OTHER_HOST}/funder.png)"


def build_hostile_study(folder: Path, db: Path, *, releases: int, seed: int) -> Path:
    """Write the hostile dataset into ``folder``, import it into ``db``; returns ``db``."""
    folder.mkdir(parents=True, exist_ok=True)
    DemoGenerator(None, seed=seed).generate(folder, releases)
    _rewrite(folder / "releases.csv", _release)
    _rewrite(folder / "programs.csv", _program)
    import_dataset(folder, db)
    return db


@pytest.fixture(scope="session")
def hostile_db(tmp_path_factory) -> Path:
    """The hostile study (import it into a test module to use it)."""
    folder = tmp_path_factory.mktemp("hostile")
    return build_hostile_study(folder / "dataset", folder / "hostile.duckdb",
                               releases=DEMO_RELEASES, seed=DEMO_SEED)
