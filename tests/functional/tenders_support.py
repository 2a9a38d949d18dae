"""Helpers for the tender tests: a tender created and published through HTTP,
bids filled in through the bid form, real PDF bytes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from platform_core.clock import PARIS
from platform_core.extensions import db
from tenders.models import Bid, Lot, Tender

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCS = ["Mémoire technique", "DC1 / DUME", "Attestation fiscale", "Attestation sociale"]


def paris(dt: datetime) -> str:
    return dt.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def tender_form(reference="AO-TEST-1", deadline_in=timedelta(days=2), **over) -> dict:
    base = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    data = {
        "reference": reference, "title": "Appel d'offres CEP test",
        "period_start": "2027-01-01", "period_end": "2030-12-31",
        "publication_at": paris(base - timedelta(days=1)),
        "questions_deadline": paris(base + deadline_in / 2),
        "submission_deadline": paris(base + deadline_in),
        "opening_at": paris(base + deadline_in + timedelta(hours=1)),
        "weight_CAPACITE": "30", "weight_COUVERTURE": "25", "weight_PROFESSIONNALISATION": "20", "weight_PRIX": "15",
        "manual_criteria": "METHODO | Qualité de la méthodologie | 10",
        "entrees_max_par_etp": "220", "delai_cible_jours": "5", "delai_max_jours": "30",
        "heures_hors_temps_cible": "8", "experience_cible_annees": "5", "formation_cible_heures": "35",
        "mandatory_documents": "\n".join(DOCS),
    }
    data.update(over)
    return data


def create_published_tender(client, **over) -> Tender:
    r = client.post("/appels-offres/nouveau", data=tender_form(**over))
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    tender = db.session.scalar(select(Tender).order_by(Tender.id.desc()))
    r = client.post(f"/appels-offres/{tender.id}/publier")
    assert r.status_code == 302
    db.session.expire_all()
    assert tender.status == "PUBLIEE"
    return tender


def lot_of_region(tender: Tender, code: str) -> Lot:
    return next(lot for lot in tender.lots if lot.region_codes == [code])


def bid_form(**over) -> dict:
    data = {
        "capacite_annuelle": "3500", "etp_conseillers": "15", "delai_premier_rdv_jours": "7",
        "heures_hors_temps_travail_hebdo": "6", "nb_conseillers": "18", "nb_conseillers_qualifies": "12",
        "experience_moyenne_annees": "4", "heures_formation_par_etp": "21", "prix_annuel_eur": "1900000",
        "analyse_des_pratiques": "oui", "neutralite": "oui", "canaux_distance": ["TELEPHONE", "VISIO"],
        "site_0_commune": "Rennes", "site_0_departement": "35", "site_0_type": "PERMANENT",
        "action": "submit",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def start_bid(client, lot: Lot) -> Bid:
    r = client.post(f"/appels-offres/lots/{lot.id}/offre")
    assert r.status_code == 302
    bid_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    return db.session.get(Bid, bid_id)


def upload(client, bid_id: int, doc_type: str, data: bytes = PDF, name: str = "piece.pdf"):
    import io

    return client.post(f"/appels-offres/offres/{bid_id}/documents",
                       data={"doc_type": doc_type, "fichier": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def full_bid(client, lot: Lot, docs=DOCS, **over) -> Bid:
    bid = start_bid(client, lot)
    for d in docs:
        assert upload(client, bid.id, d, name=f"{d}.pdf").status_code == 302
    db.session.expire_all()
    bid = db.session.get(Bid, bid.id)
    form = bid_form(**over)
    form["version"] = str(bid.version)
    r = client.post(f"/appels-offres/offres/{bid.id}", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    db.session.expire_all()
    return db.session.get(Bid, bid.id)


def travel_after(tender: Tender, delta=timedelta(hours=2)):
    import time_machine

    return time_machine.travel(tender.submission_deadline.replace(tzinfo=timezone.utc) + delta, tick=True)


def tender_in_db(status="EN_EVALUATION", deadline=None, bids=(), reference="AO-DB-1", manual=False) -> Tender:
    """A tender prepared directly in the database (for browser tests and shortcuts).
    `bids`: [(organisation_id, region_code, answers_overrides)] deposited and admissible."""
    from datetime import date

    from quality_framework import scoring
    from quality_framework.reference import regions
    from tenders.models import DEFAULT_DOCUMENTS

    deadline = deadline or (datetime.utcnow() - timedelta(days=2))
    t = Tender(reference=reference, title="Consultation préparée", period_start=date(2027, 1, 1),
               period_end=date(2030, 12, 31), publication_at=deadline - timedelta(days=30),
               questions_deadline=deadline - timedelta(days=10), submission_deadline=deadline,
               opening_at=deadline + timedelta(hours=1),
               weights=({"CAPACITE": 30, "COUVERTURE": 25, "PROFESSIONNALISATION": 20, "PRIX": 15, "METHODO": 10}
                        if manual else dict(scoring.DEFAULT_WEIGHTS)),
               manual_criteria=[{"code": "METHODO", "label": "Méthodologie"}] if manual else [],
               parameters={"entrees_max_par_etp": 220, "delai_cible_jours": 5, "delai_max_jours": 30,
                           "heures_hors_temps_cible": 8, "experience_cible_annees": 5, "formation_cible_heures": 35},
               mandatory_documents=list(DEFAULT_DOCUMENTS), status=status)
    for i, (code, region) in enumerate(regions().items(), start=1):
        t.lots.append(Lot(number=i, title=f"Lot {i} — {region.name}", region_codes=[code], annual_demand=4000))
    db.session.add(t)
    db.session.flush()
    base = {"capacite_annuelle": 3500, "etp_conseillers": 15, "delai_premier_rdv_jours": 7,
            "sites": [{"commune": "Rennes", "departement": "35", "type": "PERMANENT"}],
            "canaux_distance": ["TELEPHONE", "VISIO"], "heures_hors_temps_travail_hebdo": 6, "nb_conseillers": 18,
            "nb_conseillers_qualifies": 12, "experience_moyenne_annees": 4, "heures_formation_par_etp": 21,
            "analyse_des_pratiques": True, "prix_annuel_eur": 1900000}
    for k, (org_id, region, over) in enumerate(bids):
        lot = next(l for l in t.lots if l.region_codes == [region])
        lot.bids.append(Bid(operator_id=org_id, status="DEPOSEE", answers={**base, **over}, neutrality_declared=True,
                            submitted_at=deadline - timedelta(hours=5 - k), admissible=True,
                            admissibility_reason="Confirmé.", auto_admissibility=[]))
    db.session.commit()
    return t
