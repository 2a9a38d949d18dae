"""Demo data (order 10): the 2024–2027 national call with 18 lots, bids from the 12
fictitious operators (some inadmissible, one lot without bid → infructueux),
marks by the two demo evaluators, awards and Contracts; and a second call, open
for bids, so the operator demo account can answer it."""
from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

from platform_core import journal
from platform_core.clock import now
from platform_core.demo import DEMO_OPERATORS, operator_siret, register_demo_step
from platform_core.extensions import db
from platform_core.files import store_bytes
from platform_core.models import Organisation, User
from quality_framework import scoring
from quality_framework.reference import regions

from .models import DEFAULT_DOCUMENTS, Bid, BidDocument, EvaluatorAssignment, Lot, ManualMark, Tender
from .services import automatic_verdict, deposited_bids, rank_lot, set_status

REFERENCE = "AO-CEP-2024-2027"
OPEN_REFERENCE = "AO-CEP-2028-2031"
# Reduced demonstration volumes (« volumes de démonstration réduits »): the workbook demo
# (audit/workbooks/demo.py) imports at most 1 000 rows per contract-year, i.e. about 850
# entries dated in the year (15 % of its paths start in N-1). Demand and capacities are
# scaled on that so taux_realisation (entries / capacity) looks like a real year.
DEMAND = {"11": 1400, "24": 1050, "27": 1100, "28": 1100, "32": 1250, "44": 1250, "52": 1150, "53": 1100,
          "75": 1300, "76": 1300, "84": 1350, "93": 1200, "94": 1000, "01": 1000, "02": 1000, "03": 1000,
          "04": 1050, "06": 1000}
# Capacity of the (single) strong bid of each lot, i.e. of the future Contract. 850–950: the
# workbook demo generates ~0.89–0.92 × capacity entries (≈ 90 %); Île-de-France and Occitanie
# commit more than they will deliver (≈ 74 % and 77 %): they show the « taux de réalisation » alert.
WINNER_CAPACITY = {"11": 1150, "76": 1100, "84": 950, "75": 940, "32": 930, "44": 920, "93": 910, "52": 900,
                   "53": 900, "28": 880, "27": 880, "24": 870, "04": 870, "94": 850, "01": 850, "02": 860,
                   "03": 850}
DEMO_NOTE = "volumes de démonstration réduits"
# Extra bids outside the home region: (operator index, region, strong?, defect).
EXTRA_BIDS = [
    (1, "53", False, None), (0, "52", False, None), (7, "28", False, None), (2, "24", False, None),
    (3, "27", True, None), (2, "27", False, None), (8, "94", True, None), (9, "01", True, None),
    (9, "02", True, None), (9, "03", True, None),
    (5, "75", False, "missing"), (11, "28", False, "neutrality"), (4, "52", False, "missing"),
]
METHODO = {"code": "METHODO", "label": "Qualité de la méthodologie et coopération territoriale"}
WEIGHTS = {"CAPACITE": 30, "COUVERTURE": 25, "PROFESSIONNALISATION": 20, "PRIX": 15, "METHODO": 10}


def _pdf(text: str) -> bytes:
    return (f"%PDF-1.4\n% Pièce fictive de démonstration : {text}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
            ).encode("utf-8")


def _answers(rng: random.Random, lot_deps: list[str], demand: int, strong: bool,
             capacity: int | None = None) -> dict:
    if capacity is None:  # weak bids: well below the strong one (850 at least) on every lot
        capacity = int(round(demand * rng.uniform(0.4, 0.55), -1))
    etp = round(capacity / rng.uniform(190, 215), 1)
    n = math.ceil(etp * 1.1)
    deps = lot_deps if strong else lot_deps[:1]
    sites = [{"commune": f"Site fictif {d}-{i + 1}", "departement": d, "type": "PERMANENT" if i == 0 else "PERMANENCE"}
             for d in deps for i in range(1 if not strong else 2)]
    channels = list(scoring.REMOTE_CHANNELS) if strong else ["TELEPHONE"]
    # € per committed entry: 580–690 for the strong bid (0.5–0.8 M€/year), 650–750 otherwise.
    per_entry = rng.uniform(580, 690) if strong else rng.uniform(650, 750)
    return {
        "capacite_annuelle": capacity, "etp_conseillers": etp,
        "delai_premier_rdv_jours": rng.choice([4, 5, 6, 8]) if strong else rng.choice([10, 12, 15]),
        "sites": sites, "canaux_distance": channels,
        "heures_hors_temps_travail_hebdo": rng.choice([6, 8, 10]) if strong else rng.choice([2, 4]),
        "nb_conseillers": n, "nb_conseillers_qualifies": int(n * (rng.uniform(0.75, 0.95) if strong else 0.5)),
        "experience_moyenne_annees": round(rng.uniform(4, 8) if strong else rng.uniform(2, 4), 1),
        "heures_formation_par_etp": rng.choice([28, 35, 40]) if strong else rng.choice([14, 21]),
        "analyse_des_pratiques": strong or rng.random() < 0.5,
        "prix_annuel_eur": float(round(capacity * per_entry, -3)),
    }


