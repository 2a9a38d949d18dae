"""National indicators over a large dataset (bench/generate_dataset.py), two ways:

(a) SQL aggregation over the rows: `counts_by_version` over the current versions, then
    `indicators_from_counts` — what a page would cost if it read the rows;
(b) the platform's path: sum of the counts stored per version at import + the same
    `indicators_from_counts` (audit.workbooks.figures.current_versions / indicators_of /
    scope_figures, i.e. what /bilans/indicateurs/ runs).

    .venv/bin/python bench/indicators.py --database-url URL [--year 2027] [--repeat 3] [--explain]

Each measurement runs on a fresh session (no identity-map reuse); the first run of (a)
also warms the database cache, so the median of the repeats is reported. Both ways must
give the same national figures: the script checks it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_ONE_YEAR_S = 2.0
TARGET_FOUR_YEARS_S = 5.0


def _current_versions(year: int):
    from sqlalchemy import select

    from audit.workbooks.models import WorkbookVersion
    from platform_core.extensions import db

    return list(db.session.scalars(select(WorkbookVersion).where(
        WorkbookVersion.year == year, WorkbookVersion.is_current.is_(True))))


def way_a(years: list[int]) -> dict[int, dict]:
    """SQL over the rows of the current versions (same formulas, no stored counts)."""
    from audit.workbooks.models import beneficiary_rows
    from platform_core.extensions import db
    from quality_framework.indicators import (
        counts_by_version, indicators_from_counts, sum_capacity, sum_counts, sum_finances, sum_means,
    )

    result = {}
    for year in years:
        versions = _current_versions(year)
        counts = counts_by_version(db.session.connection(), beneficiary_rows, [v.id for v in versions], year)
        result[year] = indicators_from_counts(
            sum_counts(counts.values()), sum_means(v.means for v in versions),
            sum_finances(v.finances for v in versions),
            sum_capacity(v.contract.annual_capacity for v in versions))
    return result


def counts_single_pass_pg(connection, version_ids: list[int], year: int):
    """PROTOTYPE (PostgreSQL only, not used by the platform): the same counts as
    counts_by_version but the entrée distributions in ONE scan with GROUPING SETS instead
    of one UNION ALL branch (one scan) per dimension. Measured to tell the indicators'
    owner what (a) could cost; the scalar query is the platform's own."""
    from sqlalchemy import text

    from audit.workbooks.models import beneficiary_rows
    from quality_framework.catalog import DISTRIBUTIONS
    from quality_framework.indicators import _scalar_query

    from dataclasses import fields

    from quality_framework.indicators import Counts

    result = {vid: Counts() for vid in version_ids}
    names = [f.name for f in fields(Counts) if f.name != "distributions"]
    for row in connection.execute(_scalar_query(beneficiary_rows, version_ids, year)).mappings():
        c = result[row["workbook_version_id"]]
        for name in names:
            setattr(c, name, (float if name.startswith("heures") else int)(row[name]))
    dims = list(DISTRIBUTIONS)
    sets = ", ".join(f"(workbook_version_id, {d})" for d in dims)
    grouping = ", ".join(f"GROUPING({d}) AS g_{d}" for d in dims)
    sql = (f"SELECT workbook_version_id, {', '.join(dims)}, {grouping}, count(*) AS n "
           "FROM beneficiary_rows WHERE workbook_version_id = ANY(:ids) "
           "AND date_entree BETWEEN :d1 AND :d2 "
           f"GROUP BY GROUPING SETS ({sets})")
    params = {"ids": version_ids, "d1": f"{year}-01-01", "d2": f"{year}-12-31"}
    for row in connection.execute(text(sql), params).mappings():
        for d in dims:
            if row[f"g_{d}"] == 0:
                dist = result[row["workbook_version_id"]].distributions.setdefault(d, {})
                dist[str(row[d])] = dist.get(str(row[d]), 0) + int(row["n"])
                break
    sql = ("SELECT workbook_version_id, type_sortie, count(*) FROM beneficiary_rows "
           "WHERE workbook_version_id = ANY(:ids) AND date_sortie BETWEEN :d1 AND :d2 "
           "AND type_sortie IS NOT NULL GROUP BY 1, 2")
    for vid, code, n in connection.execute(text(sql), params):
        dist = result[vid].distributions.setdefault("type_sortie", {})
        dist[str(code)] = dist.get(str(code), 0) + int(n)
    return result


