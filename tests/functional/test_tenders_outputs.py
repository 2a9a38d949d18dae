"""Outputs: the xlsx report checked cell by cell against quality_framework, the
printable report, OCDS before award (no bids), and the CLI simulation."""
from __future__ import annotations

import json
from io import BytesIO

from openpyxl import load_workbook
from pytest import approx as _approx

from platform_core.extensions import db
from quality_framework import scoring
from quality_framework.simulation import simulate
from tenders.models import Bid, Tender
from tenders.services import bid_answers, lot_spec, tender_params
from tenders.views import SAMPLE_SIMULATION
from tests.conftest import page
from tests.functional.tenders_support import create_published_tender, full_bid, lot_of_region, travel_after


def approx(x):
    # xlsx keeps 17 significant digits: equal to the last bit or so.
    return _approx(x, rel=1e-13, abs=1e-13)


def test_xlsx_report_matches_scores(client_for, accounts):
    acheteur = client_for("acheteur")
    tender = create_published_tender(acheteur)
    lot = lot_of_region(tender, "53")
    a = full_bid(client_for("operateur"), lot)
    b = full_bid(client_for("operateur_b"), lot, prix_annuel_eur="1500000", delai_premier_rdv_jours="12",
                 neutralite=None)
    tid, lid = tender.id, lot.id
    with travel_after(tender):
        acheteur = client_for("acheteur")
        acheteur.post(f"/appels-offres/{tid}/ouvrir")
        acheteur.post(f"/appels-offres/offres/{a.id}/recevabilite", data={"verdict": "admissible", "reason": "OK"})
        acheteur.post(f"/appels-offres/offres/{b.id}/recevabilite",
                      data={"verdict": "inadmissible", "reason": "Pas de déclaration de neutralité."})
        db.session.expire_all()
        bb = db.session.get(Bid, b.id)
        assert bb.auto_admissibility[0][0] == "NO_NEUTRALITY_DECLARATION" and bb.admissible is False
        r = acheteur.get(f"/appels-offres/{tid}/rapport.xlsx")
        assert r.status_code == 200
        wb = load_workbook(BytesIO(r.data))
        assert wb.sheetnames[0] == "Synthèse" and len(wb.sheetnames) == 19
        ws = wb["Lot 8"]
        headers = [c.value for c in ws[1]]
        tender = db.session.get(Tender, tid)
        lot = next(l for l in tender.lots if l.id == lid)
        qbids = [scoring.Bid(str(x.id), bid_answers(x), x.submitted_at, x.admissible)
                 for x in (db.session.get(Bid, a.id), db.session.get(Bid, b.id))]
        expected = scoring.rank_bids(qbids, lot_spec(lot), tender.weights, tender_params(tender))
        rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
        assert len(rows) == 2
        for exp, row in zip(expected, rows):
            cell = dict(zip(headers, row))
            assert cell["Offre"] == int(exp.bid.id)
            assert cell["Rang"] == exp.rank
            if exp.score is None:
                assert cell["Total"] is None and cell["Recevable"] == "non"
                continue
            assert cell["Total"] == approx(exp.score.total)
            assert cell["Total hors prix"] == approx(exp.score.non_price_total)
            for name in scoring.SUB_SCORES:
                assert cell[name] == approx(exp.score.sous_scores[name])
                assert cell[f"{name} — formule"] == exp.score.explanations[name].formula
            for code in scoring.AUTOMATIC_CRITERIA:
                key = next(h for h in headers if h.startswith(f"Points {code} "))
                assert cell[key] == approx(exp.score.points[code])
        # Printable page: same totals, two decimals.
        text = page(acheteur.get(f"/appels-offres/{tid}/rapport"))
        assert f"{expected[0].score.total:.2f}".replace(".", ",") in text


def test_ocds_before_award_has_no_bid(client_for, accounts):
    tender = create_published_tender(client_for("acheteur"))
    full_bid(client_for("operateur"), lot_of_region(tender, "53"))
    data = client_for("observateur").get(f"/appels-offres/{tender.id}/ocds.json").get_json()
    release = data["releases"][0]
    assert "bids" not in release and release["awards"] == [] and len(release["tender"]["lots"]) == 18
    assert release["tender"]["status"] == "active"


def test_simulation_page(client_for):
    c = client_for("acheteur")
    r = c.post("/appels-offres/simulation", data={"input": json.dumps(SAMPLE_SIMULATION)})
    expected = simulate(SAMPLE_SIMULATION)
    assert f"{expected[0]['total']:.2f}".replace(".", ",") in page(r)
    r = c.post("/appels-offres/simulation", data={"input": "{pas du json"})
    assert "JSON invalide" in page(r)


def test_cli_simulate(app, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "in.json"
    good.write_text(json.dumps(SAMPLE_SIMULATION), encoding="utf-8")
    result = runner.invoke(args=["tenders", "simulate", str(good)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == simulate(SAMPLE_SIMULATION)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"lot": {"departements": ["35"], "demande_annuelle": 10},
                               "criteres": {"CAPACITE": 50, "PRIX": 40}, "offres": []}), encoding="utf-8")
    for path, message in ((bad, "la somme des poids doit être égale à 100"),
                          (tmp_path / "absent.json", "Fichier introuvable"),
                          (tmp_path / "broken.json", "JSON invalide")):
        if path.name == "broken.json":
            path.write_text("{", encoding="utf-8")
        result = runner.invoke(args=["tenders", "simulate", str(path)])
        assert result.exit_code == 1
        assert message in result.stderr and result.stdout == ""
