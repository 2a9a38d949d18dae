"""Synthetic data at national scale for the benchmarks (docs/performance.md).

    .venv/bin/python bench/generate_dataset.py --rows 5000000 --contracts 18 \
        --years 2024-2027 --database-url postgresql+psycopg://postgres@127.0.0.1:55432/cep_test --reset

Creates operators, one contract per region (18 regions), workbook versions per
(contract, year) — about 15 % of them with an earlier, superseded version — and bulk-loads
`beneficiary_rows`: COPY on PostgreSQL (secondary indexes dropped during the load and
rebuilt after), executemany in big transactions on SQLite. Then each version's counts are
computed with `quality_framework.indicators.counts_by_version` and stored in
`WorkbookVersion.counts`, exactly as `audit.workbooks.service.deposit` does at import.

Schema: `flask db upgrade` (the migrations), as in production. `--reset`
drops every table first: use it only on a throw-away database.

Distributions are plausible, not official: ~60 % women, niveau_max 1/2/3 = 30/50/20 %,
~70 % of paths closed during the year, entries spread over the year with a summer dip,
~22 % of rows carried over from earlier years, one exit in three answering the survey.
"""
from __future__ import annotations

import argparse
import io
import math
import os
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_PASSWORD = "Bench-Password-2026!"  # synthetic accounts on throw-away databases only
BENCH_ACCOUNTS = {  # local part -> roles (e-mail: <local>@bench.example.fr)
    "bench.admin": ["admin"],
    "bench.acheteur": ["acheteur"],
    "bench.auditeur": ["auditeur"],
    "bench.observateur": ["observateur"],
}
BENCH_DOMAIN = "bench.example.fr"
REFERENCE_PREFIX = "BENCH-"

# Rough share of the national activity per region (population-like weights).
REGION_WEIGHTS = {
    "11": 19.0, "84": 12.0, "75": 9.0, "76": 9.0, "32": 9.0, "44": 8.0, "93": 8.0,
    "52": 6.0, "53": 5.0, "28": 5.0, "27": 4.0, "24": 4.0, "94": 0.5, "01": 0.6,
    "02": 0.5, "03": 0.4, "04": 1.3, "06": 0.4,
}
YEAR_GROWTH = 0.05          # activity grows 5 % a year
SUPERSEDED_SHARE = 0.15     # (contract, year) pairs re-deposited once
ENTRIES_PER_ETP = 650       # for the Moyens sheet
PRICE_PER_ENTRY = 900       # € per committed entry, for contract price and finances


def codes(*pairs):
    values, weights = zip(*pairs)
    w = np.array(weights, dtype=float)
    return np.array(values, dtype=object), w / w.sum()


NIVEAU = codes((1, 30), (2, 50), (3, 20))
SEXE = codes(("F", 60), ("H", 40))
AGE = codes(("15-25", 12), ("26-44", 52), ("45-54", 24), ("55+", 12))
RQTH = codes(("O", 6), ("N", 94))
STATUT = codes(("CDI", 62), ("CDD", 14), ("INTERIM", 5), ("ALTERNANCE", 3), ("INDEPENDANT", 8),
               ("AUTRE", 8))
CSP = codes(("1", 1), ("2", 6), ("3", 14), ("4", 24), ("5", 38), ("6", 17))
QUALIF = codes(("SANS", 8), ("3", 15), ("4", 25), ("5", 20), ("6", 20), ("7", 10), ("8", 2))
TAILLE = codes(("TPE", 22), ("PE", 24), ("ME", 21), ("ETI", 19), ("GE", 14))
NAF = codes(*[(letter, w) for letter, w in zip(
    "ABCDEFGHIJKLMNOPQRSTU", (1, 0.2, 11, 0.5, 0.8, 6, 13, 5, 5, 3, 3, 1.5, 5, 7, 9, 5, 13, 1.5, 3, 0.5, 0.1))])
MOTIF = codes(("POINT", 35), ("PROJET", 35), ("COMPETENCES", 10), ("TRANSITION", 10), ("CREATION", 7),
              ("DEMISSION", 3))