def way_a_single_pass(years: list[int]) -> dict[int, dict]:
    from platform_core.extensions import db
    from quality_framework.indicators import (
        indicators_from_counts, sum_capacity, sum_counts, sum_finances, sum_means,
    )

    result = {}
    for year in years:
        versions = _current_versions(year)
        counts = counts_single_pass_pg(db.session.connection(), [v.id for v in versions], year)
        result[year] = indicators_from_counts(
            sum_counts(counts.values()), sum_means(v.means for v in versions),
            sum_finances(v.finances for v in versions),
            sum_capacity(v.contract.annual_capacity for v in versions))
    return result


def way_b(years: list[int]) -> dict[int, dict]:
    """Stored counts: exactly the functions the indicator pages call."""
    from audit.workbooks.figures import indicators_of

    return {year: indicators_of(_current_versions(year)) for year in years}


def way_b_page(year: int) -> dict[int, dict]:
    """What /bilans/indicateurs/ computes: every year of every visible contract."""
    from sqlalchemy import select

    from audit.workbooks.figures import scope_figures
    from platform_core.extensions import db
    from tenders.models import Contract

    contracts = list(db.session.scalars(select(Contract)))
    return scope_figures(contracts, year).by_year


def timed(func, *args, repeat: int) -> tuple[list[float], object]:
    from platform_core.extensions import db

    times, value = [], None
    for _ in range(repeat):
        db.session.remove()
        t0 = time.perf_counter()
        value = func(*args)
        times.append(time.perf_counter() - t0)
    db.session.remove()
    return times, value


def _same(a: dict, b: dict) -> bool:
    def norm(v):
        if isinstance(v, float):
            return round(v, 6)
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v
    return norm(a) == norm(b)


