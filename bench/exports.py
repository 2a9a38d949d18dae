"""Exports at national scale: the « rapport d'analyse des offres » (xlsx and printable
page) of a tender of 18 lots x 10 bids, and the national fund-use xlsx of 18 contracts x
4 years. Target of the performance issue: each export under 5 s. Writes its section of
docs/performance-exports.md (one section per database engine).

    .venv/bin/python bench/exports.py                                   # throw-away SQLite file
    .venv/bin/python bench/exports.py --database-url postgresql+psycopg://… --reset

1. schema by the migrations (`flask db upgrade`, as in production) on a throw-away
   database: a temporary SQLite file by default; with `--database-url`, `--reset` drops
   every table first (throw-away database only);
2. fund-use data: `bench/generate_dataset.build_dataset` (18 contracts, workbook versions
   for 2024-2027 with their stored counts; few rows: the report reads stored counts, not
   rows) and `bench/load_pages.prepare_page_data` (payments for every contract-year,
   validated audits, a tender in evaluation);
3. the consultation to report on: 18 lots (one per region) x 10 deposited bids, each with
   its 4 mandatory PDF pieces, two evaluators' marks (plus a moderation on the first bid
   of each lot), every lot awarded;
4. through the Flask test client, signed in as the bench officer (real /connexion form
   with its CSRF token): one warm-up request, then `--repeat` timed requests of
   `/appels-offres/<id>/rapport.xlsx`, `/appels-offres/<id>/rapport` and
   `/suivi/usage-des-fonds/export.xlsx?annee=YEAR`; the xlsx files are opened with
   openpyxl and their sheets checked; SQL statements counted on one more request
   (the data building's objects are collected and frozen first: `gc.freeze()`);
   `--profile` prints a cProfile of one request of each.

No assertion on time here or in the tests (tests/perf/test_bench_scripts.py runs this
script at tiny scale so it cannot rot): the figures go to the documentation.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import re
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_S = 5.0
TENDER_REFERENCE = "AO-EXPORTS-1"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FUND_USE_SHEETS = {"Contrats", "Régions", "National", "Évolution", "Paiements", "Sources"}


# --------------------------------------------------------------------------- data

def build_tender(lots: int, bids_per_lot: int, operator_ids: list[int], officer_id: int) -> int:
    """A consultation with `lots` lots x `bids_per_lot` deposited bids, awarded; returns its id.
    Bids come from the generator's operators (plus more fictitious ones if needed)."""
    from platform_core.extensions import db
    from platform_core.files import store_bytes
    from platform_core.models import Organisation, User, UserRole
    from quality_framework.reference import regions
    from tenders.models import (DEFAULT_DOCUMENTS, Bid, BidDocument, EvaluatorAssignment, Lot, ManualMark,
                                Tender)
    from bench.generate_dataset import BENCH_DOMAIN

    officer = db.session.get(User, officer_id)
    evaluators = []
    for k in (1, 2):
        user = User(email=f"bench.evaluateur.export{k}@{BENCH_DOMAIN}", full_name=f"Évaluatrice de mesure {k}",
                    password_hash=officer.password_hash, must_change_password=False,
                    roles=[UserRole(role="evaluateur")])
        db.session.add(user)
        evaluators.append(user)
    operators = [db.session.get(Organisation, i) for i in operator_ids[:bids_per_lot]]
    for k in range(len(operators), bids_per_lot):
        org = Organisation(siret=f"998{k:011d}", name=f"Candidat de mesure {k + 1} (fictif)", kind="OPERATEUR",
                           region_code="53")
        db.session.add(org)
        operators.append(org)
    db.session.flush()

    deadline = datetime.utcnow().replace(microsecond=0) - timedelta(days=30)
    tender = Tender(
        reference=TENDER_REFERENCE, title="Consultation nationale de mesure des exports (fictive)",
        period_start=date(2027, 1, 1), period_end=date(2030, 12, 31),
        publication_at=deadline - timedelta(days=40), questions_deadline=deadline - timedelta(days=10),
        submission_deadline=deadline, opening_at=deadline + timedelta(hours=1),
        weights={"CAPACITE": 30, "COUVERTURE": 25, "PROFESSIONNALISATION": 20, "PRIX": 15, "METHODO": 10},
        manual_criteria=[{"code": "METHODO", "label": "Qualité de la méthodologie"}],
        parameters={"entrees_max_par_etp": 220, "delai_cible_jours": 5, "delai_max_jours": 30,
                    "heures_hors_temps_cible": 8, "experience_cible_annees": 5, "formation_cible_heures": 35},
        mandatory_documents=list(DEFAULT_DOCUMENTS), status="ATTRIBUEE")
    region_items = list(regions().items())
    for i in range(lots):
        code, region = region_items[i % len(region_items)]
        tender.lots.append(Lot(number=i + 1, title=f"Lot {i + 1} — {region.name}", region_codes=[code],
                               annual_demand=40000))
    db.session.add(tender)
    db.session.flush()
    # One stored file per piece and bid, as after real uploads.
    for lot in tender.lots:
        deps = regions()[lot.region_codes[0]].departements
        for k, org in enumerate(operators):
            bid = Bid(lot_id=lot.id, operator_id=org.id, status="DEPOSEE",
                      answers={"capacite_annuelle": 20000 + 1500 * k, "etp_conseillers": 40 + 3 * k,
                               "delai_premier_rdv_jours": 3 + k % 10,
                               "sites": [{"commune": f"Commune {d}", "departement": d, "type": "PERMANENT"}
                                         for d in deps[: 1 + k % len(deps)]],
                               "canaux_distance": ["TELEPHONE", "VISIO"], "heures_hors_temps_travail_hebdo": 2 + k % 8,
                               "nb_conseillers": 45 + 4 * k, "nb_conseillers_qualifies": 30 + k,
                               "experience_moyenne_annees": 2 + k % 6, "heures_formation_par_etp": 10 + 3 * k,
                               "analyse_des_pratiques": k % 3 != 2, "prix_annuel_eur": (15 + k) * 1_000_000},
                      neutrality_declared=True, submitted_at=deadline - timedelta(hours=k + 1),
                      admissible=True, admissibility_reason="Confirmé.", auto_admissibility=[],
                      final_rank=k + 1, final_total=80.0 - k)
            db.session.add(bid)
            db.session.flush()
            stored = [store_bytes(PDF + f"% {lot.number}-{k}-{doc}\n".encode(), f"{doc}.pdf", "pdf")
                      for doc in DEFAULT_DOCUMENTS]
            db.session.flush()
            for doc, file in zip(DEFAULT_DOCUMENTS, stored):
                db.session.add(BidDocument(bid_id=bid.id, doc_type=doc, stored_file_id=file.id))
            for e, user in enumerate(evaluators):
                db.session.add(ManualMark(bid_id=bid.id, criterion="METHODO", evaluator_id=user.id,
                                          mark=1 + (k + e) % 4,
                                          justification=f"Méthodologie notée par l'évaluatrice {e + 1}."))
            if k == 0:
                db.session.add(ManualMark(bid_id=bid.id, criterion="METHODO", evaluator_id=officer.id,
                                          is_moderation=True, mark=2.5, justification="Harmonisation."))
                lot.awarded_bid_id = bid.id
        lot.status, lot.crefop_opinion, lot.crefop_date = "ATTRIBUE", "FAVORABLE", date(2026, 6, 1)
        for user in evaluators:
            db.session.add(EvaluatorAssignment(lot_id=lot.id, user_id=user.id, coi_declared_at=deadline,
                                               coi_statement="Aucun conflit.", marks_submitted_at=deadline))
    db.session.commit()
    return tender.id