CANAL = codes(("PRESENTIEL", 55), ("TELEPHONE", 15), ("VISIO", 20), ("MIXTE", 10))
SORTIE_N1 = codes(("FIN_POINT", 70), ("REORIENTATION", 15), ("ABANDON", 10), ("PLAN_ACTION", 5))
SORTIE_N23 = codes(("PLAN_ACTION", 65), ("ABANDON", 15), ("REORIENTATION", 10), ("FIN_POINT", 10))
SATISFACTION = codes((1, 3), (2, 4), (3, 8), (4, 35), (5, 50))
# Entries per month: fewer in summer and at Christmas.
MONTH_WEIGHTS = (1.0, 1.05, 1.1, 1.0, 0.95, 0.95, 0.7, 0.45, 1.1, 1.15, 1.05, 0.8)
MEAN_DAYS_TO_EXIT = {1: 10, 2: 80, 3: 160}


def pick(rng: np.random.Generator, spec, n: int) -> np.ndarray:
    values, p = spec
    return values[rng.choice(len(values), size=n, p=p)]


# --------------------------------------------------------------------------- rows

def generate_rows(rng: np.random.Generator, n: int, year: int, departements: list[str],
                  all_departements: list[str], prefix: str) -> pd.DataFrame:
    """`n` rows of a Beneficiaires sheet for year N, valid against the workbook contract."""
    jan1 = np.datetime64(f"{year}-01-01")
    dec31 = np.datetime64(f"{year}-12-31")
    n_days = int((dec31 - jan1).astype(int)) + 1
    day_month = (np.arange(n_days).astype("timedelta64[D]") + jan1).astype("datetime64[M]").astype(int) % 12
    day_w = np.array(MONTH_WEIGHTS)[day_month]
    carried = rng.random(n) < 0.22  # started before N, still open on 1 January N
    offsets = rng.choice(n_days, size=n, p=day_w / day_w.sum())
    before = -np.minimum(np.ceil(rng.gamma(2.0, 60.0, size=n)), 5 * 365 - 2).astype(int)
    offsets = np.where(carried, before, offsets)
    entree = jan1 + offsets.astype("timedelta64[D]")

    niveau = pick(rng, NIVEAU, n).astype(np.int16)
    mean_days = np.select([niveau == 1, niveau == 2], [MEAN_DAYS_TO_EXIT[1], MEAN_DAYS_TO_EXIT[2]],
                          MEAN_DAYS_TO_EXIT[3])
    sortie = entree + np.ceil(rng.exponential(mean_days)).astype("timedelta64[D]")
    sortie = np.maximum(sortie, jan1)  # carried-over rows were open on 1 January
    exited = (sortie <= dec31) & (rng.random(n) < 0.83)

    entretiens = np.select(
        [niveau == 1, niveau == 2],
        [rng.choice([0, 1, 2], size=n, p=[0.05, 0.85, 0.10]), 1 + rng.poisson(2.5, size=n)],
        2 + rng.poisson(5.0, size=n)).astype(np.int32)
    duree = np.round(entretiens * rng.uniform(0.8, 2.0, size=n) * 2) / 2

    statut = pick(rng, STATUT, n)
    independent = statut == "INDEPENDANT"
    taille = np.where(independent, "SO", pick(rng, TAILLE, n))
    naf = pick(rng, NAF, n)
    naf = np.where(independent & (rng.random(n) < 0.5), None, naf)
    local = rng.random(n) < 0.93
    deps = np.where(local, np.array(departements, dtype=object)[rng.integers(0, len(departements), n)],
                    np.array(all_departements, dtype=object)[rng.integers(0, len(all_departements), n)])

    type_sortie = np.where(niveau == 1, pick(rng, SORTIE_N1, n), pick(rng, SORTIE_N23, n))
    type_sortie = np.where(exited, type_sortie, None)
    document = np.where(niveau >= 2, np.where(rng.random(n) < 0.93, "O", "N"),
                        np.where(rng.random(n) < 0.3, "O", "N"))
    answered = exited & (rng.random(n) < 0.35)
    satisfaction = pd.array(np.where(answered, pick(rng, SATISFACTION, n), None), dtype="Int16")

    entree_text = np.datetime_as_string(entree, unit="D")
    sortie_text = np.where(exited, np.datetime_as_string(sortie, unit="D"), None)
    ids = pd.Series(np.arange(n)).astype(str).str.zfill(7)
    return pd.DataFrame({
        "id_parcours": (prefix + ids).to_numpy(dtype=object),
        "date_entree": entree_text,
        "niveau_max": niveau,
        "sexe": pick(rng, SEXE, n),
        "tranche_age": pick(rng, AGE, n),
        "rqth": pick(rng, RQTH, n),
        "statut": statut,
        "csp": pick(rng, CSP, n),
        "niveau_qualification": pick(rng, QUALIF, n),
        "taille_entreprise": taille,
        "secteur_naf": naf,
        "departement": deps,
        "motif": pick(rng, MOTIF, n),
        "canal": pick(rng, CANAL, n),
        "nb_entretiens": entretiens,
        "duree_heures": duree,
        "date_sortie": sortie_text,
        "type_sortie": type_sortie,
        "document_synthese": document,
        "satisfaction": satisfaction,
        "row_number": np.arange(2, n + 2, dtype=np.int32),
    })


