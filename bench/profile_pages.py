"""Service time of a few heavy pages, in-process (Flask test client, no gunicorn), with
an optional cProfile of each page.

    .venv/bin/python bench/profile_pages.py --database-url URL [--year 2027] [--repeat 20]
        [--profile 25] [--json out.json]

Prepares the page data like bench/load_pages.py (payments, audits, tender), signs in as
the bench officer through /connexion, warms every page up once, then times `--repeat`
requests per page: the figures are the Python + SQL time of one request, without HTTP or
concurrency (what a gunicorn worker spends on it).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--year", type=int, help="report year (default: latest year with workbooks)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0, help="print the N top cProfile entries per page")
    parser.add_argument("--cold-cache", action="store_true",
                        help="empty the page caches (fund-use report, indicators) before each "
                             "request: the cost of the first request after a payment, a deposit or an audit")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (ou DATABASE_URL) est obligatoire")

    from sqlalchemy import select

    from audit.workbooks.models import WorkbookVersion
    from bench.common import signed_in_client
    from bench.generate_dataset import BENCH_PASSWORD, make_app
    from bench.load_pages import measured_pages, prepare_page_data
    from flask_migrate import upgrade
    from platform_core.extensions import db
    from platform_core.memo import clear_all

    app = make_app(args.database_url, os.environ.get("CEP_BENCH_INSTANCE"))
    with app.app_context():
        upgrade()
        year = args.year or max(db.session.scalars(select(WorkbookVersion.year).distinct()))
        data = prepare_page_data(year)
        db.session.remove()
    client = signed_in_client(app, data["officer_email"], BENCH_PASSWORD)
    pages = measured_pages(year, data["lot_id"])
    result = {"year": year, "repeat": args.repeat, "cold_cache": args.cold_cache, "loadavg": os.getloadavg(), "pages": {}}
    for name, path in pages.items():
        response = client.get(path)  # warm-up: templates, referentials
        if response.status_code != 200:
            raise SystemExit(f"{path} -> {response.status_code}")
        times, cpu = [], []
        for _ in range(args.repeat):
            if args.cold_cache:
                clear_all(app)
            t0, c0 = time.perf_counter(), time.process_time()
            client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        # CPU time of this process too: less sensitive than wall time to a busy machine
        result["pages"][name] = {"path": path, "median_ms": statistics.median(times),
                                 "min_ms": min(times), "max_ms": max(times),
                                 "cpu_median_ms": statistics.median(cpu)}
        print(f"{name:28s} médiane {statistics.median(times):7.1f} ms  min {min(times):7.1f}  "
              f"max {max(times):7.1f}  CPU médiane {statistics.median(cpu):7.1f} ms  "
              f"({args.repeat} requêtes)")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                if args.cold_cache:
                    clear_all(app)
                client.get(path)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.profile)
            print(f"--- cProfile, 5 requêtes de {path} (cumulé)")
            print(out.getvalue())
    print(f"charge moyenne {result['loadavg'][0]:.1f} ({os.cpu_count()} cœurs)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