def prepare(args) -> dict:
    """Schema and data, in the current app context; returns ids and sizes."""
    from sqlalchemy import func, select

    from audit.fund_use.models import Payment
    from audit.workbooks.models import WorkbookVersion
    from bench.generate_dataset import BENCH_DOMAIN, build_dataset, parse_years, reset_schema, upgrade_schema
    from bench.load_pages import prepare_page_data
    from platform_core.extensions import db
    from platform_core.models import User
    from tenders.models import Bid, BidDocument, ManualMark

    if args.reset:
        reset_schema()
    else:
        upgrade_schema()
    timings = {}
    t0 = time.perf_counter()
    info = build_dataset(args.rows, args.contracts, parse_years(args.years), log=lambda *_: None)
    year = args.year or max(parse_years(args.years))
    prepare_page_data(year)  # payments for every contract-year, audits, a tender in evaluation
    timings["fund_use_data_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    officer = db.session.scalar(select(User).where(User.email == f"bench.acheteur@{BENCH_DOMAIN}"))
    tender_id = build_tender(args.lots, args.bids, info["operator_ids"], officer.id)
    timings["tender_data_s"] = time.perf_counter() - t0

    def count(stmt):
        return db.session.scalar(select(func.count()).select_from(stmt))

    sizes = {
        "contracts": info["contracts"], "versions": info["versions"], "rows": info["rows"],
        "current_versions": count(select(WorkbookVersion).where(WorkbookVersion.is_current).subquery()),
        "payments": count(select(Payment).subquery()),
        "tender_bids": count(select(Bid).where(Bid.lot.has(tender_id=tender_id)).subquery()),
        "tender_documents": count(select(BidDocument).join(Bid).where(Bid.lot.has(tender_id=tender_id)).subquery()),
        "tender_marks": count(select(ManualMark).join(Bid).where(Bid.lot.has(tender_id=tender_id)).subquery()),
    }
    return {"tender_id": tender_id, "year": year, "officer_email": officer.email, "sizes": sizes,
            "timings": timings}


# --------------------------------------------------------------------------- measure

def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_report_xlsx(data: bytes, lots: int, bids: int) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    expected = {"Synthèse", *(f"Lot {i}" for i in range(1, lots + 1))}
    missing = expected - set(wb.sheetnames)
    assert not missing, f"feuilles manquantes : {sorted(missing)}"
    body = sum(1 for _ in wb["Lot 1"].iter_rows(min_row=2))
    assert body == bids, f"Lot 1 : {body} lignes d'offres au lieu de {bids}"
    return f"{len(wb.sheetnames)} feuilles (Synthèse + {lots} lots), {body} offres par lot"


def check_fund_use_xlsx(data: bytes, contracts: int) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))  # not read-only: charts are part of the file
    missing = FUND_USE_SHEETS - set(wb.sheetnames)
    assert not missing, f"feuilles manquantes : {sorted(missing)}"
    body = wb["Contrats"].max_row - 1
    assert body >= contracts, f"Contrats : {body} lignes au lieu de {contracts}"
    charts = sum(len(ws._charts) for ws in wb.worksheets)
    return f"{len(wb.sheetnames)} feuilles ({', '.join(wb.sheetnames)}), {body} contrats, {charts} graphiques"