# --------------------------------------------------------------------------- loaders

COPY_COLUMNS = ("workbook_version_id",) + tuple(
    c for c in ("id_parcours", "date_entree", "niveau_max", "sexe", "tranche_age", "rqth", "statut",
                "csp", "niveau_qualification", "taille_entreprise", "secteur_naf", "departement",
                "motif", "canal", "nb_entretiens", "duree_heures", "date_sortie", "type_sortie",
                "document_synthese", "satisfaction", "row_number"))


def copy_rows(dbapi_conn, version_id: int, df: pd.DataFrame) -> None:
    """PostgreSQL: one COPY … FROM STDIN (text format) per version."""
    frame = df.copy()
    frame.insert(0, "workbook_version_id", version_id)
    buffer = io.StringIO()
    frame[list(COPY_COLUMNS)].to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N")
    with dbapi_conn.cursor() as cur:
        with cur.copy(f"COPY beneficiary_rows ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())


def insert_rows_sqlite(dbapi_conn, version_id: int, df: pd.DataFrame) -> None:
    """SQLite: executemany of plain tuples (dates as ISO text, as SQLAlchemy stores them)."""
    columns = [[version_id] * len(df)]
    for name in COPY_COLUMNS[1:]:
        series = df[name]
        if name == "satisfaction":
            columns.append([None if v is pd.NA else int(v) for v in series.tolist()])
        else:
            columns.append(series.tolist())
    placeholders = ", ".join("?" * len(COPY_COLUMNS))
    dbapi_conn.executemany(
        f"INSERT INTO beneficiary_rows ({', '.join(COPY_COLUMNS)}) VALUES ({placeholders})",
        list(zip(*columns)))


# --------------------------------------------------------------------------- plan

@dataclass
class VersionPlan:
    contract_index: int
    year: int
    number: int
    is_current: bool
    rows: int


def parse_years(text: str) -> list[int]:
    if "-" in text:
        first, last = (int(x) for x in text.split("-", 1))
        return list(range(first, last + 1))
    return [int(x) for x in text.split(",")]


def plan_versions(rows: int, regions: list[str], years: list[int], rng) -> list[VersionPlan]:
    """Split `rows` over (contract, year, version): regional weights, yearly growth, and a
    superseded earlier version (with ~95 % of the rows) for ~15 % of the pairs."""
    pairs = []
    for ci, region in enumerate(regions):
        for yi, year in enumerate(years):
            superseded = rng.random() < SUPERSEDED_SHARE
            weight = REGION_WEIGHTS.get(region, 3.0) * (1 + YEAR_GROWTH) ** yi
            pairs.append((ci, year, superseded, weight))
    total = sum(w * (1.95 if s else 1) for _, _, s, w in pairs)
    plans = []
    for ci, year, superseded, weight in pairs:
        n = max(1, int(rows * weight / total))
        if superseded:
            plans.append(VersionPlan(ci, year, 1, False, max(1, int(n * 0.95))))
        plans.append(VersionPlan(ci, year, 2 if superseded else 1, True, n))
    return plans


# --------------------------------------------------------------------------- build

def make_app(database_url: str, instance_dir: str | None = None):
    from platform_core import create_app

    instance = Path(instance_dir or os.environ.get("CEP_BENCH_INSTANCE", "/tmp/cep-bench/instance"))
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SCHEDULER_ENABLED": False,
                       "INSTANCE_DIR": str(instance), "UPLOAD_DIR": str(instance / "files")})


