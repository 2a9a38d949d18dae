"""Benchmark of the workbook upload path; writes docs/performance-workbooks.md.

    .venv/bin/python bench/workbook_import.py [--rows 200000] [--errors 50000]

1. generates a valid workbook of N rows (audit/workbooks/generator.py);
2. baseline: the time pandas + calamine take to just read the Beneficiaires sheet;
3. check (validate_workbook) then import (audit.workbooks.service.deposit: one
   transaction, executemany into beneficiary_rows, counts) into a throw-away SQLite
   database, peak Python memory measured with tracemalloc and peak RSS with resource;
4. a workbook with E errors: time to produce the full report (JSON and annotated copy).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


CPU = {}


def timed(func, *args, **kwargs):
    """(value, wall seconds, growth of the process peak RSS in MB); the CPU time of the
    call is kept in CPU[func name] (less sensitive to a loaded machine). tracemalloc is
    NOT used while timing: it slows allocation-heavy code several times over."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    value = func(*args, **kwargs)
    elapsed = time.perf_counter() - start
    CPU[getattr(func, "__name__", "?")] = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value, elapsed, (after - before) / 1024


def traced_peak(func, *args, **kwargs) -> float:
    """Peak Python allocation (MB) of a second, untimed run under tracemalloc."""
    tracemalloc.start()
    func(*args, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--errors", type=int, default=50_000)
    parser.add_argument("--cache", help="directory where the generated workbook is kept and reused")
    parser.add_argument("--annotate-all", action="store_true",
                        help="also time the annotated copy of every error (slow)")
    parser.add_argument("--trace", action="store_true", help="also measure the check under tracemalloc")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance-workbooks.md"))
    args = parser.parse_args()

    import pandas as pd
    from openpyxl import load_workbook

    from audit.workbooks import service
    from audit.workbooks.generator import generate_workbook
    from flask_migrate import upgrade

    from platform_core import create_app
    from platform_core.extensions import db
    from platform_core.models import Organisation
    from quality_framework.workbook import validate_workbook
    from quality_framework.workbook.annotate import annotated_workbook
    from tenders.models import Contract

    siret, region, year = "99900000001001", "53", 2025
    lines = []
    t0 = time.perf_counter()
    cache = Path(args.cache) / f"bench-{args.rows}.xlsx" if args.cache else None
    reused = bool(cache and cache.exists())
    if reused:
        data = cache.read_bytes()
    else:
        data = generate_workbook(siret=siret, region_code=region, year=year, n_rows=args.rows, seed=1)
        if cache:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(data)
    gen_s = time.perf_counter() - t0
    load_before = os.getloadavg()[0]

    _, read_s, read_mb = timed(pd.read_excel, io.BytesIO(data), sheet_name="Beneficiaires", engine="calamine")

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                          "INSTANCE_DIR": tmp, "UPLOAD_DIR": f"{tmp}/files", "SCHEDULER_ENABLED": False})
        with app.app_context():
            upgrade()  # the schema from the migrations, as in production
            org = Organisation(siret=siret, name="Opérateur de mesure (fictif)", kind="OPERATEUR", region_code=region)
            db.session.add(org)
            db.session.flush()
            contract = Contract(reference="BENCH-53", operator_id=org.id, region_code=region,
                                starts_on=date(2024, 1, 1), ends_on=date(2027, 12, 31),
                                annual_capacity=args.rows, annual_price=Decimal("1"))
            db.session.add(contract)
            db.session.commit()
            result, check_s, check_mb = timed(service.check, data, contract, year)
            check_traced = traced_peak(service.check, data, contract, year) if args.trace else None
            assert result.valid, result.to_text(limit=5)
            version, import_s, import_mb = timed(service.deposit, result, data, "bench.xlsx", "xlsx", contract, year)
            rows_stored = version.row_count
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # A workbook with many errors: every `sexe` of the first E rows is wrong.
    wb = load_workbook(io.BytesIO(generate_workbook(siret=siret, region_code=region, year=year,
                                                    n_rows=args.errors, seed=2)))
    ws = wb["Beneficiaires"]
    for row in ws.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].value = "X"
    buf = io.BytesIO()
    wb.save(buf)
    bad = buf.getvalue()
    bad_result, bad_s, bad_mb = timed(validate_workbook, bad, expected_siret=siret,
                                      allowed_regions={region}, year=year, contract_region=region)
    json_s = timed(lambda: json.dumps(bad_result.to_json(), ensure_ascii=False))[1]
    from audit.workbooks.service import ANNOTATE_LIMIT

    capped = type(bad_result)(errors=bad_result.errors[:ANNOTATE_LIMIT], warnings=[], lines=bad_result.lines)
    annotated_capped_s = timed(annotated_workbook, bad, capped)[1]
    capped_cpu = CPU["annotated_workbook"]
    annotated_s = timed(annotated_workbook, bad, bad_result)[1] if args.annotate_all else None
    load_after = os.getloadavg()[0]

    lines += [
        "# Performance du dépôt des bilans d'activité",
        "",
        f"Mesuré le {date.today():%d/%m/%Y} avec `bench/workbook_import.py` "
        f"(Python {platform.python_version()}, {platform.machine()}, SQLite fichier, "
        "machine de développement partagée : les temps varient d'une exécution à l'autre).",
        "",
        f"## Classeur valide de {args.rows:,} lignes".replace(",", " "),
        "",
        f"Charge moyenne de la machine (1 min) : {load_before:.1f} au début, {load_after:.1f} à la fin "
        f"({os.cpu_count()} processeurs). Le temps processeur est moins sensible à la charge que la durée.",
        "",
        "| étape | durée | temps processeur | hausse du pic de mémoire résidente |",
        "|---|---|---|---|",
        f"| génération du classeur (openpyxl, hors dépôt{', fichier réutilisé' if reused else ''}) | {gen_s:.1f} s | — | — |",
        f"| référence : pandas + calamine, lecture seule de la feuille | {read_s:.1f} s | {CPU['read_excel']:.1f} s | {read_mb:.0f} Mo |",
        f"| vérification complète (`service.check`) | {check_s:.1f} s | {CPU['check']:.1f} s | {check_mb:.0f} Mo |",
        f"| import (`service.deposit` : une transaction, {rows_stored} lignes, comptages) | {import_s:.1f} s | {CPU['deposit']:.1f} s | {import_mb:.0f} Mo |",
        f"| **total vérification + import** | **{check_s + import_s:.1f} s** "
        f"(= {(check_s + import_s) / read_s:.1f} × la simple lecture) | "
        f"{CPU['check'] + CPU['deposit']:.1f} s (= {(CPU['check'] + CPU['deposit']) / CPU['read_excel']:.1f} ×) | |",
        "",
        f"Pic de mémoire résidente du processus (ru_maxrss) : {rss_mb:.0f} Mo. "
        f"Taille du fichier : {len(data) / 1e6:.1f} Mo."
        + (f" Pic d'allocation Python de la vérification (tracemalloc, exécution séparée) : {check_traced:.0f} Mo."
           if check_traced else ""),
        "",
        f"## Classeur de {args.errors:,} lignes avec {len(bad_result.errors):,} erreurs".replace(",", " "),
        "",
        "| étape | durée | temps processeur |",
        "|---|---|---|",
        f"| vérification et rapport complet | {bad_s:.1f} s | {CPU['validate_workbook']:.1f} s |",
        f"| rapport JSON | {json_s:.2f} s | — |",
        f"| classeur annoté, {ANNOTATE_LIMIT} premiers problèmes (ce que fait la plateforme, après "
        f"l'affichage du rapport) | {annotated_capped_s:.1f} s | {capped_cpu:.1f} s |",
    ] + ([f"| classeur annoté, toutes les erreurs | {annotated_s:.1f} s | {CPU['annotated_workbook']:.1f} s |"]
         if annotated_s else []) + [
        "",
        "Sur la plateforme, la vérification et l'import tournent dans un fil d'exécution en arrière-plan ; "
        "la page de suivi se recharge toutes les deux secondes jusqu'à la fin.",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
