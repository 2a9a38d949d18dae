"""The report as an xlsx: one sheet per scale (Contrats, Régions, National), the
payments, native Excel charts that reference the sheets' cells, and the sources.
Built from the same report structure as the page; user text goes through safe_text."""
from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.worksheet.worksheet import Worksheet

from platform_core.exports import add_table, new_workbook, safe_text, workbook_bytes
from quality_framework.fund_use_report import SUMMARY_COLUMNS, summary

FORMATS = {"euros": '#,##0.00 "€"', "percent": "0.0%", "number": "#,##0.##"}
SUMMARY_KEYS = [key for key, _, _ in SUMMARY_COLUMNS]
SUMMARY_LABELS = [label for _, label, _ in SUMMARY_COLUMNS]


def _format_columns(ws: Worksheet, first_col: int, first_row: int, last_row: int) -> None:
    for offset, (_, _, kind) in enumerate(SUMMARY_COLUMNS):
        fmt = FORMATS.get(kind)
        if not fmt:
            continue
        for row in range(first_row, last_row + 1):
            ws.cell(row=row, column=first_col + offset).number_format = fmt


def _bar(ws: Worksheet, title: str, value_col: int, label_col: int, rows: int,
         anchor: str, y_title: str) -> None:
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.y_axis.title = y_title
    chart.add_data(Reference(ws, min_col=value_col, min_row=1, max_row=rows + 1),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=label_col, min_row=2, max_row=rows + 1))
    chart.height, chart.width = max(7.5, 0.6 * rows + 3), 18
    ws.add_chart(chart, anchor)


def _col(key: str, offset: int) -> int:
    """1-based column of a summary figure in a sheet whose summary starts at `offset`+1."""
    return offset + 1 + SUMMARY_KEYS.index(key)


def _contracts_sheet(wb, report) -> None:
    ws = wb.create_sheet("Contrats")
    headers = ["Référence", "Opérateur", "Région", *SUMMARY_LABELS,
               "Position coût par entrée", "Version du bilan (id)", "Dernier audit (score)",
               "Non-conformité majeure"]
    rows = []
    for b in report["contracts"]:
        audit = b["quality"]["audit"]
        version = b["source"]["version"]
        rows.append([b["reference"], b["operator"], b["region_code"],
                     *summary(b).values(),
                     b["efficiency"]["cout_par_entree"]["position"]["label_fr"],
                     version["id"] if version else "aucun bilan",
                     audit["score"] if audit else "aucun audit",
                     ("oui" if audit["has_major"] else "non") if audit else ""])
    add_table(ws, headers, rows)
    _format_columns(ws, 4, 2, len(rows) + 1)
    if rows:
        anchor_col = len(headers) + 2
        from openpyxl.utils import get_column_letter
        letter = get_column_letter(anchor_col)
        _bar(ws, "Coût par entrée par contrat", _col("cout_par_entree", 3), 1, len(rows),
             f"{letter}2", "€")
        _bar(ws, "Entrées par contrat", _col("entrees", 3), 1, len(rows),
             f"{letter}{max(20, len(rows) + 6)}", "entrées")


def _regions_sheet(wb, report) -> None:
    ws = wb.create_sheet("Régions")
    headers = ["Code", "Région", *SUMMARY_LABELS, "Position coût par entrée"]
    rows = [[r["id"], r["label"], *summary(r).values(),
             r["efficiency"]["cout_par_entree"]["position"]["label_fr"]]
            for r in report["regions"]]
    add_table(ws, headers, rows)
    _format_columns(ws, 3, 2, len(rows) + 1)
    if rows:
        from openpyxl.utils import get_column_letter
        letter = get_column_letter(len(headers) + 2)
        _bar(ws, "Coût par entrée par région", _col("cout_par_entree", 2), 2, len(rows),
             f"{letter}2", "€")
        _bar(ws, "Entrées par région", _col("entrees", 2), 2, len(rows),
             f"{letter}{max(20, len(rows) + 6)}", "entrées")