def _bench_users(orgs_fc):
    from platform_core.extensions import db
    from platform_core.models import User, UserRole
    from platform_core.passwords import hash_password

    pw = hash_password(BENCH_PASSWORD)
    users = []
    for local, roles in BENCH_ACCOUNTS.items():
        user = User(email=f"{local}@{BENCH_DOMAIN}", full_name=f"Compte de mesure {local}",
                    password_hash=pw, must_change_password=False,
                    organisation=orgs_fc if "observateur" not in roles else None,
                    roles=[UserRole(role=r) for r in roles])
        db.session.add(user)
        users.append(user)
    return users


def _means(entries: int) -> dict:
    etp = round(max(entries / ENTRIES_PER_ETP, 0.5), 1)
    return {"etp_conseillers": etp, "nb_conseillers": math.ceil(etp * 1.2),
            "nb_sites_permanents": max(1, int(etp / 6)), "nb_lieux_permanence": max(1, int(etp / 3)),
            "heures_formation_conseillers": round(etp * 21, 1), "heures_hors_temps_travail_hebdo": 6.0,
            "delai_moyen_premier_rdv_jours": 9.5}


def _finances(price: float) -> dict:
    shares = {"PERSONNEL": 0.68, "LOCAUX": 0.09, "SYSTEMES_INFORMATION": 0.05, "COMMUNICATION": 0.02,
              "SOUS_TRAITANCE": 0.04, "FRAIS_STRUCTURE": 0.08, "AUTRES_CHARGES": 0.02}
    charges = price * 1.03
    result = {k: round(charges * v, 2) for k, v in shares.items()}
    result["FINANCEMENT_FRANCE_COMPETENCES"] = round(price, 2)
    result["AUTRES_PRODUITS"] = round(price * 0.04, 2)
    return result


