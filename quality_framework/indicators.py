"""Indicators of the « socle national » (spec/activity-workbook.md, « Indicators »).

Computed in two stages so that the same formulas serve one contract, a region and the
nation, and so that national figures over millions of rows are computed by the database:

1. `counts_by_version`: additive counts per workbook version, in SQL (two queries,
   whatever the data size). Counts add up, so a region or the nation is the sum of its
   contracts' counts (« aggregate the rows, never average the percentages »).
2. `indicators_from_counts`: every ratio. A zero denominator gives None
   (« non calculable »), never 0 and never an error.

Distribution codes are strings (`niveau_max` 1 becomes "1") so that they read the same in
Python, JSON and both databases.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any, Iterable, Mapping

import pandas as pd
from sqlalchemy import (
    BigInteger, Column, Date, Float, ForeignKey, Index, Integer, MetaData, SmallInteger,
    String, Table, UniqueConstraint, and_, case, cast, create_engine, func, literal,
    select, union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from .catalog import DISTRIBUTIONS, EXIT_DISTRIBUTION, MEANS_FIELDS, SCALAR_INDICATORS

CHARGE_POSTES: tuple[str, ...] = (
    "PERSONNEL", "LOCAUX", "SYSTEMES_INFORMATION", "COMMUNICATION", "SOUS_TRAITANCE",
    "FRAIS_STRUCTURE", "AUTRES_CHARGES",
)
PRODUCT_POSTES: tuple[str, ...] = ("FINANCEMENT_FRANCE_COMPETENCES", "AUTRES_PRODUITS")

# A mean delay cannot be summed over contracts; every other Moyens field can.
ADDITIVE_MEANS: tuple[str, ...] = tuple(
    m for m in MEANS_FIELDS if m != "delai_moyen_premier_rdv_jours"
)

# Spec columns of the Beneficiaires sheet, in sheet order.
ROW_COLUMNS: tuple[str, ...] = (
    "id_parcours", "date_entree", "niveau_max", "sexe", "tranche_age", "rqth", "statut",
    "csp", "niveau_qualification", "taille_entreprise", "secteur_naf", "departement",
    "motif", "canal", "nb_entretiens", "duree_heures", "date_sortie", "type_sortie",
    "document_synthese", "satisfaction",
)
_DATE_COLUMNS = ("date_entree", "date_sortie")


# --------------------------------------------------------------------------- table

def define_beneficiary_rows_table(metadata: MetaData) -> Table:
    """The `beneficiary_rows` table (one row per parcours of an accepted workbook version).

    The unique (version, id_parcours) constraint also serves as the index on
    `workbook_version_id`; the (version, date) indexes serve the per-year aggregation,
    the (version, type_sortie / satisfaction, date_sortie) ones the rows behind an alert."""
    return Table(
        "beneficiary_rows",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("workbook_version_id", Integer,
               ForeignKey("workbook_versions.id", ondelete="CASCADE"), nullable=False),
        Column("row_number", Integer),  # spreadsheet row as the operator sees it
        Column("id_parcours", String(40), nullable=False),
        Column("date_entree", Date, nullable=False),
        Column("niveau_max", SmallInteger, nullable=False),
        Column("sexe", String(1), nullable=False),
        Column("tranche_age", String(5), nullable=False),
        Column("rqth", String(1), nullable=False),
        Column("statut", String(12), nullable=False),
        Column("csp", String(1), nullable=False),
        Column("niveau_qualification", String(4), nullable=False),
        Column("taille_entreprise", String(3), nullable=False),
        Column("secteur_naf", String(1), nullable=True),
        Column("departement", String(3), nullable=False),
        Column("motif", String(12), nullable=False),
        Column("canal", String(12), nullable=False),
        Column("nb_entretiens", Integer, nullable=False),
        Column("duree_heures", Float, nullable=False),
        Column("date_sortie", Date, nullable=True),
        Column("type_sortie", String(13), nullable=True),
        Column("document_synthese", String(1), nullable=False),
        Column("satisfaction", SmallInteger, nullable=True),
        UniqueConstraint("workbook_version_id", "id_parcours",
                         name="uq_beneficiary_rows_version_parcours"),
        Index("ix_beneficiary_rows_version_entree", "workbook_version_id", "date_entree"),
        Index("ix_beneficiary_rows_version_sortie", "workbook_version_id", "date_sortie"),
        # The rows behind the two alerts whose condition picks a small share of the
        # year's exits (abandons ~13 %, satisfaction 1-3 ~5 %): read through the index
        # instead of filtering every exit of the version (docs/performance.md).
        Index("ix_beneficiary_rows_version_type_sortie", "workbook_version_id", "type_sortie", "date_sortie"),
        Index("ix_beneficiary_rows_version_satisfaction", "workbook_version_id", "satisfaction", "date_sortie"),
    )


# --------------------------------------------------------------------------- counts

@dataclass
class Counts:
    """Additive counts of one workbook version (or a sum of versions) for year N."""

    entrees: int = 0                         # date_entree in N
    parcours_actifs: int = 0                 # all rows
    sorties: int = 0                         # date_sortie in N
    entrees_niveau1: int = 0
    sorties_niveau2plus: int = 0
    sorties_niveau2plus_document_o: int = 0
    sorties_courtes: int = 0                 # sorties with nb_entretiens <= 1
    # Exit-survey answers among the sorties of N, consistent with taux_reponse.
    satisfaction_answers: int = 0
    satisfaction_sum: int = 0
    satisfaction_satisfied: int = 0          # answers >= 4
    heures_totales: float = 0.0              # all rows
    heures_sorties: float = 0.0              # sorties of N
    # {dimension: {code: count}}: entrées by DISTRIBUTIONS, sorties by type_sortie.
    distributions: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def sorties_par_type(self) -> dict[str, int]:
        return self.distributions.get(EXIT_DISTRIBUTION, {})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form. A version's rows never change, so its counts can be stored
        once at import and national figures summed from the stored counts."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Counts":
        return cls(**{k: v for k, v in data.items() if k in _COUNT_FIELDS})

    def __add__(self, other: "Counts") -> "Counts":
        if not isinstance(other, Counts):
            return NotImplemented
        return sum_counts([self, other])


_COUNT_FIELDS = frozenset(f.name for f in fields(Counts))
_SCALAR_COUNTS = tuple(f.name for f in fields(Counts) if f.name != "distributions")


def sum_counts(items: Iterable[Counts]) -> Counts:
    """Counts of a region or the nation: the sum of its versions' counts (the same as
    adding them one by one, in one pass instead of a new Counts per addition)."""
    items = list(items)
    zero = Counts()
    scalars = {name: sum((getattr(c, name) for c in items), getattr(zero, name))
               for name in _SCALAR_COUNTS}
    merged: dict[str, dict[str, int]] = {}
    for c in items:
        for dim, codes in c.distributions.items():
            target = merged.setdefault(dim, {})
            for code, n in codes.items():
                target[code] = target.get(code, 0) + n
    return Counts(**scalars, distributions=merged)


def entered_in(table: Table, year: int) -> ColumnElement[bool]:
    """Rows counted in `entrees` of year N (shared with the alerts' row lists)."""
    return table.c.date_entree.between(date(year, 1, 1), date(year, 12, 31))


def exited_in(table: Table, year: int) -> ColumnElement[bool]:
    """Rows counted in `sorties` of year N."""
    return table.c.date_sortie.between(date(year, 1, 1), date(year, 12, 31))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _of_versions(t: Table, version_ids: list[int], id_range: tuple[int, int] | None):
    """Rows of the versions. With `id_range` (the version's first and last row id, known
    right after its import) the database reads that contiguous slice of the table instead
    of walking an index row by row: « + 0 » keeps SQLite from preferring the index."""
    if id_range is None:
        return t.c.workbook_version_id.in_(version_ids)
    return and_(t.c.id.between(*id_range), (t.c.workbook_version_id + 0).in_(version_ids))


def _scalar_query(t: Table, version_ids: list[int], year: int,
                  id_range: tuple[int, int] | None = None):
    entree, sortie = entered_in(t, year), exited_in(t, year)
    answered = and_(sortie, t.c.satisfaction.isnot(None))
    level2 = and_(sortie, t.c.niveau_max >= 2)
    return (
        select(
            t.c.workbook_version_id,
            _count_if(entree).label("entrees"),
            func.count().label("parcours_actifs"),
            _count_if(sortie).label("sorties"),
            _count_if(and_(entree, t.c.niveau_max == 1)).label("entrees_niveau1"),
            _count_if(level2).label("sorties_niveau2plus"),
            _count_if(and_(level2, t.c.document_synthese == "O"))
            .label("sorties_niveau2plus_document_o"),
            _count_if(and_(sortie, t.c.nb_entretiens <= 1)).label("sorties_courtes"),
            _count_if(answered).label("satisfaction_answers"),
            func.coalesce(func.sum(case((answered, t.c.satisfaction), else_=0)), 0)
            .label("satisfaction_sum"),
            _count_if(and_(answered, t.c.satisfaction >= 4)).label("satisfaction_satisfied"),
            func.coalesce(func.sum(t.c.duree_heures), 0.0).label("heures_totales"),
            func.coalesce(func.sum(case((sortie, t.c.duree_heures), else_=0.0)), 0.0)
            .label("heures_sorties"),
        )
        .where(_of_versions(t, version_ids, id_range))
        .group_by(t.c.workbook_version_id)
    )


def _distribution_query(t: Table, version_ids: list[int], year: int,
                        id_range: tuple[int, int] | None = None):
    # One UNION ALL: one branch per dimension, each grouped by (version, code).
    branches = []
    dims = [(d, entered_in(t, year)) for d in DISTRIBUTIONS]
    dims.append((EXIT_DISTRIBUTION, exited_in(t, year)))
    for dim, population in dims:
        col = t.c[dim]
        code = col if isinstance(col.type, String) else cast(col, String)
        branches.append(
            select(
                t.c.workbook_version_id.label("version_id"),
                literal(dim, String).label("dimension"),
                code.label("code"),
                func.count().label("n"),
            )
            .where(_of_versions(t, version_ids, id_range), population, col.isnot(None))
            .group_by(t.c.workbook_version_id, col)
        )
    return union_all(*branches)


def counts_by_version(
    connection: Connection, rows_table: Table, version_ids: Iterable[int], year: int,
    id_range: tuple[int, int] | None = None,
) -> dict[int, Counts]:
    """Counts of each version for year N, in two queries. A version without rows gets
    zero counts; every requested id is in the result. `id_range` (lowest, highest row id
    of the versions' rows) only changes how the rows are found, never which."""
    ids = sorted(set(version_ids))
    result = {vid: Counts() for vid in ids}
    if not ids:
        return result
    for row in connection.execute(_scalar_query(rows_table, ids, year, id_range)).mappings():
        counts = result[row["workbook_version_id"]]
        for name in _SCALAR_COUNTS:
            kind = float if name.startswith("heures") else int
            setattr(counts, name, kind(row[name]))
    for vid, dim, code, n in connection.execute(_distribution_query(rows_table, ids, year, id_range)):
        dist = result[vid].distributions.setdefault(dim, {})
        dist[str(code)] = dist.get(str(code), 0) + int(n)
    return result


# --------------------------------------------------------------------------- frame

_INTEGER_COLUMNS = frozenset(
    c.name for c in define_beneficiary_rows_table(MetaData()).columns if isinstance(c.type, Integer))


def _column_values(series: pd.Series, is_date: bool, is_integer: bool) -> list[Any]:
    """A column as plain Python values for an INSERT (NaN/NaT -> None), whole-column.
    Integer columns with gaps are floats in pandas (5.0): they go out as int, which
    PostgreSQL's COPY requires."""
    if is_date:
        dates = pd.to_datetime(series, errors="coerce")
        return dates.dt.date.astype(object).where(dates.notna(), None).tolist()
    if is_integer and series.dtype.kind == "f":
        present = series.notna()
        values = series.where(present, 0).astype("int64").astype(object)
        return values.where(present, None).tolist()
    values = series.astype(object)
    return values.where(series.notna(), None).tolist()


def frame_columns(df: pd.DataFrame) -> dict[str, list[Any]]:
    """Every column of `beneficiary_rows` (but the keys) as lists of plain values."""
    return {name: (_column_values(df[name], name in _DATE_COLUMNS, name in _INTEGER_COLUMNS)
                   if name in df.columns else [None] * len(df))
            for name in ROW_COLUMNS + ("row_number",)}


def insert_frame_rows(connection: Connection, table: Table, version_id: int, df: pd.DataFrame) -> int:
    """Insert a validated frame as rows of `version_id`, at the driver level, from plain
    tuples: PostgreSQL gets one COPY (psycopg escapes every value; measured as fast as
    building the text ourselves, the server being the bottleneck), any other database one
    executemany. Building dicts and compiling an ORM insert cost more than the database
    work itself (docs/performance-workbooks.md)."""
    n = len(df)
    if not n:
        return 0
    columns = frame_columns(df)
    names = ["workbook_version_id", *columns]
    rows = zip([version_id] * n, *columns.values())
    if connection.dialect.name == "postgresql":
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return n
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})",
        list(rows))
    return n


