"""Benchmark of the workbook upload path; writes docs/performance-workbooks.md.

    .venv/bin/python bench/workbook_import.py [--rows 10000,50000,200000]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:55499/postgres]
        [--naive-max-rows 50000] [--errors 50000] [--cache /tmp/wbcache]

For each size, a valid workbook is generated once (audit/workbooks/generator.py, kept in
--cache), then each (size, database) is measured in a FRESH process, so that its peak
memory is its own:
1. the deposit job exactly as the upload page runs it (`service.create_upload` then
   `service.run_upload`: temporary copy, check, one transaction with rows, counts and
   journal, indicators shown from the stored counts), with the time of `service.check` and
   `service.deposit` inside it, into a throw-away database built by the migrations
   (SQLite file; PostgreSQL: a database created and dropped on the server of
   --postgres-url); then a « vérifier sans déposer » job on the same file;
2. in the same process, afterwards, the reference: the time pandas + calamine take just to
   read the Beneficiaires sheet, and the size of that DataFrame (memory_usage(deep=True));
3. for sizes up to --naive-max-rows, in another fresh process, the naive alternative:
   openpyxl reading the sheet cell by cell, then one INSERT per row.
Finally a workbook with E errors: time of the full report (JSON and annotated copy).

Targets (issue « performance at national scale »): the deposit job within 1.5 × the
reference read; peak memory growth within 3 × the DataFrame. The figures are written as
measured; nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIRET, REGION, YEAR = "99900000001001", "53", 2025


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_mb() -> float:
    """Peak resident set size since the last `reset_peak()` (Linux VmHWM), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def reset_peak() -> None:
    """Forget the peaks of what ran before (migrations, warm-up): Linux resets VmHWM to
    the current size when « 5 » is written to clear_refs."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def workbook(rows: int, cache: Path) -> Path:
    from audit.workbooks.generator import generate_workbook

    path = cache / f"bench-{rows}.xlsx"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(generate_workbook(siret=SIRET, region_code=REGION, year=YEAR, n_rows=rows, seed=1))
    return path


# --------------------------------------------------------------------------- databases

class ThrowAwayDatabase:
    """A SQLite file in a temporary directory, or a new database on a PostgreSQL server."""

    def __init__(self, postgres_url: str | None):
        self.tmp = tempfile.TemporaryDirectory()
        self.admin_url = postgres_url
        if postgres_url:
            self.name = f"cep_bench_import_{uuid.uuid4().hex[:8]}"
            self._admin(f'CREATE DATABASE "{self.name}"')
            self.url = postgres_url.rsplit("/", 1)[0] + f"/{self.name}"
        else:
            self.url = f"sqlite:///{self.tmp.name}/bench.sqlite3"

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()

    def close(self) -> None:
        if self.admin_url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.tmp.cleanup()


def platform_app(url: str, tmp: str):
    from platform_core import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": tmp,
                       "UPLOAD_DIR": f"{tmp}/files", "SCHEDULER_ENABLED": False})


def bench_contract(rows: int):
    from platform_core.extensions import db
    from platform_core.models import Organisation
    from tenders.models import Contract

    org = Organisation(siret=SIRET, name="Opérateur de mesure (fictif)", kind="OPERATEUR", region_code=REGION)
    db.session.add(org)
    db.session.flush()
    contract = Contract(reference="BENCH-53", operator_id=org.id, region_code=REGION,
                        starts_on=date(2024, 1, 1), ends_on=date(2027, 12, 31),
                        annual_capacity=rows, annual_price=Decimal("1"))
    db.session.add(contract)
    db.session.commit()
    return contract


# --------------------------------------------------------------------------- one measurement

def measure_platform(path: Path, postgres_url: str | None) -> dict:
    """The deposit job as the upload page runs it, then a dry run of the same file, then
    the reference read, in this (fresh) process."""
    import pandas as pd
    from flask_migrate import upgrade

    from audit.workbooks import service

    data = path.read_bytes()
    base = ThrowAwayDatabase(postgres_url)
    try:
        app = platform_app(base.url, base.tmp.name)
        with app.app_context():
            upgrade()  # the schema from the migrations, as in production
            contract = bench_contract(10 ** 6)
            # Warm-up on a tiny workbook (checked and deposited: the measured deposit is
            # then version 2, as a re-deposit): lazily imported modules and caches are not
            # counted as the big workbook's memory.
            from audit.workbooks.generator import generate_workbook

            tiny = generate_workbook(siret=SIRET, region_code=REGION, year=YEAR, n_rows=10, seed=3)
            warm = service.create_upload(tiny, "warm-up.xlsx", "xlsx", contract, YEAR, None, dry_run=False)
            assert service.run_upload(warm.id).outcome == "depose"  # version 1
            stages = timed_stages(service)
            reset_peak()
            rss_before = rss_mb()
            t0, c0 = time.perf_counter(), time.process_time()
            upload = service.create_upload(data, "bench.xlsx", "xlsx", contract, YEAR, None, dry_run=False)
            upload = service.run_upload(upload.id)
            t1, c1 = time.perf_counter(), time.process_time()
            peak = peak_mb()
            assert upload.outcome == "depose", (upload.outcome, upload.message)
            stored = upload.row_count
            job = {"job_s": t1 - t0, "job_cpu_s": c1 - c0, "check_s": stages["check"],
                   "import_s": stages["deposit"]}
            # « Vérifier sans déposer » on the same file: check + indicators of the rows.
            d0 = time.perf_counter()
            dry = service.run_upload(service.create_upload(data, "bench.xlsx", "xlsx", contract, YEAR,
                                                           None, dry_run=True).id)
            job["dry_run_s"] = time.perf_counter() - d0
            assert dry.outcome == "valide", (dry.outcome, dry.message)
        r0, rc0 = time.perf_counter(), time.process_time()
        frame = pd.read_excel(io.BytesIO(data), sheet_name="Beneficiaires", engine="calamine")
        r1, rc1 = time.perf_counter(), time.process_time()
        frame_mb = frame.memory_usage(deep=True).sum() / 1e6
    finally:
        base.close()
    return {"rows": stored, "file_mb": len(data) / 1e6, **job, "read_s": r1 - r0, "read_cpu_s": rc1 - rc0,
            "frame_mb": frame_mb, "rss_before_mb": rss_before, "peak_growth_mb": peak - rss_before,
            "peak_mb": peak}


def timed_stages(service) -> dict:
    """Wall time of `service.check` and `service.deposit` inside the job (run_upload
    calls them through the module, so wrapping the module's names times the real calls)."""
    stages = {"check": 0.0, "deposit": 0.0}
    for name in stages:
        original = getattr(service, name)

        def wrapped(*args, _original=original, _name=name, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                stages[_name] += time.perf_counter() - start
        setattr(service, name, wrapped)
    return stages


def measure_naive(path: Path, postgres_url: str | None) -> dict:
    """What a first implementation would do: openpyxl cell by cell, one INSERT per row
    (no validation at all, so it is a lower bound of that approach)."""
    from openpyxl import load_workbook
    from sqlalchemy import create_engine, insert

    from audit.workbooks.models import beneficiary_rows
    from flask_migrate import upgrade

    base = ThrowAwayDatabase(postgres_url)
    try:
        app = platform_app(base.url, base.tmp.name)
        with app.app_context():
            upgrade()
            from audit.workbooks.models import WorkbookVersion
            from platform_core.extensions import db
            from platform_core.files import store_bytes

            contract = bench_contract(10 ** 6)
            version = WorkbookVersion(contract_id=contract.id, year=YEAR, number=1, is_current=True,
                                      stored_file=store_bytes(path.read_bytes(), "naive.xlsx", "xlsx"),
                                      row_count=0, warning_count=0)
            db.session.add(version)
            db.session.commit()
            version_id = version.id
        t0 = time.perf_counter()
        wb = load_workbook(path, read_only=True, data_only=True)
        ws = wb["Beneficiaires"]
        grid = []
        for row in ws.iter_rows():
            grid.append([cell.value for cell in row])
        wb.close()
        t1 = time.perf_counter()
        header, body = grid[0], grid[1:]
        engine = create_engine(base.url)
        with engine.begin() as conn:
            for values in body:
                record = dict(zip(header, values))
                record["workbook_version_id"] = version_id
                conn.execute(insert(beneficiary_rows), record)
        engine.dispose()
        t2 = time.perf_counter()
    finally:
        base.close()
    return {"naive_read_s": t1 - t0, "naive_insert_s": t2 - t1, "naive_rows": len(body)}


def child(kind: str, rows: int, cache: str, postgres_url: str | None) -> dict:
    """Runs one measurement in a fresh interpreter; returns its JSON."""
    args = [sys.executable, __file__, "--child", kind, "--rows", str(rows), "--cache", cache]
    if postgres_url:
        args += ["--postgres-url", postgres_url]
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"mesure {kind} {rows} en échec :\n{out.stdout[-2000:]}{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- errors

def measure_errors(rows: int) -> list[str]:
    from openpyxl import load_workbook

    from audit.workbooks.generator import generate_workbook
    from audit.workbooks.service import ANNOTATE_LIMIT
    from quality_framework.workbook import validate_workbook
    from quality_framework.workbook.annotate import annotated_workbook

    wb = load_workbook(io.BytesIO(generate_workbook(siret=SIRET, region_code=REGION, year=YEAR,
                                                    n_rows=rows, seed=2)))
    for row in wb["Beneficiaires"].iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].value = "X"  # every `sexe` is wrong
    buf = io.BytesIO()
    wb.save(buf)
    bad = buf.getvalue()
    t0 = time.perf_counter()
    result = validate_workbook(bad, expected_siret=SIRET, allowed_regions={REGION}, year=YEAR,
                               contract_region=REGION)
    t1 = time.perf_counter()
    json.dumps(result.to_json(), ensure_ascii=False)
    t2 = time.perf_counter()
    capped = type(result)(errors=result.errors[:ANNOTATE_LIMIT], warnings=[], lines=result.lines)
    annotated_workbook(bad, capped)
    t3 = time.perf_counter()
    n = lambda v: f"{v:,}".replace(",", " ")  # noqa: E731
    return [
        f"## Classeur de {n(rows)} lignes avec {n(len(result.errors))} erreurs",
        "",
        "| étape | durée |",
        "|---|---|",
        f"| vérification et rapport complet | {t1 - t0:.1f} s |",
        f"| rapport JSON | {t2 - t1:.2f} s |",
        f"| classeur annoté, {ANNOTATE_LIMIT} premiers problèmes (ce que fait la plateforme, après "
        f"l'affichage du rapport) | {t3 - t2:.1f} s |",
    ]


# --------------------------------------------------------------------------- report

def report(results: list[dict], naive: dict, args, load: tuple[float, float], error_lines: list[str]) -> str:
    n = lambda v: f"{v:,}".replace(",", " ")  # noqa: E731
    lines = [
        "# Performance du dépôt des bilans d'activité",
        "",
        f"Mesuré le {date.today():%d/%m/%Y} avec `bench/workbook_import.py` (Python "
        f"{platform.python_version()}, {os.cpu_count()} processeurs, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} Gio de mémoire ; "
        f"charge moyenne 1 min {load[0]:.1f} au début, {load[1]:.1f} à la fin).",
        "",
        "```",
        "python bench/workbook_import.py " + " ".join(a for a in sys.argv[1:]),
        "```",
        "",
        "Chaque mesure tourne dans un processus neuf. « Dépôt complet » = le traitement tel que "
        "la page de dépôt le lance (`service.create_upload` puis `service.run_upload` : copie "
        "temporaire, vérification, import, indicateurs affichés, suivi du traitement), dont "
        "« vérification » = `service.check` (contrôle de l'archive et de l'étendue des feuilles "
        "avant calamine, lecture de toutes les feuilles, validation complète) et « import » = "
        "`service.deposit` (une transaction : fichier, version, lignes — `executemany` sur "
        "SQLite, `COPY` sur PostgreSQL —, comptages, journal). « Vérifier sans déposer » = le "
        "même traitement en simple vérification (indicateurs calculés sur une copie en mémoire). "
        "Référence : `pandas.read_excel(..., sheet_name=\"Beneficiaires\", engine=\"calamine\")` dans "
        "le même processus. Mémoire : hausse du pic de mémoire résidente pendant le dépôt complet "
        "(pic `VmHWM` remis à zéro juste avant, après un dépôt d'échauffement), rapportée à la "
        "taille du DataFrame de la feuille (`memory_usage(deep=True)`).",
        "",
        "| lignes | base | fichier | référence : lecture seule | vérification | import | "
        "**dépôt complet** | **÷ lecture** (objectif ≤ 1,5) | vérifier sans déposer | DataFrame | "
        "hausse du pic mémoire | **÷ DataFrame** (objectif ≤ 3) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        total = r["job_s"]
        lines.append(
            f"| {n(r['rows'])} | {r['database']} | {r['file_mb']:.1f} Mo | {r['read_s']:.2f} s | "
            f"{r['check_s']:.2f} s | {r['import_s']:.2f} s | **{total:.2f} s** | **{total / r['read_s']:.2f}** | "
            f"{r['dry_run_s']:.2f} s | {r['frame_mb']:.0f} Mo | {r['peak_growth_mb']:.0f} Mo | "
            f"**{r['peak_growth_mb'] / r['frame_mb']:.2f}** |")
    lines += [
        "",
        "Temps processeur (moins sensibles à la charge de la machine) :",
        "",
        "| lignes | base | lecture seule | dépôt complet | dépôt complet ÷ lecture |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in results:
        cpu = r["job_cpu_s"]
        lines.append(f"| {n(r['rows'])} | {r['database']} | {r['read_cpu_s']:.2f} s | {cpu:.2f} s | "
                     f"{cpu / r['read_cpu_s']:.2f} |")
    if naive:
        lines += [
            "",
            "## Comparaison : l'approche naïve (openpyxl cellule par cellule, un INSERT par ligne)",
            "",
            "Sans aucune validation : c'est un minorant de ce que coûterait cette approche.",
            "",
            "| lignes | base | lecture openpyxl | INSERT ligne à ligne | total naïf | plateforme (dépôt complet) | rapport |",
            "|---:|---|---:|---:|---:|---:|---:|",
        ]
        for r in results:
            key = (r["rows"], r["database"])
            if key not in naive:
                continue
            nv = naive[key]
            total, platform_total = nv["naive_read_s"] + nv["naive_insert_s"], r["job_s"]
            lines.append(f"| {n(r['rows'])} | {r['database']} | {nv['naive_read_s']:.1f} s | "
                         f"{nv['naive_insert_s']:.1f} s | {total:.1f} s | {platform_total:.1f} s | "
                         f"{total / platform_total:.1f} × plus lent |")
    lines += ["", *error_lines, "",
              "Sur la plateforme, la vérification et l'import tournent dans un fil d'exécution en "
              "arrière-plan ; la page de suivi se recharge toutes les deux secondes jusqu'à la fin.", ""]
    extra = Path(args.notes) if args.notes else ROOT / "bench" / "workbook_import_notes.md"
    if extra.exists():
        lines += [extra.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="10000,50000,200000", help="sizes, comma-separated")
    parser.add_argument("--postgres-url", help="server where throw-away databases are created (optional)")
    parser.add_argument("--naive-max-rows", type=int, default=50_000)
    parser.add_argument("--errors", type=int, default=50_000, help="rows of the all-errors workbook (0: skip)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "cep-bench-workbooks"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance-workbooks.md"))
    parser.add_argument("--notes", help="markdown appended to the report (default bench/workbook_import_notes.md)")
    parser.add_argument("--json")
    parser.add_argument("--child", choices=["platform", "naive"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    cache = Path(args.cache)
    if args.child:
        path = workbook(int(args.rows), cache)
        measure = measure_platform if args.child == "platform" else measure_naive
        print(json.dumps(measure(path, args.postgres_url)))
        return

    sizes = [int(s) for s in args.rows.split(",") if s.strip()]
    for rows in sizes:
        workbook(rows, cache)  # generated once, outside the measurements
    load_before = os.getloadavg()[0]
    databases = [("SQLite", None)] + ([("PostgreSQL", args.postgres_url)] if args.postgres_url else [])
    results, naive = [], {}
    for rows in sizes:
        for label, url in databases:
            r = child("platform", rows, args.cache, url)
            r["database"] = label
            results.append(r)
            print(f"{rows:>7} {label:<10} lecture {r['read_s']:.2f} s, dépôt complet {r['job_s']:.2f} s "
                  f"(vérification {r['check_s']:.2f} s, import {r['import_s']:.2f} s), "
                  f"sans dépôt {r['dry_run_s']:.2f} s, pic +{r['peak_growth_mb']:.0f} Mo "
                  f"(DataFrame {r['frame_mb']:.0f} Mo)", flush=True)
            if rows <= args.naive_max_rows:
                naive[(r["rows"], label)] = child("naive", rows, args.cache, url)
    error_lines = measure_errors(args.errors) if args.errors else []
    text = report(results, naive, args, (load_before, os.getloadavg()[0]), error_lines)
    Path(args.out).write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "naive": [
            {"rows": k[0], "database": k[1], **v} for k, v in naive.items()]}, indent=2), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