def explain(year: int, out: Path) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the two queries of counts_by_version (PostgreSQL) or
    EXPLAIN QUERY PLAN (SQLite); the plans go to `out`, the index list is returned."""
    from sqlalchemy import text

    from audit.workbooks.models import beneficiary_rows
    from platform_core.extensions import db
    from quality_framework.indicators import _distribution_query, _scalar_query

    ids = [v.id for v in _current_versions(year)]
    conn = db.session.connection()
    dialect = db.engine.dialect.name
    lines = []
    for name, query in (("scalaires", _scalar_query(beneficiary_rows, ids, year)),
                        ("répartitions", _distribution_query(beneficiary_rows, ids, year))):
        sql = str(query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
        plan = conn.execute(text(prefix + sql)).all()
        lines.append(f"===== {name} ({year}, {len(ids)} versions)")
        lines.extend(" | ".join(str(x) for x in row) if dialect == "sqlite" else row[0] for row in plan)
    if dialect == "postgresql":
        indexes = [r[0] for r in conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE tablename IN ('beneficiary_rows', 'workbook_versions')"))]
        size = conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('beneficiary_rows'))")).scalar()
    else:
        indexes = [r[0] for r in conn.execute(text(
            "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name IN "
            "('beneficiary_rows', 'workbook_versions') AND sql IS NOT NULL"))]
        size = None
    lines.append("===== index")
    lines.extend(indexes)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db.session.remove()
    return {"indexes": indexes, "table_size": size, "plan_file": str(out)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--year", type=int, help="the one year (default: the latest year with data)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-all-years", type=int, default=1,
                        help="repeats of the slow all-years SQL aggregation (a)")
    parser.add_argument("--skip-a", action="store_true", help="only the platform's path (b)")
    parser.add_argument("--skip-prototype", action="store_true", help="skip the GROUPING SETS prototype (a')")
    parser.add_argument("--explain", action="store_true", help="write the query plans")
    parser.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="PostgreSQL session setting for every connection, e.g. jit=off, work_mem=64MB")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (ou DATABASE_URL) est obligatoire")

    from sqlalchemy import func, select

    from audit.workbooks.models import WorkbookVersion, beneficiary_rows
    from bench.generate_dataset import make_app
    from platform_core.extensions import db

    app = make_app(args.database_url)
    report: dict = {"pg_settings": args.pg_setting}
    with app.app_context():
        dialect = db.engine.dialect.name
        if args.pg_setting and dialect == "postgresql":
            from sqlalchemy import event

            settings = [item.split("=", 1) for item in args.pg_setting]

            @event.listens_for(db.engine, "connect")
            def _settings(dbapi_conn, record):
                with dbapi_conn.cursor() as cur:
                    for name, value in settings:
                        cur.execute("SELECT set_config(%s, %s, false)", (name, value))
                dbapi_conn.commit()

            db.engine.dispose()
            print(f"réglages de session PostgreSQL : {args.pg_setting}")
        years = sorted(db.session.scalars(select(WorkbookVersion.year).distinct()))
        year = args.year or years[-1]
        rows = db.session.scalar(select(func.count()).select_from(beneficiary_rows))
        current_rows = {y: db.session.scalar(select(func.coalesce(func.sum(WorkbookVersion.row_count), 0))
                                             .where(WorkbookVersion.year == y, WorkbookVersion.is_current))
                        for y in years}
        report.update(loadavg_before=os.getloadavg(), dialect=dialect, rows_total=rows, years=years, year=year,
                      current_rows_by_year=current_rows, repeat=args.repeat)
        print(f"charge moyenne (1, 5, 15 min) : {os.getloadavg()} sur {os.cpu_count()} cœurs")
        print(f"{dialect} : {rows:,} lignes au total ; lignes des versions courantes par année : "
              f"{current_rows}")

        def show(label, times, target=None):
            med = statistics.median(times)
            verdict = "" if target is None else (" OK" if med < target else f" > cible {target:.0f} s")
            print(f"  {label:50s} médiane {med * 1000:9.1f} ms, min {min(times) * 1000:9.1f} ms  "
                  f"(essais : {', '.join(f'{t * 1000:.0f}' for t in times)} ms){verdict}")
            return {"median_s": med, "min_s": min(times), "runs_s": times,
                    "loadavg_after": os.getloadavg()[0]}

        checks = {}
        tb1, b1 = timed(way_b, [year], repeat=args.repeat)
        report["b_one_year"] = show(f"(b) comptes stockés, {year}", tb1, TARGET_ONE_YEAR_S)
        tb4, b4 = timed(way_b, years, repeat=args.repeat)
        report["b_all_years"] = show(f"(b) comptes stockés, {len(years)} années", tb4, TARGET_FOUR_YEARS_S)
        tbp, bp = timed(way_b_page, year, repeat=args.repeat)
        report["b_page_function"] = show("(b) scope_figures national (calcul de la page)", tbp)
        if not args.skip_a:
            ta1, a1 = timed(way_a, [year], repeat=args.repeat)
            report["a_one_year"] = show(f"(a) agrégation SQL des lignes, {year}", ta1, TARGET_ONE_YEAR_S)
            ta4, a4 = timed(way_a, years, repeat=args.repeat_all_years)
            report["a_all_years"] = show(f"(a) agrégation SQL des lignes, {len(years)} années", ta4,
                                         TARGET_FOUR_YEARS_S)
            checks["a_equals_b"] = _same(a1[year], b1[year]) and all(_same(a4[y], b4[y]) for y in years)
        if dialect == "postgresql" and not args.skip_prototype:
            ts1, s1 = timed(way_a_single_pass, [year], repeat=args.repeat)
            report["a_single_pass_one_year"] = show(f"(a') prototype GROUPING SETS, {year}", ts1,
                                                    TARGET_ONE_YEAR_S)
            ts4, s4 = timed(way_a_single_pass, years, repeat=args.repeat_all_years)
            report["a_single_pass_all_years"] = show(f"(a') prototype GROUPING SETS, {len(years)} années",
                                                     ts4, TARGET_FOUR_YEARS_S)
            checks["a_single_pass_equals_b"] = all(_same(s4[y], b4[y]) for y in years)
        checks["page_equals_b"] = all(_same(bp[y], b4[y]) for y in years)
        report["checks"] = checks
        print(f"  contrôles : {checks}")
        print(f"  entrées nationales {year} : {b1[year]['entrees']:,} ; taux d'abandon "
              f"{b1[year]['taux_abandon']:.3f}")
        if args.explain:
            out = Path(os.environ.get("CEP_BENCH_OUT", "/tmp/cep-bench")) / f"explain-{dialect}.txt"
            out.parent.mkdir(parents=True, exist_ok=True)
            report["explain"] = explain(year, out)
            print(f"  plans : {out}")
            for ix in report["explain"]["indexes"]:
                print(f"    {ix}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