def _national_sheet(wb, report) -> None:
    ws = wb.create_sheet("National")
    national = report.get("national")
    if national is not None:
        add_table(ws, ["Périmètre", *SUMMARY_LABELS],
                  [["National", *summary(national).values()]])
        _format_columns(ws, 2, 2, 2)
    else:
        ws.append(["Les totaux nationaux ne font pas partie de votre périmètre."])
    ws.append([])
    ws.append(["Médianes nationales (contrats)", "Valeur"])
    labels = {"cout_par_entree": "Coût par entrée", "cout_par_heure": "Coût par heure",
              "entrees_par_etp": "Entrées par ETP"}
    for key, label in labels.items():
        ws.append([label, report["medians"][key]])
    evolution = report.get("evolution")
    if national is not None and evolution and evolution.get("national"):
        ws.append([])
        start = ws.max_row + 1
        keys = [("entrees", "Entrées"), ("cout_par_entree", "Coût par entrée"),
                ("paid_total", "Total payé"), ("variable_earned", "Part variable gagnée")]
        ws.append(["Année", *(label for _, label in keys)])
        for year, figures in zip(evolution["years"], evolution["national"]):
            ws.append([str(year), *(figures[k] for k, _ in keys)])
        end = ws.max_row
        for col, (title, y_title) in ((2, ("Entrées par année", "entrées")),
                                      (3, ("Coût par entrée par année", "€"))):
            chart = LineChart()
            chart.title = title
            chart.y_axis.title = y_title
            chart.add_data(Reference(ws, min_col=col, min_row=start, max_row=end),
                           titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=1, min_row=start + 1, max_row=end))
            ws.add_chart(chart, f"{'H' if col == 2 else 'R'}{start}")


def _evolution_sheet(wb, report) -> None:
    """Every year on record up to N, at every scale the reader may see."""
    evolution = report.get("evolution")
    if not evolution:
        return
    ws = wb.create_sheet("Évolution")
    labels = {b["id"]: b["reference"] for b in report["contracts"]}
    region_labels = {r["id"]: r["label"] for r in report["regions"]}
    rows = []
    if evolution.get("national"):
        for year, figures in zip(evolution["years"], evolution["national"]):
            rows.append([year, "national", "National", *figures.values()])
    for code, per_year in sorted(evolution["regions"].items()):
        for year, figures in sorted(per_year.items()):
            rows.append([year, "région", region_labels.get(code, code), *figures.values()])
    for cid, per_year in evolution["contracts"].items():
        for year, figures in sorted(per_year.items()):
            rows.append([year, "contrat", labels.get(cid, str(cid)), *figures.values()])
    add_table(ws, ["Année", "Échelle", "Périmètre", *SUMMARY_LABELS], rows)
    _format_columns(ws, 4, 2, len(rows) + 1)


def _payments_sheet(wb, report) -> None:
    ws = wb.create_sheet("Paiements")
    rows = [[p["id"], p["contract_reference"], p["year"], p["paid_on"], p["kind"],
             p["amount"], p["reference"], p["reverses_payment_id"] or ""]
            for p in report["sources"]["payments"]]
    add_table(ws, ["N° paiement", "Contrat", "Année", "Date", "Nature", "Montant (€)",
                   "Référence", "Annule le paiement n°"], rows)
    for row in range(2, len(rows) + 2):
        ws.cell(row=row, column=4).number_format = "DD/MM/YYYY"
        ws.cell(row=row, column=6).number_format = FORMATS["euros"]


def _sources_sheet(wb, report) -> None:
    ws = wb.create_sheet("Sources")
    ws.append([safe_text(f"Rapport sur l'usage des fonds {report['year']} : chiffres calculés "
                         "à partir des versions de bilan et des paiements ci-dessous.")])
    ws.append([])
    ws.append(["Contrat", "Version (id)", "Numéro", "Déposée le (UTC)", "SHA-256"])
    for v in report["sources"]["versions"]:
        ws.append([safe_text(v["contract_reference"]), v["version_id"], v["number"],
                   v["uploaded_at"], v["sha256"]])
    ws.append([])
    ws.append(["Paiements utilisés (n°)", ", ".join(str(p["id"]) for p in report["sources"]["payments"])])


def report_workbook(report: dict[str, Any]) -> bytes:
    wb = new_workbook()
    _contracts_sheet(wb, report)
    _regions_sheet(wb, report)
    _national_sheet(wb, report)
    _evolution_sheet(wb, report)
    _payments_sheet(wb, report)
    _sources_sheet(wb, report)
    return workbook_bytes(wb)