def check_report_html(data: bytes, lots: int) -> str:
    text = data.decode()
    found = len(set(re.findall(r"Lot (\d+) —", text)))
    assert found >= lots, f"{found} lots dans la page au lieu de {lots}"
    return f"{found} lots dans la page"


def measure(client, engine, url: str, repeat: int, profile: bool) -> dict:
    from bench.common import count_statements

    warm = client.get(url)
    if warm.status_code != 200:
        raise SystemExit(f"{url} -> {warm.status_code} : {warm.get_data()[:300]!r}")
    times, cpu = [], []
    rss_before = rss_mb()
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert response.status_code == 200, url
    with count_statements(engine) as statements:
        data = client.get(url).get_data()
    result = {"url": url, "n": repeat, "median_s": statistics.median(times), "max_s": max(times),
              "min_s": min(times), "cpu_median_s": statistics.median(cpu), "bytes": len(data),
              "statements": len(statements), "rss_growth_mb": rss_mb() - rss_before,
              "content_type": response.headers.get("Content-Type", ""), "_data": data}
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        client.get(url)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        result["profile"] = out.getvalue()
    return result


# --------------------------------------------------------------------------- report

def fmt_bytes(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


def section(engine: str, args, info: dict, results: dict, load: tuple, rss: float) -> list[str]:
    sizes = info["sizes"]
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    lines = [
        f"### {engine}",
        "",
        f"Measured on {datetime.now():%Y-%m-%d %H:%M} with `bench/exports.py` — {engine}"
        f" {info['server_version']}, Python {platform.python_version()}, {os.cpu_count()} CPUs (`nproc`),"
        f" {mem:.0f} GiB RAM; load average (1 min) {load[0]:.2f} before the data, {load[1]:.2f} before the"
        f" timings, {load[2]:.2f} at the end.",
        "",
        "```",
        " ".join([".venv/bin/python bench/exports.py", *info["argv"]]),
        "```",
        "",
        f"Data: tender of {args.lots} lots × {args.bids} bids ({sizes['tender_bids']} bids, "
        f"{sizes['tender_documents']} documents, {sizes['tender_marks']} marks); fund use: "
        f"{sizes['contracts']} contracts, {sizes['versions']} workbook versions ({sizes['current_versions']} current, "
        f"years {args.years}, {sizes['rows']:_} rows in all) and {sizes['payments']} payments (built in "
        f"{info['timings']['fund_use_data_s']:.1f} s + {info['timings']['tender_data_s']:.1f} s).".replace("_", " "),
        "",
        f"| export | requests | median | max | CPU (median) | file | SQL statements | target < {TARGET_S:.0f} s |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        verdict = "OK" if r["max_s"] < TARGET_S else "**not met**"
        lines.append(f"| {name} (`{r['url']}`) | 1 + {r['n']} | {r['median_s']:.2f} s | {r['max_s']:.2f} s | "
                     f"{r['cpu_median_s']:.2f} s | {fmt_bytes(r['bytes'])} | {r['statements']} | {verdict} |")
    lines += [
        "",
        "Checks: " + "; ".join(f"{name}: {r['check']}" for name, r in results.items()) + ".",
        "",
        f"Peak RSS of the process (data building included, `ru_maxrss`): {rss:.0f} MiB; growth during the "
        "timed requests: " + ", ".join(f"{name} {r['rss_growth_mb']:.0f} MiB" for name, r in results.items()) + ".",
        "",
    ]
    return lines


def write_section(path: Path, key: str, lines: list[str]) -> None:
    """Replace this engine's block between markers (or append it): the two runs (SQLite,
    PostgreSQL) fill one document, the hand-written text around them is kept."""
    begin, end = f"<!-- bench/exports.py:{key} -->", f"<!-- /bench/exports.py:{key} -->"
    block = "\n".join([begin, *lines, end])
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance of the exports\n\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None,
                        help="throw-away database (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="drop every table first (throw-away database)")
    parser.add_argument("--lots", type=int, default=18)
    parser.add_argument("--bids", type=int, default=10, help="bids per lot")
    parser.add_argument("--contracts", type=int, default=18)
    parser.add_argument("--years", default="2024-2027")
    parser.add_argument("--year", type=int, help="fund-use year (default: the last of --years)")
    parser.add_argument("--rows", type=int, default=20_000,
                        help="beneficiary rows in all (the fund-use report reads stored counts, not rows)")
    parser.add_argument("--repeat", type=int, default=10, help="timed requests per export, after one warm-up")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one request of each export")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance-exports.md"),
                        help="markdown file whose section for this engine is (re)written; '-' for none")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.lots < 1 or args.lots > 18 or args.bids < 1 or args.repeat < 1:
        parser.error("--lots entre 1 et 18, --bids et --repeat au moins 1")

    from sqlalchemy import text

    from bench.common import signed_in_client
    from bench.generate_dataset import BENCH_PASSWORD, make_app
    from platform_core.extensions import db

    argv_shown = [a if not a.startswith("postgresql") else re.sub(r"//[^@]*@", "//…@", a)
                  for a in (argv if argv is not None else sys.argv[1:])]
    tmp = tempfile.TemporaryDirectory(prefix="cep-bench-exports-")
    url = args.database_url or f"sqlite:///{tmp.name}/exports.sqlite3"
    instance = os.environ.get("CEP_BENCH_INSTANCE", f"{tmp.name}/instance")
    load_start = os.getloadavg()[0]
    app = make_app(url, instance)
    app.config.update(LOGIN_RATE_LIMIT="10000 per minute")
    with app.app_context():
        engine_name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(db.engine.dialect.name,
                                                                          db.engine.dialect.name)
        version = db.session.execute(text("SELECT sqlite_version()" if db.engine.dialect.name == "sqlite"
                                          else "SHOW server_version")).scalar()
        t0 = time.perf_counter()
        info = prepare(args)
        print(f"données prêtes en {time.perf_counter() - t0:.1f} s : {info['sizes']}")
        engine = db.engine
    # The objects left by the data building would make every garbage collection of the
    # timed requests slower than in a web worker: collect them and freeze the survivors.
    gc.collect()
    gc.freeze()
    info.update(server_version=str(version).split(" ")[0], argv=argv_shown)

    client = signed_in_client(app, info["officer_email"], BENCH_PASSWORD)
    load_timed = os.getloadavg()[0]
    pages = {
        "rapport d'analyse des offres, xlsx": (f"/appels-offres/{info['tender_id']}/rapport.xlsx",
                                               lambda d: check_report_xlsx(d, args.lots, args.bids)),
        "rapport d'analyse des offres, page": (f"/appels-offres/{info['tender_id']}/rapport",
                                               lambda d: check_report_html(d, args.lots)),
        "national fund-use xlsx": (f"/suivi/usage-des-fonds/export.xlsx?annee={info['year']}",
                                   lambda d: check_fund_use_xlsx(d, args.contracts)),
    }
    results = {}
    for name, (path, check) in pages.items():
        r = measure(client, engine, path, args.repeat, args.profile)
        r["check"] = check(r.pop("_data"))
        results[name] = r
        verdict = "OK" if r["max_s"] < TARGET_S else "CIBLE NON ATTEINTE"
        print(f"  {name:40s} médiane {r['median_s']:6.2f} s  max {r['max_s']:6.2f} s  "
              f"CPU {r['cpu_median_s']:5.2f} s  {fmt_bytes(r['bytes']):>9s}  {r['statements']:3d} requêtes SQL  "
              f"{verdict} (< {TARGET_S:.0f} s) — {r['check']}")
        if args.profile:
            print(r["profile"])
    load_end = os.getloadavg()[0]
    rss = rss_mb()
    print(f"pic de mémoire résidente {rss:.0f} Mio ; charge moyenne {load_start:.2f} → {load_timed:.2f} → "
          f"{load_end:.2f} ({os.cpu_count()} cœurs)")
    with app.app_context():
        db.engine.dispose()
    if args.out != "-":
        write_section(Path(args.out), engine_name.lower(),
                      section(engine_name, args, info, results, (load_start, load_timed, load_end), rss))
    if args.json:
        report = {"engine": engine_name, "target_s": TARGET_S, "sizes": info["sizes"], "timings": info["timings"],
                  "loadavg": [load_start, load_timed, load_end], "peak_rss_mb": rss,
                  "exports": {k: {kk: vv for kk, vv in v.items() if kk != "profile"} for k, v in results.items()}}
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
