"""Audit lifecycle through HTTP: creation, grid, score, submission, validation (findings
and corrective actions with due dates), closure; forbidden transitions; bad input."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from audit.quality.models import Audit, AuditRating, CorrectiveAction, Finding, QualityFile
from platform_core.extensions import db
from quality_framework.audit_rules import add_months
from tests.conftest import page
from tests.functional.quality_support import PDF, all_leaves, make_audit, make_contract, make_workbook


@pytest.fixture
def setup(accounts):
    contract = make_contract(accounts["_orgs"]["op_a"])
    audit = make_audit(contract, 2025, accounts["auditeur"])
    return contract, audit


def _audit(audit_id) -> Audit:
    db.session.expire_all()
    return db.session.get(Audit, audit_id)


def _move(client, audit_id, to):
    version = _audit(audit_id).version
    return client.post(f"/suivi/audits/{audit_id}/etat", data={"to": to, "version": version}, follow_redirects=True)


def _rate(client, audit_id, ind, rating, observation="", justification="", version=0, **files):
    data = {"rating": rating, "observation": observation, "justification": justification, "version": version}
    data.update(files)
    return client.post(f"/suivi/audits/{audit_id}/grille/{ind}", data=data, content_type="multipart/form-data")


def test_officer_creates_an_audit_by_hand(client_for, accounts):
    contract = make_contract(accounts["_orgs"]["op_a"])
    officer = client_for("acheteur")
    assert officer.get("/suivi/audits/nouveau").status_code == 200
    from audit.quality.models import ReferentialVersion
    version_id = db.session.scalar(select(ReferentialVersion.id))
    form = {"contract_id": contract.id, "year": 2025, "version_id": version_id, "lead_id": accounts["auditeur"],
            "planned_start": "2025-04-01", "planned_end": "2025-05-15"}
    response = officer.post("/suivi/audits/nouveau", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    audit = db.session.scalar(select(Audit))
    assert (audit.year, audit.state, audit.lead_auditor_id, audit.referential_version_id) == \
        (2025, "planifie", accounts["auditeur"], version_id)
    # the same contract and year twice: refused, nothing created
    response = officer.post("/suivi/audits/nouveau", data=form)
    assert response.status_code == 400 and "Un audit existe déjà" in page(response)
    # a year outside the contract
    response = officer.post("/suivi/audits/nouveau", data={**form, "year": 2030})
    assert response.status_code == 400 and "ne couvre pas l'année 2030" in page(response)
    # a lead auditor with a declared conflict with the operator is refused
    from audit.quality.models import AuditorConflict
    db.session.add(AuditorConflict(auditor_id=accounts["auditeur"], organisation_id=contract.operator_id,
                                   reason="ancien salarié"))
    db.session.commit()
    response = officer.post("/suivi/audits/nouveau", data={**form, "year": 2026})
    assert response.status_code == 400 and "conflit d'intérêts" in page(response)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Audit.id))) == 1


def test_full_lifecycle_with_forbidden_transitions(client_for, setup, app):
    contract, audit = setup
    auditor = client_for("auditeur")
    # forbidden: planifié -> validé
    text = page(_move(auditor, audit.id, "valide"))
    assert "Changement refusé" in text and "impossible" in text
    assert _audit(audit.id).state == "planifie"
    assert "en cours" in page(_move(auditor, audit.id, "en_cours"))
    assert _audit(audit.id).state == "en_cours"
    # submission with unrated indicators is refused
    text = page(_move(auditor, audit.id, "soumis"))
    assert "soumission impossible" in text and "indicateur non noté" in text
    assert _audit(audit.id).state == "en_cours"
    leaves = all_leaves()
    ratings = {ind: "CONFORME" for ind in leaves}
    ratings.update({"A5": "NC_MAJEURE", "B4": "NC_MINEURE", "C4": "NON_APPLICABLE"})
    for ind, value in ratings.items():
        response = _rate(auditor, audit.id, ind, value, observation="" if value == "CONFORME" else "vu",
                         justification="aucun public concerné" if value == "NON_APPLICABLE" else "")
        assert response.status_code == 302, page(response)
    # score by hand: weights A5=A6=A7=2, others 1 -> total 29; N/A C4 (1) out -> 28 applicable;
    # non-conform A5 (2) + B4 (1) -> 25/28
    text = page(auditor.get(f"/suivi/audits/{audit.id}/grille"))
    assert "89,3\u202f%" in text
    assert "Non-conformité majeure : A5" in text
    assert "Non applicables (hors score) : C4" in text
    _move(auditor, audit.id, "soumis")
    assert _audit(audit.id).state == "soumis"
    # ratings are frozen once submitted
    response = _rate(auditor, audit.id, "A1", "NC_MINEURE", observation="trop tard")
    db.session.expire_all()
    assert db.session.scalar(select(AuditRating.rating).where(AuditRating.indicator_id == "A1")) == "CONFORME"
    # an operator cannot move an audit
    assert client_for("operateur").post(f"/suivi/audits/{audit.id}/etat", data={"to": "valide"}).status_code == 403
    text = page(_move(auditor, audit.id, "valide"))
    a = _audit(audit.id)
    assert a.state == "valide" and a.validated_on is not None
    assert round(a.score, 4) == round(25 / 28, 4) and a.has_major
    # findings and corrective actions with due dates: 3 months major, 6 minor
    findings = {f.indicator_id: f for f in db.session.scalars(select(Finding))}
    assert set(findings) == {"A5", "B4"}
    actions = {a_.finding.indicator_id: a_ for a_ in db.session.scalars(select(CorrectiveAction))}
    assert actions["A5"].due_on == add_months(a.validated_on, 3)
    assert actions["B4"].due_on == add_months(a.validated_on, 6)
    assert actions["A5"].state == "a_proposer"
    # closing with open actions is refused
    text = page(_move(auditor, audit.id, "clos"))
    assert "clôture impossible" in text and "2 action(s) corrective(s) non close(s)" in text
    assert _audit(audit.id).state == "valide"

    # corrective actions: operator proposes, auditor returns then accepts, operator proves, auditor closes
    operator = client_for("operateur")
    detail = page(operator.get(f"/suivi/audits/{audit.id}"))
    assert "A5 — Neutralité" in detail and "à proposer" in detail

    def step(client, action_id, to, text="", **extra):
        version = db.session.get(CorrectiveAction, action_id).version
        data = {"to": to, "text": text, "version": version, **extra}
        response = client.post(f"/suivi/audits/actions/{action_id}/etat", data=data,
                               content_type="multipart/form-data", follow_redirects=True)
        db.session.expire_all()
        return page(response)

    for ind, action in actions.items():
        aid = action.id
        assert "décrivez l'action" in step(operator, aid, "proposee")  # proposal without text
        assert db.session.get(CorrectiveAction, aid).state == "a_proposer"
        step(operator, aid, "proposee", "Former l'équipe")
        assert "motif du renvoi" in step(auditor, aid, "renvoyee")
        step(auditor, aid, "renvoyee", "Trop vague")
        assert db.session.get(CorrectiveAction, aid).state == "renvoyee"
        step(operator, aid, "proposee", "Former l'équipe le 3 mars, charte signée")
        assert "revient à l'auditeur" in step(operator, aid, "acceptee")  # the operator cannot accept
        step(auditor, aid, "acceptee")
        assert "preuve de réalisation" in step(operator, aid, "realisee", "fait")
        step(operator, aid, "realisee", "fait", evidence=(io.BytesIO(PDF), "preuve.pdf"))
        assert db.session.get(CorrectiveAction, aid).state == "realisee"
        step(auditor, aid, "close")
    assert _audit(audit.id).state == "clos"  # every action closed: the audit is closed


def test_bad_rating_input_changes_nothing(client_for, setup, app):
    _, audit = setup
    auditor = client_for("auditeur")
    response = _rate(auditor, audit.id, "A1", "NC_MINEURE")
    assert response.status_code == 400
    assert "une observation écrite est obligatoire" in page(response).lower()
    response = _rate(auditor, audit.id, "A1", "NON_APPLICABLE", observation="pas de public")
    assert response.status_code == 400 and "doit être justifiée" in page(response)
    response = _rate(auditor, audit.id, "A1", "EXCELLENT", observation="x")
    assert response.status_code == 400 and "note inconnue" in page(response).lower()
    response = _rate(auditor, audit.id, "A1", "CONFORME",
                     evidence=(io.BytesIO(b"MZ\x90\x00 not allowed"), "outil.exe"))
    assert response.status_code == 400 and "Type de fichier non accepté" in page(response)
    app.config["QUALITY_EVIDENCE_MAX_BYTES"] = 100
    response = _rate(auditor, audit.id, "A1", "CONFORME", evidence=(io.BytesIO(PDF + b"x" * 200), "gros.pdf"))
    assert response.status_code == 400 and "taille maximale" in page(response)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(AuditRating.id))) == 0
    assert db.session.scalar(select(func.count(QualityFile.id))) == 0
    app.config["QUALITY_EVIDENCE_MAX_BYTES"] = 10 * 1024 * 1024
    response = _rate(auditor, audit.id, "A1", "CONFORME", evidence=(io.BytesIO(PDF), "charte.pdf"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.count(QualityFile.id))) == 1
    assert "charte.pdf" in page(auditor.get(f"/suivi/audits/{audit.id}/grille"))


def test_optimistic_locking_on_ratings(client_for, setup, app, accounts):
    _, audit = setup
    from audit.quality.models import AuditAssignment
    db.session.add(AuditAssignment(audit_id=audit.id, auditor_id=accounts["auditeur"]))
    db.session.commit()
    auditor = client_for("auditeur")
    assert _rate(auditor, audit.id, "A2", "CONFORME", version=0).status_code == 302
    # a second save based on the stale form (version 0) is refused
    response = _rate(auditor, audit.id, "A2", "NC_MAJEURE", observation="autre avis", version=0)
    text = page(auditor.get(f"/suivi/audits/{audit.id}/grille"))
    assert response.status_code == 302 and "modifiée entre-temps" in text
    db.session.expire_all()
    row = db.session.scalar(select(AuditRating).where(AuditRating.indicator_id == "A2"))
    assert row.rating == "CONFORME"
    assert _rate(auditor, audit.id, "A2", "NC_MAJEURE", observation="autre avis", version=row.version).status_code == 302


def test_linked_figures_and_alerts_beside_indicators(client_for, setup):
    contract, audit = setup
    counts = {"entrees": 200, "sorties": 100, "entrees_niveau1": 20, "sorties_courtes": 10,
              "distributions": {"type_sortie": {"ABANDON": 40, "PLAN_ACTION": 60},
                                "canal": {"PRESENTIEL": 150, "DISTANCE": 50}}}
    make_workbook(contract, 2025, counts, means={"delai_moyen_premier_rdv_jours": 12})
    text = page(client_for("auditeur").get(f"/suivi/audits/{audit.id}/grille"))

    def beside(ind):
        return re.sub(r"<[^>]+>", "", text.split(f'data-testid="figures-{ind}"')[1].split('data-testid="indicator-')[0])

    b6 = beside("B6")
    assert "Taux d'abandon : 40,0\u202f%" in b6
    assert "Taux d'abandon : 40,0\u00a0%, supérieur au seuil d'alerte de 25,0\u00a0%." in b6
    c2 = beside("C2")
    assert "PRESENTIEL : 150 (75,0\u202f%)" in c2
    assert "Délai moyen d'accès au premier rendez-vous (jours) : 12" in beside("C5")
    assert "Taux d'abandon" not in beside("A1")
    assert "bilan 2025, version 1" in text


def test_stale_audit_form_changes_nothing(client_for, setup):
    _, audit = setup
    response = client_for("auditeur").post(f"/suivi/audits/{audit.id}/etat", data={"to": "en_cours", "version": 99},
                                           follow_redirects=True)
    assert "modifié entre-temps" in page(response)
    assert _audit(audit.id).state == "planifie"


def test_alerts_use_the_campaign_thresholds(client_for, setup):
    from audit.workbooks.models import AlertThresholds

    contract, audit = setup
    make_workbook(contract, 2025, {"sorties": 100, "distributions": {"type_sortie": {"ABANDON": 40}}})
    db.session.add(AlertThresholds(year=2025, thresholds={"taux_abandon": 0.5}))
    db.session.commit()
    text = page(client_for("auditeur").get(f"/suivi/audits/{audit.id}/grille"))
    assert "supérieur au seuil" not in text.split('data-testid="figures-B6"')[1].split('data-testid="indicator-')[0]


def test_officer_designates_a_lead_then_adds_an_auditor(client_for, accounts):
    contract = make_contract(accounts["_orgs"]["op_a"])
    audit = make_audit(contract, 2025, None)
    officer = client_for("acheteur")
    assert "Désigner l'auditeur principal" in page(officer.get(f"/suivi/audits/{audit.id}"))
    officer.post(f"/suivi/audits/{audit.id}/auditeurs", data={"auditor_id": accounts["auditeur"]})
    assert _audit(audit.id).lead_auditor_id == accounts["auditeur"]
    r = officer.post(f"/suivi/audits/{audit.id}/auditeurs", data={"auditor_id": accounts["operateur"]},
                     follow_redirects=True)
    assert "rôle auditeur" in page(r)
    assert client_for("auditeur").get(f"/suivi/audits/{audit.id}/grille").status_code == 200
