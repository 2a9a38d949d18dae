"""Open Contracting Data Standard 1.1 release package of a tender: tender, lots,
awards and contracts; bid details only for lots already awarded (or infructueux)."""
from __future__ import annotations

from flask import request
from sqlalchemy import select

from platform_core.clock import now
from platform_core.extensions import db

from .models import Contract, Tender
from .services import load_bids

OCID_PREFIX = "ocds-cepfc"
_STATUS = {"BROUILLON": "planning", "PUBLIEE": "active", "CLOTUREE": "active", "OUVERTE": "active",
           "EN_EVALUATION": "active", "CLASSEE": "active", "ATTRIBUEE": "complete", "ANNULEE": "cancelled"}
_LOT_STATUS = {"OUVERT": "active", "CLASSE": "active", "ATTRIBUE": "complete", "INFRUCTUEUX": "unsuccessful"}


def _iso(value):
    return value.isoformat() + "Z" if hasattr(value, "hour") else (value.isoformat() if value else None)


def release_package(tender: Tender) -> dict:
    buyer = {"id": "FR-SIREN-FC", "name": "France compétences", "roles": ["buyer", "procuringEntity"]}
    parties, bids, awards, contracts = [buyer], [], [], []
    decided = [lot for lot in tender.lots if lot.status in ("ATTRIBUE", "INFRUCTUEUX")]
    seen = set()
    load_bids(decided)  # bids and tenderers in a few statements, not one per lot and bid
    for lot in decided:
        for bid in [b for b in lot.bids if b.status == "DEPOSEE"]:
            org = bid.operator
            if org.id not in seen:
                seen.add(org.id)
                parties.append({"id": f"FR-SIRET-{org.siret}", "name": org.name, "roles": ["tenderer"],
                                "identifier": {"scheme": "FR-SIRET", "id": org.siret}})
            bids.append({"id": f"bid-{bid.id}", "date": _iso(bid.submitted_at),
                         "status": "valid" if bid.admissible else "disqualified",
                         "tenderers": [{"id": f"FR-SIRET-{org.siret}", "name": org.name}],
                         "value": {"amount": bid.answers.get("prix_annuel_eur"), "currency": "EUR"},
                         "relatedLots": [f"lot-{lot.number}"],
                         "rank": bid.final_rank, "score": bid.final_total})
    contract_by_lot = {c.lot_id: c for c in db.session.scalars(
        select(Contract).where(Contract.lot_id.in_([lot.id for lot in decided] or [0]))).all()}
    for lot in decided:
        if lot.status != "ATTRIBUE":
            continue
        c = contract_by_lot.get(lot.id)
        winner = next((b for b in lot.bids if b.id == lot.awarded_bid_id), None)
        if winner is None:
            continue
        for p in parties:
            if p["id"] == f"FR-SIRET-{winner.operator.siret}" and "supplier" not in p["roles"]:
                p["roles"].append("supplier")
        award_id = f"award-lot-{lot.number}"
        awards.append({"id": award_id, "status": "active", "date": _iso(lot.crefop_date),
                       "title": f"Attribution du lot {lot.number}",
                       "value": {"amount": winner.answers.get("prix_annuel_eur"), "currency": "EUR"},
                       "suppliers": [{"id": f"FR-SIRET-{winner.operator.siret}", "name": winner.operator.name}],
                       "relatedLots": [f"lot-{lot.number}"],
                       "contractPeriod": {"startDate": _iso(tender.period_start), "endDate": _iso(tender.period_end)}})
        if c:
            contracts.append({"id": c.reference, "awardID": award_id, "status": "active",
                              "period": {"startDate": _iso(c.starts_on), "endDate": _iso(c.ends_on)},
                              "value": {"amount": float(c.annual_price), "currency": "EUR"},
                              "description": f"Capacité annuelle {c.annual_capacity} entrées ; part fixe "
                                             f"{c.fixed_share:.0%}, part variable {c.variable_share:.0%} (prix annuel)."})
    status = tender.effective_status()
    release = {
        "ocid": f"{OCID_PREFIX}-{tender.reference}",
        "id": f"{tender.reference}-{status.lower()}",
        "date": _iso(now()),
        "tag": ["tender"] + (["award", "contract"] if awards else []),
        "initiationType": "tender",
        "language": "fr",
        "parties": parties,
        "buyer": {"id": buyer["id"], "name": buyer["name"]},
        "tender": {
            "id": tender.reference, "title": tender.title, "status": _STATUS[status],
            "procurementMethod": "open", "mainProcurementCategory": "services",
            "submissionMethod": ["electronicSubmission"],
            "tenderPeriod": {"startDate": _iso(tender.publication_at), "endDate": _iso(tender.submission_deadline)},
            "enquiryPeriod": {"startDate": _iso(tender.publication_at), "endDate": _iso(tender.questions_deadline)},
            "awardCriteria": "ratedCriteria",
            "awardCriteriaDetails": ", ".join(f"{k} {v}" for k, v in tender.weights.items()),
            "contractPeriod": {"startDate": _iso(tender.period_start), "endDate": _iso(tender.period_end)},
            "documents": [{"id": f"doc-{i}", "title": d, "documentType": "eligibilityCriteria"}
                          for i, d in enumerate(tender.mandatory_documents, start=1)],
            "lots": [{"id": f"lot-{lot.number}", "title": lot.title, "status": _LOT_STATUS[lot.status],
                      "description": f"Régions {', '.join(lot.region_codes)} ; demande annuelle {lot.annual_demand} entrées"}
                     for lot in tender.lots],
        },
        "awards": awards,
        "contracts": contracts,
    }
    if bids:
        release["bids"] = {"details": bids}
    return {"uri": request.url if request else "", "version": "1.1", "publishedDate": _iso(now()),
            "publisher": {"name": "France compétences"}, "releases": [release]}