def _tender(reference: str, title: str, start: date, end: date, publication: datetime, deadline: datetime,
            actor) -> Tender:
    t = Tender(reference=reference, title=title, period_start=start, period_end=end, publication_at=publication,
               questions_deadline=deadline - timedelta(days=14), submission_deadline=deadline,
               opening_at=deadline + timedelta(days=3), weights=dict(WEIGHTS), manual_criteria=[dict(METHODO)],
               parameters={f: getattr(scoring.DEFAULT_PARAMETERS, f) for f in (
                   "entrees_max_par_etp", "delai_cible_jours", "delai_max_jours", "heures_hors_temps_cible",
                   "experience_cible_annees", "formation_cible_heures")},
               mandatory_documents=list(DEFAULT_DOCUMENTS), status="BROUILLON", created_at=publication - timedelta(days=20))
    for i, (code, region) in enumerate(regions().items(), start=1):
        t.lots.append(Lot(number=i, title=f"Lot {i} — {region.name}", region_codes=[code], annual_demand=DEMAND[code]))
    db.session.add(t)
    db.session.flush()
    journal.record("consultation_creee", "consultation", t.id, f"Consultation {reference} créée (démo).", actor=actor)
    set_status(t, "PUBLIEE", "Critères, poids, lots et pièces figés.", actor=actor)
    return t


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _load_closed_call(acheteur, evaluators, operators) -> str:
    rng = random.Random(2024)
    deadline = datetime(2023, 4, 28, 10, 0)
    t = _tender(REFERENCE, f"Appel d'offres national CEP 2024–2027 (démonstration, fictif ; {DEMO_NOTE})",
                date(2024, 1, 1), date(2027, 12, 31), datetime(2023, 2, 1, 9, 0), deadline, acheteur)
    lots = {lot.region_codes[0]: lot for lot in t.lots}
    plan = [(i, region, True, None) for i, (_, region) in enumerate(DEMO_OPERATORS)] + EXTRA_BIDS
    for k, (i, region, strong, defect) in enumerate(plan):
        lot, org = lots[region], operators[i]
        bid = Bid(lot_id=lot.id, operator_id=org.id, status="DEPOSEE",
                  answers=_answers(rng, lot.departements(), lot.annual_demand, strong,
                                   WINNER_CAPACITY[region] if strong else None),
                  neutrality_declared=defect != "neutrality",
                  submitted_at=deadline - timedelta(days=3, hours=k * 3 % 70, minutes=k * 7 % 60),
                  updated_at=deadline - timedelta(days=3))
        lot.bids.append(bid)
        db.session.flush()
        for doc in DEFAULT_DOCUMENTS:
            if defect == "missing" and doc == DEFAULT_DOCUMENTS[-1]:
                continue
            sf = store_bytes(_pdf(f"{doc} — {org.name} — lot {lot.number}"), f"{doc}.pdf", "pdf")
            db.session.flush()
            bid.documents.append(BidDocument(doc_type=doc, stored_file_id=sf.id))
        journal.record("offre_deposee", "offre", bid.id, f"Offre déposée sur le lot {lot.number} (démo).",
                       sealed_until=deadline)
    t.status, t.closing_recorded_at = "CLOTUREE", deadline
    journal.record("consultation_cloturee", "consultation", t.id, f"{REFERENCE} clôturée à la date limite (démo).")
    set_status(t, "OUVERTE", "Plis ouverts (démo).", actor=acheteur)
    for lot in t.lots:
        for bid in deposited_bids(lot):
            bid.auto_admissibility = [list(p) for p in automatic_verdict(bid)]
            bid.admissible = not bid.auto_admissibility
            bid.admissibility_reason = ("Verdict automatique confirmé : dossier complet." if bid.admissible else
                                        "Verdict automatique confirmé : " + " ".join(r for _, r in bid.auto_admissibility))
            journal.record("recevabilite_" + ("admissible" if bid.admissible else "inadmissible"), "offre", bid.id,
                           bid.admissibility_reason, actor=acheteur)
    set_status(t, "EN_EVALUATION", "Recevabilité confirmée (démo).", actor=acheteur)
    for lot in t.lots:
        bids = [b for b in deposited_bids(lot) if b.admissible]
        for ev in evaluators:
            db.session.add(EvaluatorAssignment(lot_id=lot.id, user_id=ev.id, coi_declared_at=deadline + timedelta(days=4),
                                               marks_submitted_at=deadline + timedelta(days=10) if bids else None))
            for b in bids:
                strong = b.operator.region_code in lot.region_codes or len(bids) == 1
                mark = rng.choice([3, 3.5, 4]) if strong else rng.choice([2, 2.5, 3])
                justification = ("Méthodologie détaillée, partenariats locaux identifiés (démo)." if mark >= 3
                                 else "Méthodologie générique, coopération peu étayée (démo).")
                db.session.add(ManualMark(bid_id=b.id, criterion="METHODO", evaluator_id=ev.id, mark=mark,
                                          justification=justification, updated_at=deadline + timedelta(days=9)))
                journal.record("note_saisie", "offre", b.id, f"Note METHODO : {mark}/4 (démo).", actor=ev,
                               after={"critere": "METHODO", "note": mark, "justification": justification})
    db.session.flush()
    contracts = 0
    from .views_eval import award_lot

    for lot in t.lots:
        ranked = rank_lot(lot)
        if not any(r.rank for _, r in ranked):
            lot.status, lot.decision_text = "INFRUCTUEUX", "Aucune offre recevable (démo)."
            journal.record("lot_infructueux", "lot", lot.id, f"Lot {lot.number} infructueux : aucune offre.", actor=acheteur)
            continue
        for bid, r in ranked:
            bid.final_rank, bid.final_total = r.rank, (r.score.total if r.score else None)
        lot.status = "CLASSE"
        journal.record("lot_classe", "lot", lot.id, f"Lot {lot.number} classé (démo).", actor=acheteur)
    from .services import refresh_tender_progress

    refresh_tender_progress(t, actor=acheteur)
    for lot in t.lots:
        if lot.status == "CLASSE":
            award_lot(lot, "FAVORABLE", date(2023, 6, 15), "Avis favorable du bureau du CREFOP (fictif).",
                      "Attribution à l'offre classée première (démo).", actor=acheteur)
            contracts += 1
    n_bids = len(plan)
    return contracts, n_bids