def counts_from_frame(df: pd.DataFrame, year: int) -> Counts:
    """Counts of a workbook that is not in a database (CLI check, « vérifier sans
    déposer »).

    The rows go into an in-memory SQLite copy of `beneficiary_rows` (by the same insertion
    as a deposit) and the SAME SQL as `counts_by_version` runs on them, so every count is
    defined once."""
    engine = create_engine("sqlite://")
    metadata = MetaData()
    versions = Table("workbook_versions", metadata, Column("id", Integer, primary_key=True))
    rows = define_beneficiary_rows_table(metadata)
    rows.indexes.clear()  # read once and whole: indexes would only slow the inserts
    try:
        with engine.begin() as conn:
            versions.create(conn)  # a scratch in-memory copy, not the application schema
            rows.create(conn)
            conn.execute(versions.insert(), [{"id": 1}])
            n = insert_frame_rows(conn, rows, 1, df)
            return counts_by_version(conn, rows, [1], year, (1, n) if n else None)[1]
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- ratios

def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None (« non calculable ») when either is missing or
    the denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def share(count: float | None, total: float | None) -> float | None:
    """A share in [0, 1] of `total`; None when total is 0 (« non calculable »)."""
    return ratio(count, total)


def distribution_shares(distribution: Mapping[str, int], total: int) -> dict[str, float | None]:
    """{code: count} -> {code: share of total} (e.g. share of entrées per canal)."""
    return {code: share(n, total) for code, n in distribution.items()}