def build_dataset(rows: int, n_contracts: int, years: list[int], seed: int = 2026,
                  log=print, batch: int = 0) -> dict:
    """Create the whole dataset in the current app context; returns timings and sizes.

    `batch` > 0 adds another, disjoint set of operators/contracts/versions to a database
    that already holds batch 0 (the query-count tests grow a dataset 3x this way); the
    France compétences organisation and the bench accounts are created by batch 0 only."""
    from sqlalchemy import select

    from platform_core.demo import demo_siret
    from platform_core.extensions import db
    from platform_core.files import store_bytes
    from platform_core.models import Organisation
    from quality_framework import reference
    from tenders.models import Contract
    from audit.workbooks.models import WorkbookVersion, beneficiary_rows

    prefix = REFERENCE_PREFIX if batch == 0 else f"{REFERENCE_PREFIX[:-1]}{batch}-"
    if db.session.scalar(select(Contract.id).where(Contract.reference.like(f"{prefix}%")).limit(1)):
        raise SystemExit("Des données de mesure existent déjà dans cette base : relancez avec --reset "
                         "(base jetable uniquement).")
    rng = np.random.default_rng(seed)
    regions_ref = reference.regions()
    region_codes = sorted(regions_ref, key=lambda c: -REGION_WEIGHTS.get(c, 0))[:n_contracts]
    while len(region_codes) < n_contracts:  # more contracts than regions: split big regions
        region_codes.append(region_codes[len(region_codes) % len(regions_ref)])
    all_deps = [d for r in regions_ref.values() for d in r.departements]
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    if batch == 0:
        fc = Organisation(siret=demo_siret(4999), name="France compétences (mesure)",
                          kind="FRANCE_COMPETENCES")
        db.session.add(fc)
        _bench_users(fc)
    # 12 operators; the biggest hold several contracts, as in the real market.
    n_ops = max(1, min(12, n_contracts))
    operators = [Organisation(siret=demo_siret(5000 + 100 * batch + i),
                              name=f"Opérateur de mesure {batch * 100 + i + 1} (fictif)",
                              kind="OPERATEUR", region_code=region_codes[i % len(region_codes)])
                 for i in range(n_ops)]
    db.session.add_all(operators)
    plans = plan_versions(rows, region_codes, years, rng)
    yearly = {}
    for p in plans:
        if p.is_current:
            yearly.setdefault(p.contract_index, []).append(p.rows)
    contracts = []
    for ci, region in enumerate(region_codes):
        entries = int(np.mean(yearly.get(ci, [1])) * 0.78)  # ~78 % of rows enter during the year
        capacity = max(10, int(entries * rng.uniform(0.95, 1.2)))
        contracts.append(Contract(
            reference=f"{prefix}{region}-{ci + 1:02d}", operator=operators[ci % n_ops],
            region_code=region, starts_on=date(years[0], 1, 1), ends_on=date(years[-1], 12, 31),
            annual_capacity=capacity, annual_price=Decimal(capacity * PRICE_PER_ENTRY),
            satisfaction_target=0.85, status="ACTIF"))
    db.session.add_all(contracts)
    versions = []
    for p in plans:
        c = contracts[p.contract_index]
        # One small real file per version, as after a real deposit (a shared record would
        # hide per-version lazy loads of stored_file from the query-count tests).
        placeholder = store_bytes(
            f"Classeur de mesure {c.reference} {p.year} v{p.number} (fictif : lignes en base).\n".encode(),
            f"bilan-{c.reference}-{p.year}-v{p.number}.xlsx", "xlsx")
        v = WorkbookVersion(contract=c, year=p.year, number=p.number, is_current=p.is_current,
                            stored_file=placeholder, row_count=p.rows, warning_count=0,
                            identification={"siret": c.operator.siret, "code_region": c.region_code,
                                            "annee": p.year, "contact_email": "contact@bench.example.fr"},
                            means=_means(int(p.rows * 0.78)), finances=_finances(float(c.annual_price)))
        db.session.add(v)
        versions.append((p, v))
    db.session.commit()
    timings["reference_data_s"] = time.perf_counter() - t0

    # ---- rows
    dialect = db.engine.dialect.name
    t0 = time.perf_counter()
    gen_s = 0.0
    total = 0
    # Dropping the secondary indexes pays only for big loads into an empty table (and
    # must not happen on a shared test database for a few thousand rows).
    rebuild = dialect == "postgresql" and rows >= 200_000 and not db.session.scalar(
        select(beneficiary_rows.c.id).limit(1))
    db.session.commit()  # release the session's lock on the table before ALTER TABLE
    raw = db.engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        if rebuild:
            with dbapi.cursor() as cur:
                cur.execute("ALTER TABLE beneficiary_rows DROP CONSTRAINT IF EXISTS "
                            "uq_beneficiary_rows_version_parcours")
                for ix in beneficiary_rows.indexes:
                    cur.execute(f"DROP INDEX IF EXISTS {ix.name}")
            dbapi.commit()
        elif dialect == "sqlite":
            dbapi.execute("PRAGMA synchronous=OFF")
            dbapi.execute("PRAGMA journal_mode=WAL")
        for i, (p, v) in enumerate(versions):
            g0 = time.perf_counter()
            c = contracts[p.contract_index]
            df = generate_rows(rng, p.rows, p.year, regions_ref[c.region_code].departements, all_deps,
                               prefix=f"P{p.year % 100}{p.number}-")
            gen_s += time.perf_counter() - g0
            if dialect == "postgresql":
                copy_rows(dbapi, v.id, df)
                dbapi.commit()
            else:
                insert_rows_sqlite(dbapi, v.id, df)
                dbapi.commit()
            total += p.rows
            if (i + 1) % 10 == 0 or i + 1 == len(versions):
                log(f"  {i + 1}/{len(versions)} versions, {total:,} lignes, "
                    f"{time.perf_counter() - t0:.1f} s")
        timings["rows_load_s"] = time.perf_counter() - t0
        timings["rows_generate_s"] = gen_s
        t0 = time.perf_counter()
        if rebuild:
            with dbapi.cursor() as cur:
                cur.execute("ALTER TABLE beneficiary_rows ADD CONSTRAINT uq_beneficiary_rows_version_parcours "
                            "UNIQUE (workbook_version_id, id_parcours)")
                for ix in beneficiary_rows.indexes:
                    cols = ", ".join(col.name for col in ix.columns)
                    cur.execute(f"CREATE INDEX {ix.name} ON beneficiary_rows ({cols})")
                cur.execute("ANALYZE")
            dbapi.commit()
        elif dialect == "postgresql":
            with dbapi.cursor() as cur:
                cur.execute("ANALYZE beneficiary_rows")
            dbapi.commit()
        else:
            dbapi.execute("ANALYZE")
            dbapi.commit()
        timings["indexes_analyze_s"] = time.perf_counter() - t0
    finally:
        raw.close()

    # ---- stored counts, the way the import does it (counts_by_version per version's year)
    t0 = time.perf_counter()
    store_counts([v for _, v in versions])
    timings["counts_s"] = time.perf_counter() - t0
    return {"rows": total, "versions": len(versions), "contracts": len(contracts),
            "contract_ids": [c.id for c in contracts], "operator_ids": [o.id for o in operators],
            "current_versions": sum(1 for p, _ in versions if p.is_current), "timings": timings}


