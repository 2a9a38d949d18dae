"""Heavy pages under load, on the large dataset (bench/generate_dataset.py), loopback only.

    .venv/bin/python bench/load_pages.py --database-url URL [--clients 20] [--duration 60]

1. prepares, idempotently, what the generator does not create: a tender in evaluation
   with bids and marks on every lot, payments, and a validated audit (every indicator
   rated) for each contract — with the platform's own models and services;
2. starts `.venv/bin/gunicorn -w 4 -b 127.0.0.1:PORT wsgi:app` (CEP_ENV development,
   SCHEDULER_ENABLED=0, DATABASE_URL = the large database);
3. signs in once as the bench officer (CSRF token read from /connexion) and shares the
   session cookie with N client threads (http.client, one connection per request);
4. for `--duration` seconds, each client cycles through the pages in its own shuffled
   order — lot ranking, national indicators, national fund-use report, audit heat map, the
   officer's dashboard and the trivial /sante, all measured in the same run — then
   gunicorn is stopped.

Prints p50/p95/max per page and the ratio to /sante; `--json FILE` keeps the figures.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # never anything else
TARGET_P95_MS = 300.0
TENDER_REFERENCE = "AO-MESURE-1"
BIDS_PER_LOT = 6


# --------------------------------------------------------------------------- data

def prepare_page_data(year: int) -> dict:
    """Tender + bids + marks, payments and audits for the pages (idempotent)."""
    from sqlalchemy import func, select

    from audit.fund_use.models import Payment
    from audit.quality.models import Audit, AuditRating
    from audit.quality.referentials import ensure_seeded
    from audit.quality.services import create_audit
    from platform_core.clock import now
    from platform_core.extensions import db
    from platform_core.models import Organisation, User, UserRole
    from quality_framework.referential import load_version
    from quality_framework.reference import regions
    from tenders.models import (DEFAULT_DOCUMENTS, Bid, Contract, EvaluatorAssignment, Lot, ManualMark,
                                Tender)
    from bench.generate_dataset import BENCH_DOMAIN

    officer = db.session.scalar(select(User).where(User.email == f"bench.acheteur@{BENCH_DOMAIN}"))
    auditor = db.session.scalar(select(User).where(User.email == f"bench.auditeur@{BENCH_DOMAIN}"))
    evaluator = db.session.scalar(select(User).where(User.email == f"bench.evaluateur@{BENCH_DOMAIN}"))
    if evaluator is None:
        evaluator = User(email=f"bench.evaluateur@{BENCH_DOMAIN}", full_name="Évaluateur de mesure",
                         password_hash=officer.password_hash, must_change_password=False,
                         roles=[UserRole(role="evaluateur")])
        db.session.add(evaluator)
        db.session.commit()
    contracts = list(db.session.scalars(select(Contract).order_by(Contract.id)))
    operators = list(db.session.scalars(select(Organisation).where(Organisation.kind == "OPERATEUR")
                                        .order_by(Organisation.id)))

    tender = db.session.scalar(select(Tender).where(Tender.reference == TENDER_REFERENCE))
    if tender is None:
        deadline = now() - timedelta(days=5)
        tender = Tender(
            reference=TENDER_REFERENCE, title="Consultation de mesure (fictive)",
            period_start=date(year + 1, 1, 1), period_end=date(year + 4, 12, 31),
            publication_at=deadline - timedelta(days=40), questions_deadline=deadline - timedelta(days=10),
            submission_deadline=deadline, opening_at=deadline + timedelta(hours=1),
            weights={"CAPACITE": 30, "COUVERTURE": 25, "PROFESSIONNALISATION": 20, "PRIX": 15, "METHODO": 10},
            manual_criteria=[{"code": "METHODO", "label": "Qualité de la méthodologie"}],
            parameters={"entrees_max_par_etp": 220, "delai_cible_jours": 5, "delai_max_jours": 30,
                        "heures_hors_temps_cible": 8, "experience_cible_annees": 5,
                        "formation_cible_heures": 35},
            mandatory_documents=list(DEFAULT_DOCUMENTS), status="EN_EVALUATION")
        for i, (code, region) in enumerate(regions().items(), start=1):
            tender.lots.append(Lot(number=i, title=f"Lot {i} — {region.name}", region_codes=[code],
                                   annual_demand=40000))
        db.session.add(tender)
        db.session.flush()
        rng = random.Random(7)
        for lot in tender.lots:
            deps = regions()[lot.region_codes[0]].departements
            for k, op in enumerate(rng.sample(operators, min(BIDS_PER_LOT, len(operators)))):
                answers = {"capacite_annuelle": rng.randint(20000, 45000), "etp_conseillers": rng.randint(40, 90),
                           "delai_premier_rdv_jours": rng.randint(3, 15),
                           "sites": [{"commune": f"Commune {d}", "departement": d, "type": "PERMANENT"}
                                     for d in deps[: rng.randint(1, len(deps))]],
                           "canaux_distance": ["TELEPHONE", "VISIO"],
                           "heures_hors_temps_travail_hebdo": rng.randint(2, 10),
                           "nb_conseillers": rng.randint(45, 100), "nb_conseillers_qualifies": rng.randint(30, 45),
                           "experience_moyenne_annees": rng.randint(2, 8), "heures_formation_par_etp": rng.randint(10, 40),
                           "analyse_des_pratiques": True, "prix_annuel_eur": rng.randint(15, 40) * 1_000_000}
                bid = Bid(lot_id=lot.id, operator_id=op.id, status="DEPOSEE", answers=answers,
                          neutrality_declared=True, submitted_at=deadline - timedelta(hours=k + 1),
                          admissible=True, admissibility_reason="Confirmé.", auto_admissibility=[])
                db.session.add(bid)
                db.session.flush()
                db.session.add(ManualMark(bid_id=bid.id, criterion="METHODO", evaluator_id=evaluator.id,
                                          mark=rng.randint(1, 4), justification="Note de mesure."))
            db.session.add(EvaluatorAssignment(lot_id=lot.id, user_id=evaluator.id, coi_declared_at=now(),
                                               coi_statement="Aucun conflit.", marks_submitted_at=now()))
        db.session.commit()

    if not db.session.scalar(select(func.count()).select_from(Payment)):
        for c in contracts:
            for y in range(c.starts_on.year, year + 1):
                for kind, share in (("FIXE", 0.8), ("VARIABLE", 0.17)):
                    db.session.add(Payment(contract_id=c.id, paid_on=date(y, 12, 10), kind=kind,
                                           amount=Decimal(round(float(c.annual_price) * share, 2)),
                                           reference=f"MESURE-{c.id}-{y}-{kind}", year=y))
        db.session.commit()

    if not db.session.scalar(select(func.count()).select_from(Audit)):
        version = ensure_seeded()
        leaves = [leaf.id for leaf in load_version(1).leaves()]
        rng = random.Random(11)
        for c in contracts:
            for y in (year - 1, year):
                audit = create_audit(c, y, version, auditor, None)
                audit.state, audit.score, audit.validated_on = "valide", rng.uniform(0.6, 0.98), date(y, 11, 1)
                for leaf in leaves:
                    rating = rng.choices(["CONFORME", "NC_MINEURE", "NC_MAJEURE"],
                                         [85, 12, 3])[0]
                    db.session.add(AuditRating(audit_id=audit.id, indicator_id=leaf, rating=rating,
                                               observation="" if rating == "CONFORME" else f"constat {leaf}",
                                               justification=""))
        db.session.commit()
    lot_id = db.session.scalar(select(Lot.id).where(Lot.tender_id == tender.id, Lot.number == 1))
    bids = db.session.scalar(select(func.count()).select_from(Bid))
    audits = db.session.scalar(select(func.count()).select_from(Audit))
    ratings = db.session.scalar(select(func.count()).select_from(AuditRating))
    return {"lot_id": lot_id, "bids": bids, "audits": audits, "ratings": ratings,
            "officer_email": officer.email}


def measured_pages(year: int, lot_id: int) -> dict[str, str]:
    """The heavy pages of the issue, the officers' landing page and the trivial page."""
    return {
        "/sante (page triviale)": "/sante",
        "classement du lot": f"/appels-offres/lots/{lot_id}",
        "indicateurs nationaux": f"/suivi/bilans/indicateurs/?annee={year}",
        "usage des fonds national": f"/suivi/usage-des-fonds/?annee={year}",
        "carte thermique des audits": f"/suivi/audits/carte-thermique?annee={year}",
        # not in the issue's list, but the officers' landing page computes the fund-use report
        "tableau de bord acheteur": "/tableau-de-bord",
    }


