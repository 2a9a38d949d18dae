"""SQL statements per page must not grow with the data (no N+1).

Each heavy page is fetched once on a small dataset, then on a dataset three times larger
(3x the contracts, operators, workbook versions, payments, audits and bids), counting every
statement sent to the database with a `before_cursor_execute` listener. The data is built
with the app's own models (bench/generate_dataset.build_dataset, the tender and audit test
helpers). A page whose count grows is a finding reported to its owner (docs/performance.md).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bench.common import count_statements as count_engine_statements
from bench.generate_dataset import build_dataset
from platform_core.clock import now
from platform_core.extensions import db
from platform_core.memo import clear_all

YEARS = [2024, 2025, 2026]
REPORT_YEAR = 2025


def count_statements():
    """SQL statements the application's engine sends while the block runs."""
    return count_engine_statements(db.engine)


# --------------------------------------------------------------------------- data

def _tender():
    from tests.functional.tenders_support import tender_in_db

    return tender_in_db(status="EN_EVALUATION", manual=True, bids=[], reference="AO-PERF-1")


def add_batch(batch: int, accounts: dict, tender) -> None:
    """One batch: 3 contracts (3 operators) with 3 years of workbook versions, payments,
    a validated audit each, and one bid per new operator on the lot of region 53."""
    from audit.fund_use.models import Payment
    from audit.quality.models import AuditRating
    from tenders.models import Bid, Contract, EvaluatorAssignment, ManualMark
    from tests.functional.quality_support import all_leaves, make_audit

    info = build_dataset(240, 3, YEARS, seed=100 + batch, log=lambda *_: None, batch=batch)
    contracts = [db.session.get(Contract, cid) for cid in info["contract_ids"]]
    # the test operator (op_a) holds one contract of each batch: its dashboard grows too
    contracts[0].operator_id = accounts["_orgs"]["op_a"]
    for c in contracts:
        for year in YEARS:
            for kind, share in (("FIXE", 0.8), ("VARIABLE", 0.15)):
                db.session.add(Payment(contract_id=c.id, paid_on=date(year, 12, 15), kind=kind,
                                       amount=Decimal(round(float(c.annual_price) * share, 2)),
                                       reference=f"P-{c.id}-{year}-{kind}", year=year))
    db.session.commit()
    leaves = all_leaves()
    for i, c in enumerate(contracts):
        audit = make_audit(c, REPORT_YEAR, lead_id=accounts["auditeur"], state="valide")
        audit.score, audit.validated_on = 0.8 + 0.01 * i, date(REPORT_YEAR, 11, 1)
        for leaf in leaves[:8]:
            rating = "CONFORME" if (i + len(leaf)) % 3 else "NC_MINEURE"
            db.session.add(AuditRating(audit_id=audit.id, indicator_id=leaf, rating=rating,
                                       observation="" if rating == "CONFORME" else f"constat {leaf}",
                                       justification=""))
    db.session.commit()
    # bids on the lot of region 53, marked by the evaluator
    lot = next(lot for lot in tender.lots if lot.region_codes == ["53"])
    base = {"capacite_annuelle": 3500, "etp_conseillers": 15, "delai_premier_rdv_jours": 7,
            "sites": [{"commune": "Rennes", "departement": "35", "type": "PERMANENT"}],
            "canaux_distance": ["TELEPHONE", "VISIO"], "heures_hors_temps_travail_hebdo": 6,
            "nb_conseillers": 18, "nb_conseillers_qualifies": 12, "experience_moyenne_annees": 4,
            "heures_formation_par_etp": 21, "analyse_des_pratiques": True, "prix_annuel_eur": 1900000}
    for k, org_id in enumerate(info["operator_ids"]):
        bid = Bid(lot_id=lot.id, operator_id=org_id, status="DEPOSEE",
                  answers={**base, "prix_annuel_eur": 1_700_000 + 50_000 * k + 1000 * batch},
                  neutrality_declared=True, submitted_at=tender.submission_deadline - timedelta(hours=3),
                  admissible=True, admissibility_reason="Confirmé.", auto_admissibility=[])
        db.session.add(bid)
        db.session.flush()
        db.session.add(ManualMark(bid_id=bid.id, criterion="METHODO", evaluator_id=accounts["evaluateur"],
                                  mark=3, justification="Méthodologie claire."))
    if not db.session.scalar(select(EvaluatorAssignment).where(EvaluatorAssignment.lot_id == lot.id)):
        db.session.add(EvaluatorAssignment(lot_id=lot.id, user_id=accounts["evaluateur"],
                                           coi_declared_at=now(), coi_statement="Aucun conflit.",
                                           marks_submitted_at=now()))
    db.session.commit()