def charges_total(finances: Mapping[str, float] | None) -> float | None:
    """Sum of the charge postes (produits excluded); a missing poste counts as 0."""
    if finances is None:
        return None
    return float(sum(finances.get(p) or 0 for p in CHARGE_POSTES))


def _sum_dicts(items: Iterable[Mapping[str, Any] | None], keys: Iterable[str]) -> dict | None:
    present = [d for d in items if d is not None]
    if not present:
        return None
    return {k: sum(d.get(k) or 0 for d in present) for k in keys}


def sum_means(items: Iterable[Mapping[str, Any] | None]) -> dict[str, float] | None:
    """Moyens of a region/the nation: additive fields summed over the contracts that
    declared them (the mean delay, not additive, is left out). None when none did."""
    return _sum_dicts(items, ADDITIVE_MEANS)


def sum_finances(items: Iterable[Mapping[str, float] | None]) -> dict[str, float] | None:
    """Finances summed poste by poste over the contracts that declared them."""
    return _sum_dicts(items, CHARGE_POSTES + PRODUCT_POSTES)


def sum_capacity(values: Iterable[float | None]) -> float | None:
    """Committed annual capacities summed over the contracts that have one."""
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def indicators_from_counts(
    counts: Counts,
    moyens: Mapping[str, Any] | None = None,
    finances: Mapping[str, float] | None = None,
    capacity: float | None = None,
) -> dict[str, Any]:
    """Every indicator of the spec, keyed by SCALAR_INDICATORS names, plus
    `repartition`: {dimension: {code: count}} (entrées by DISTRIBUTIONS, sorties by
    type_sortie). Shares are fractions; None means « non calculable »."""
    c = counts
    charges = charges_total(finances)
    etp = (moyens or {}).get("etp_conseillers")
    values: dict[str, Any] = {
        "entrees": c.entrees,
        "parcours_actifs": c.parcours_actifs,
        "sorties": c.sorties,
        "taux_abandon": share(c.sorties_par_type.get("ABANDON", 0), c.sorties),
        "taux_plan_action": share(c.sorties_par_type.get("PLAN_ACTION", 0), c.sorties),
        "taux_document_synthese": share(c.sorties_niveau2plus_document_o,
                                        c.sorties_niveau2plus),
        "taux_information_seule": share(c.entrees_niveau1, c.entrees),
        "taux_parcours_courts": share(c.sorties_courtes, c.sorties),
        "satisfaction_moyenne": ratio(c.satisfaction_sum, c.satisfaction_answers),
        "taux_satisfaits": share(c.satisfaction_satisfied, c.satisfaction_answers),
        "taux_reponse": share(c.satisfaction_answers, c.sorties),
        "heures_totales": c.heures_totales,
        "duree_moyenne_sortie": ratio(c.heures_sorties, c.sorties),
        "charges_totales": charges,
        "cout_par_entree": ratio(charges, c.entrees),
        "cout_par_heure": ratio(charges, c.heures_totales),
        "entrees_par_etp": ratio(c.entrees, etp),
        "taux_realisation": ratio(c.entrees, capacity),
    }
    result = {name: values[name] for name in SCALAR_INDICATORS}
    result["repartition"] = {
        dim: dict(sorted(c.distributions.get(dim, {}).items()))
        for dim in DISTRIBUTIONS + (EXIT_DISTRIBUTION,)
    }
    return result