# --------------------------------------------------------------------------- HTTP

def request(port: int, method: str, path: str, headers=None, body: bytes | None = None, timeout=60):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def sign_in(port: int, email: str, password: str) -> str:
    """Session cookie of a signed-in user (CSRF token from the /connexion form)."""
    status, headers, body = request(port, "GET", "/connexion")
    cookie = "; ".join(v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    status, headers, body = request(port, "POST", "/connexion", {
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}, form)
    if status != 302:
        raise SystemExit(f"connexion refusée ({status})")
    return "; ".join(v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie")


def wait_ready(port: int, proc, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit("gunicorn s'est arrêté au démarrage")
        try:
            if request(port, "GET", "/sante", timeout=2)[0] == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn ne répond pas")


def drive(port: int, cookie: str, pages: dict[str, str], clients: int, duration: float) -> dict:
    samples: dict[str, list[float]] = {name: [] for name in pages}
    errors: dict[str, int] = {name: 0 for name in pages}
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration

    def client(seed: int):
        rng = random.Random(seed)
        names = list(pages)
        while time.perf_counter() < stop_at:
            rng.shuffle(names)
            for name in names:
                if time.perf_counter() >= stop_at:
                    break
                t0 = time.perf_counter()
                try:
                    status, _, _ = request(port, "GET", pages[name], {"Cookie": cookie})
                except OSError:
                    status = 0
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    if status == 200:
                        samples[name].append(elapsed)
                    else:
                        errors[name] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"samples": samples, "errors": errors, "wall_s": wall}


WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %.3f %.3f %.3f %d\\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency.max / 1000, summary.duration))
end
"""


def run_wrk(port: int, cookie: str, pages: dict[str, str], clients: int, seconds: int,
            workdir: Path) -> dict:
    """Each page alone under `clients` connections with wrk (C client: the load generator
    costs far less CPU than Python threads on the same 2 cores). Loopback only."""
    script = workdir / "wrk_p95.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    result = {}
    for name, path in pages.items():
        out = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "30s",
                              "-s", str(script), "-H", f"Cookie: {cookie}", f"http://{HOST}:{port}{path}"],
                             capture_output=True, text=True, timeout=seconds + 60)
        line = next((l for l in out.stdout.splitlines() if l.startswith("WRK ")), None)
        if line is None:
            result[name] = {"error": (out.stdout + out.stderr)[-500:]}
            continue
        n, errors, p50, p95, mx, duration_us = line.split()[1:]
        result[name] = {"n": int(n), "errors": int(errors), "p50_ms": float(p50), "p95_ms": float(p95),
                        "max_ms": float(mx), "rps": int(n) / (int(duration_us) / 1e6)}
    return result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (max 300)")
    parser.add_argument("--year", type=int, help="report year (default: latest year with workbooks)")
    parser.add_argument("--sequential", type=int, default=10,
                        help="requests per page with ONE client before the load (latency alone)")
    parser.add_argument("--wrk-seconds", type=int, default=0,
                        help="then each page alone with wrk for this many seconds (0: skip)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (ou DATABASE_URL) est obligatoire")
    args.duration = min(args.duration, 300.0)

    from sqlalchemy import select

    from audit.workbooks.models import WorkbookVersion
    from bench.generate_dataset import BENCH_PASSWORD, make_app
    from flask_migrate import upgrade

    from platform_core.extensions import db

    instance = os.environ.get("CEP_BENCH_INSTANCE", "/tmp/cep-bench/instance")
    app = make_app(args.database_url, instance)
    with app.app_context():
        upgrade()  # bring a dataset generated with older migrations up to date
        year = args.year or max(db.session.scalars(select(WorkbookVersion.year).distinct()))
        t0 = time.perf_counter()
        data = prepare_page_data(year)
        print(f"données des pages prêtes en {time.perf_counter() - t0:.1f} s : {data}")
        db.engine.dispose()

    pages = measured_pages(year, data["lot_id"])
    env = {**os.environ, "DATABASE_URL": args.database_url, "CEP_ENV": "development",
           "SCHEDULER_ENABLED": "0", "CEP_INSTANCE_DIR": instance, "UPLOAD_DIR": f"{instance}/files",
           "LOGIN_RATE_LIMIT": "1000 per minute"}
    # the repository's venv, else the running interpreter's (a git worktree has no .venv)
    gunicorn = ROOT / ".venv/bin/gunicorn"
    if not gunicorn.exists():
        gunicorn = Path(sys.executable).parent / "gunicorn"
    cmd = [str(gunicorn), "-w", str(args.workers), "-b", f"{HOST}:{args.port}",
           "--timeout", "120", "--log-level", "warning", "wsgi:app"]
    log = open(Path(instance).parent / "gunicorn.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_ready(args.port, proc)
        cookie = sign_in(args.port, data["officer_email"], BENCH_PASSWORD)
        for path in pages.values():  # warm-up: every worker imports templates, loads referentials
            for _ in range(args.workers):
                status, _, body = request(args.port, "GET", path, {"Cookie": cookie})
                if status != 200:
                    raise SystemExit(f"{path} -> {status} : {body[:300]!r}")
        # latency without concurrency: one client, pages in turn (service time of a page)
        alone = {name: [] for name in pages}
        for _ in range(args.sequential):
            for name, path in pages.items():
                t0 = time.perf_counter()
                request(args.port, "GET", path, {"Cookie": cookie})
                alone[name].append((time.perf_counter() - t0) * 1000)
        load_before = os.getloadavg()
        result = drive(args.port, cookie, pages, args.clients, args.duration)
        load_after = os.getloadavg()
        wrk = None
        if args.wrk_seconds:
            if shutil.which("wrk") is None:
                print("wrk absent (apt-get install -y wrk) : mesure wrk ignorée")
            else:
                wrk = run_wrk(args.port, cookie, pages, args.clients, args.wrk_seconds, Path(instance).parent)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own gunicorn (its own process group) only
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()

    trivial = percentile(result["samples"]["/sante (page triviale)"], 50)
    report = {"clients": args.clients, "workers": args.workers, "duration_s": result["wall_s"],
              "year": year, "data": data, "loadavg_before": load_before, "loadavg_after": load_after,
              "pages": {}}
    print(f"{args.clients} clients, {args.workers} workers gunicorn, {result['wall_s']:.0f} s ; "
          f"charge moyenne avant {load_before[0]:.1f}, après {load_after[0]:.1f} ({os.cpu_count()} cœurs)")
    print(f"  {'page':30s} {'seul p50':>8s} {'requêtes':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} "
          f"{'p50/trivial':>11s} {'p95/trivial':>11s}  cible p95 < {TARGET_P95_MS:.0f} ms")
    total = 0
    for name, values in result["samples"].items():
        total += len(values)
        p50, p95 = percentile(values, 50), percentile(values, 95)
        report["pages"][name] = {"path": pages[name], "alone_p50_ms": statistics.median(alone[name]),
                                 "alone_max_ms": max(alone[name]), "n": len(values), "errors": result["errors"][name],
                                 "p50_ms": p50, "p95_ms": p95, "max_ms": max(values) if values else None,
                                 "mean_ms": statistics.fmean(values) if values else None,
                                 "p50_ratio_trivial": p50 / trivial if trivial else None,
                                 "p95_ratio_trivial": p95 / percentile(result["samples"]["/sante (page triviale)"], 95)}
        verdict = "OK" if p95 < TARGET_P95_MS else "au-dessus"
        print(f"  {name:30s} {report['pages'][name]['alone_p50_ms']:8.0f} {len(values):8d} {p50:8.0f} {p95:8.0f} {max(values) if values else 0:8.0f} "
              f"{report['pages'][name]['p50_ratio_trivial']:11.1f} "
              f"{report['pages'][name]['p95_ratio_trivial']:11.1f}  {verdict}"
              + (f"  ({result['errors'][name]} erreurs)" if result["errors"][name] else ""))
    report["throughput_rps"] = total / result["wall_s"]
    print(f"  débit total {report['throughput_rps']:.1f} requêtes/s")
    if wrk:
        report["wrk"] = wrk
        trivial95 = wrk.get("/sante (page triviale)", {}).get("p95_ms")
        print(f"wrk, chaque page seule, {args.clients} connexions, {args.wrk_seconds} s :")
        for name, w in wrk.items():
            if "error" in w:
                print(f"  {name:30s} erreur : {w['error']}")
                continue
            ratio = w["p95_ms"] / trivial95 if trivial95 else float("nan")
            print(f"  {name:30s} {w['n']:6d} req. {w['rps']:6.1f} req/s  p50 {w['p50_ms']:7.0f} ms  "
                  f"p95 {w['p95_ms']:7.0f} ms  max {w['max_ms']:7.0f} ms  p95/trivial {ratio:5.1f}"
                  + (f"  ({w['errors']} erreurs)" if w["errors"] else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
