"""The « rapport d'analyse des offres » data (shared by the printable page, the xlsx
and the tests): every bid × every criterion, with inputs, sub-scores, marks, totals
and ranks — all computed by quality_framework.scoring through services.rank_lot."""
from __future__ import annotations

from openpyxl.styles import Font

from platform_core.exports import add_table, new_workbook, safe_text, workbook_bytes
from platform_core.formatting import fr_datetime
from quality_framework import scoring

from .models import Tender
from .services import criterion_label, deposited_bids, load_bids, marks_by_bid, rank_lot


def lot_rows(lot, marks: dict | None = None) -> list[dict]:
    """`marks`: marks by bid id, when the caller loaded them for several lots at once."""
    if marks is None:
        load_bids([lot])
        marks = marks_by_bid(b.id for b in deposited_bids(lot))
    return [{"bid": bid, "ranked": r, "marks": marks.get(bid.id, [])} for bid, r in rank_lot(lot, marks)]


def tender_rows(tender: Tender) -> list[tuple]:
    """[(lot, lot_rows)] for every lot: bids, operators, documents and marks of the whole
    tender are loaded in a few statements, whatever the number of lots and bids."""
    lots = list(tender.lots)
    load_bids(lots)
    marks = marks_by_bid(b.id for lot in lots for b in deposited_bids(lot))
    return [(lot, lot_rows(lot, marks)) for lot in lots]


def report_headers(tender: Tender) -> list[str]:
    headers = ["Rang", "Offre", "Candidat", "Déposée le", "Recevable", "Motif de recevabilité"]
    for name in scoring.SUB_SCORES:
        headers += [f"{name} — données", f"{name} — formule", name]
    for code in tender.weights:
        headers.append(f"Points {code} ({criterion_label(tender, code)})")
    for code in tender.manual_codes():
        headers.append(f"Notes {code} (auteur, note, justification)")
    headers += ["Total hors prix", "Total"]
    return headers


def report_row(tender: Tender, row: dict) -> list:
    bid, r = row["bid"], row["ranked"]
    out = [r.rank, bid.id, bid.operator.name, fr_datetime(bid.submitted_at),
           "oui" if r.bid.admissible else "non", bid.admissibility_reason or ""]
    for name in scoring.SUB_SCORES:
        if r.score:
            e = r.score.explanations[name]
            out += ["; ".join(f"{k} = {v}" for k, v in e.inputs.items()), e.formula, e.value]
        else:
            out += ["", "", None]
    for code in tender.weights:
        if r.score:
            out.append(r.score.points[code] if code in scoring.AUTOMATIC_CRITERIA else r.score.manual_points[code])
        else:
            out.append(None)
    for code in tender.manual_codes():
        parts = [f"{'MODÉRATION ' if m.is_moderation else ''}{m.evaluator.full_name} : {scoring.fmt(m.mark)}/4 — {m.justification}"
                 for m in row["marks"] if m.criterion == code]
        out.append(" | ".join(parts))
    out += [r.score.non_price_total if r.score else None, r.score.total if r.score else None]
    return out


def build_xlsx(tender: Tender) -> bytes:
    wb = new_workbook()
    summary = wb.create_sheet("Synthèse")
    summary_rows = []
    for lot, rows in tender_rows(tender):
        ws = wb.create_sheet(f"Lot {lot.number}"[:31])
        add_table(ws, report_headers(tender), [report_row(tender, row) for row in rows])
        first = next((row for row in rows if row["ranked"].rank == 1), None)
        summary_rows.append([lot.number, lot.title, ", ".join(lot.region_codes), lot.annual_demand, len(rows),
                             sum(1 for row in rows if row["ranked"].bid.admissible), lot.status_label,
                             first["bid"].operator.name if first else "", first["ranked"].score.total if first else None])
    add_table(summary, ["Lot", "Intitulé", "Régions", "Demande annuelle", "Offres déposées", "Offres recevables",
                        "Statut", "Offre classée première", "Total de la première"], summary_rows)
    summary.insert_rows(1, 2)
    summary["A1"] = safe_text(f"Rapport d'analyse des offres — {tender.reference} — {tender.title}")
    summary["A1"].font = Font(bold=True)
    return workbook_bytes(wb)
