"""Regions and départements (INSEE codes), loaded once from the shipped CSV."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    departements: tuple[str, ...]


@dataclass(frozen=True)
class Departement:
    code: str
    name: str
    region_code: str


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Region], dict[str, Departement]]:
    regions: dict[str, dict] = {}
    departements: dict[str, Departement] = {}
    with open(DATA_DIR / "regions-departements.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            reg = regions.setdefault(row["code_region"], {"name": row["nom_region"], "deps": []})
            reg["deps"].append(row["code_departement"])
            departements[row["code_departement"]] = Departement(
                row["code_departement"], row["nom_departement"], row["code_region"]
            )
    return (
        {code: Region(code, r["name"], tuple(r["deps"])) for code, r in regions.items()},
        departements,
    )


def regions() -> dict[str, Region]:
    """The 18 regions by INSEE code, in file order."""
    return _load()[0]


def departements() -> dict[str, Departement]:
    """The 101 départements by code ('2A', '971'…)."""
    return _load()[1]


def region_of(departement_code: str) -> str | None:
    dep = departements().get(departement_code)
    return dep.region_code if dep else None