def store_counts(versions) -> None:
    """WorkbookVersion.counts = counts_by_version(...)[id].to_dict(), as
    audit.workbooks.service.deposit stores them (one call per year here)."""
    from platform_core.extensions import db
    from quality_framework.indicators import counts_by_version
    from audit.workbooks.models import beneficiary_rows

    by_year: dict[int, list] = {}
    for v in versions:
        by_year.setdefault(v.year, []).append(v)
    for year, items in sorted(by_year.items()):
        counts = counts_by_version(db.session.connection(), beneficiary_rows, [v.id for v in items], year)
        for v in items:
            v.counts = counts[v.id].to_dict()
        db.session.commit()


def reset_schema() -> None:
    from sqlalchemy import text

    from platform_core.extensions import db

    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        if conn.dialect.name == "postgresql":  # created by migration 0001, outlives its table
            conn.execute(text("DROP FUNCTION IF EXISTS journal_append_only() CASCADE"))
    upgrade_schema()


def upgrade_schema() -> None:
    """The schema comes from the migrations, as in production (flask db upgrade)."""
    from flask_migrate import upgrade

    upgrade()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="total beneficiary rows (all versions)")
    parser.add_argument("--contracts", type=int, default=18)
    parser.add_argument("--years", default="2024-2027", help="2024-2027 or 2024,2025")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=False)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reset", action="store_true", help="drop every table first (throw-away database)")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (ou DATABASE_URL) est obligatoire")
    if args.rows < 1 or args.rows > 20_000_000:
        parser.error("--rows doit être entre 1 et 20 000 000")

    app = make_app(args.database_url)
    with app.app_context():
        if args.reset:
            reset_schema()
        else:
            upgrade_schema()
        started = time.perf_counter()
        result = build_dataset(args.rows, args.contracts, parse_years(args.years), args.seed)
        result["timings"]["total_s"] = time.perf_counter() - started
    print(f"{result['rows']:,} lignes, {result['versions']} versions "
          f"({result['current_versions']} courantes), {result['contracts']} marchés")
    for name, value in result["timings"].items():
        print(f"  {name:20s} {value:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