def load() -> str | None:
    acheteur = _user("acheteur@demo-cep.fr")
    evaluators = [u for u in (_user("evaluateur@demo-cep.fr"), _user("evaluateur2@demo-cep.fr")) if u]
    operators = [db.session.scalar(select(Organisation).where(Organisation.siret == operator_siret(i)))
                 for i in range(len(DEMO_OPERATORS))]
    if None in operators:
        return "opérateurs de démonstration absents : étape ignorée"
    parts = []
    if not db.session.scalar(select(Tender.id).where(Tender.reference == REFERENCE)):
        contracts, n_bids = _load_closed_call(acheteur, evaluators, operators)
        parts.append(f"{REFERENCE} : 18 lots, {n_bids} offres, {contracts} contrats ({DEMO_NOTE})")
    if not db.session.scalar(select(Tender.id).where(Tender.reference == OPEN_REFERENCE)):
        today = now().replace(hour=10, minute=0, second=0, microsecond=0)
        _tender(OPEN_REFERENCE, f"Appel d'offres national CEP 2028–2031 (démonstration, fictif ; {DEMO_NOTE})",
                date(2028, 1, 1), date(2031, 12, 31), today - timedelta(days=5), today + timedelta(days=60), acheteur)
        parts.append(f"{OPEN_REFERENCE} publiée (dépôt ouvert 60 jours)")
    return " ; ".join(parts) or None


register_demo_step(10, "appels d'offres", load)