def lot_53(tender) -> int:
    return next(lot.id for lot in tender.lots if lot.region_codes == ["53"])


PAGES = [
    # (id, account, url factory) — the heaviest pages of each domain
    ("indicateurs-national", "acheteur", lambda t: f"/suivi/bilans/indicateurs/?annee={REPORT_YEAR}"),
    ("indicateurs-region", "acheteur", lambda t: f"/suivi/bilans/indicateurs/regions/11?annee={REPORT_YEAR}"),
    ("indicateurs-export", "acheteur", lambda t: f"/suivi/bilans/indicateurs/?annee={REPORT_YEAR}&format=xlsx"),
    ("etat-des-depots", "acheteur", lambda t: "/suivi/bilans/etat-des-depots"),
    ("usage-des-fonds-national", "acheteur", lambda t: f"/suivi/usage-des-fonds/?annee={REPORT_YEAR}"),
    ("usage-des-fonds-export", "acheteur", lambda t: f"/suivi/usage-des-fonds/export.xlsx?annee={REPORT_YEAR}"),
    ("classement-lot", "acheteur", lambda t: f"/appels-offres/lots/{lot_53(t)}"),
    ("carte-thermique", "acheteur", lambda t: f"/suivi/audits/carte-thermique?annee={REPORT_YEAR}"),
    ("audits-liste", "auditeur", lambda t: "/suivi/audits/"),
    ("tableau-de-bord-acheteur", "acheteur", lambda t: "/tableau-de-bord"),
    ("tableau-de-bord-auditeur", "auditeur", lambda t: "/tableau-de-bord"),
    ("tableau-de-bord-operateur", "operateur", lambda t: "/tableau-de-bord"),
    ("tableau-de-bord-evaluateur", "evaluateur", lambda t: "/tableau-de-bord"),
    ("tableau-de-bord-observateur", "observateur", lambda t: "/tableau-de-bord"),
]

# Pages whose statement count still grows with the data: {page id: why / owner}. Each is
# an xfail(strict) so the test turns red — to be removed from here — once it is fixed.
KNOWN_GROWTH: dict[str, str] = {
}


def measure(client, url: str) -> list[str]:
    client.get(url)  # warm-up: per-process caches (referential, templates) are not data-bound
    clear_all(client.application)  # but the page caches are: count the full computation
    with count_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200, f"{url} -> {response.status_code}"
    return statements


def repeated(statements: list[str]) -> str:
    """The statements sent more than once (the N+1 suspects), for the failure message."""
    seen: dict[str, int] = {}
    for s in statements:
        key = " ".join(s.split())[:160]
        seen[key] = seen.get(key, 0) + 1
    return "\n".join(f"  {n} x {key}" for key, n in sorted(seen.items(), key=lambda kv: -kv[1]) if n > 1)


def _params():
    for page in PAGES:
        marks = ([pytest.mark.xfail(strict=True, reason=KNOWN_GROWTH[page[0]])]
                 if page[0] in KNOWN_GROWTH else [])
        yield pytest.param(*page, id=page[0], marks=marks)


@pytest.mark.parametrize("page_id,account,url_for_tender", list(_params()))
def test_statements_do_not_grow_with_data(app, accounts, client_for, page_id, account, url_for_tender,
                                          record_property):
    tender = _tender()
    add_batch(0, accounts, tender)
    client = client_for(account)
    url = url_for_tender(tender)
    small = len(measure(client, url))
    add_batch(1, accounts, tender)
    add_batch(2, accounts, tender)
    db.session.expire_all()
    statements = measure(client, url)
    large = len(statements)
    record_property("statements", f"{small} -> {large}")
    print(f"[requêtes SQL] {page_id}: {small} -> {large}")
    assert large <= small, (f"{page_id}: {small} requêtes SQL sur le petit jeu, {large} sur le jeu "
                            f"3x plus grand (N+1 ?). Requêtes répétées :\n{repeated(statements)}")
